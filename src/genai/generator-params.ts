import { binding, type NativeGeneratorParams } from '../native.js';
import type { Model } from './model.js';
import { NativeOwner } from './native-owner.js';
import {
  isBooleanSearchOption,
  parseSearchOptions,
  SEARCH_OPTION_NAMES,
  searchOptionName,
  type SearchOptions,
} from './search-options.js';

export type GuidanceType = 'json_schema' | 'regex' | 'lark_grammar';

/** Search options and guidance for one Generator (ORT-GenAI's `og.GeneratorParams`). */
export class GeneratorParams extends NativeOwner<NativeGeneratorParams> {

  constructor(model: Model) {
    super(binding().GeneratorParams.create(model.native));
  }

  /** Sets ORT-GenAI search options by their own names (max_length, num_beams, ...); validated first, undefined skipped. */
  setSearchOptions(options: SearchOptions): void {
    const parsed = parseSearchOptions(options);
    for (const [name, value] of Object.entries(parsed)) {
      if (value === undefined) continue;
      if (typeof value === 'boolean') this.native.setSearchBool(name, value);
      else this.native.setSearchNumber(name, value);
    }
  }

  /** The current value of one search option (defaults come from genai_config.json). */
  getSearchOption<K extends keyof SearchOptions>(name: K): Required<SearchOptions>[K] {
    const known = searchOptionName(name);
    const value = isBooleanSearchOption(known) ? this.native.getSearchBool(known) : this.native.getSearchNumber(known);
    return value as Required<SearchOptions>[K];
  }

  /** Every search option's current value, like `og.GeneratorParams.get_search_options()`. */
  getSearchOptions(): Required<SearchOptions> {
    return Object.fromEntries(SEARCH_OPTION_NAMES.map((name) => [name, this.getSearchOption(name)])) as Required<SearchOptions>;
  }

  /** Constrained decoding: a JSON schema, a regular expression or a Lark grammar the output must match. */
  setGuidance(type: GuidanceType, data: string, enableFfTokens = false): void {
    this.native.setGuidance(type, data, enableFfTokens);
  }
}
