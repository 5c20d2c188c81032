import { ValidationError } from '../errors.js';
import { binding, type NativeTokenizer, type NativeTokenizerStream } from '../native.js';
import { NativeOwner } from './native-owner.js';

/** Token ids of several texts as one row-major matrix, shorter rows padded with `padTokenId`. */
export interface TokenMatrix {
  data: Int32Array;
  /** [rows, columns] */
  shape: [number, number];
}

/** Tokenizer options of ORT-GenAI's `OgaUpdateTokenizerOptions`; unknown keys are refused by the library. */
export interface TokenizerOptions {
  /** Add BOS/EOS and the like when encoding (library default false). */
  add_special_tokens?: boolean | string;
  /** Drop special tokens when decoding (library default true). */
  skip_special_tokens?: boolean | string;
  [key: string]: boolean | string | undefined;
}

function isTokenMatrix(value: unknown): value is TokenMatrix {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'shape' in value && 'data' in value;
}

export interface ChatMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface ChatTemplateOptions {
  /** A Jinja chat template; defaults to the one in tokenizer_config.json. */
  template?: string;
  /** Tool definitions as a JSON string, for templates that render them. */
  tools?: string;
  /** Append the assistant turn's opening (default true). */
  addGenerationPrompt?: boolean;
}

/** Incremental decoder: feed tokens one at a time, get text that never splits a multi-byte character. */
export class TokenizerStream extends NativeOwner<NativeTokenizerStream> {
  /** @internal */
  constructor(native: NativeTokenizerStream) {
    super(native);
  }

  /** Text completed by this token ('' while a character or word is still incomplete). */
  decode(token: number): string {
    return this.native.decode(token);
  }
}

/** The model's tokenizer (tokenizer.json + tokenizer_config.json). Get it from `model.tokenizer`. */
export class Tokenizer extends NativeOwner<NativeTokenizer> {
  /** @internal */
  constructor(native: NativeTokenizer) {
    super(native);
  }

  encode(text: string): Int32Array {
    return this.native.encode(text);
  }

  /**
   * Encodes several texts off the JS thread into one matrix padded with `padTokenId` (what batched generation and
   * `decodeBatch` take). Like the library, refuses an empty list.
   */
  async encodeBatch(texts: string[]): Promise<TokenMatrix> {
    return this.native.encodeBatch(texts);
  }

  decode(tokens: Int32Array | number[]): string {
    return this.native.decode(tokens);
  }

  /** Decodes each row of an `encodeBatch` matrix, or each of several sequences. */
  decodeBatch(sequences: TokenMatrix | (Int32Array | number[])[]): string[] {
    if (!isTokenMatrix(sequences)) return this.native.decodeBatch(sequences);
    const { data, shape } = sequences;
    const [rows, columns] = Array.isArray(shape) && shape.length === 2 ? shape : [-1, -1];
    if (!(data instanceof Int32Array) || !Number.isInteger(rows) || rows < 0 || rows * columns !== data.length) {
      throw new ValidationError('a token matrix needs an Int32Array `data` of shape [rows, columns]');
    }
    return this.native.decodeBatch(Array.from({ length: rows }, (_, i) => data.subarray(i * columns, (i + 1) * columns)));
  }

  /** Changes how this tokenizer encodes and decodes from now on (e.g. `{ add_special_tokens: true }`). */
  updateOptions(options: TokenizerOptions): void {
    if (typeof options !== 'object' || options === null) throw new ValidationError('tokenizer options must be an object');
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(options)) {
      if (value === undefined) continue;
      if (typeof value !== 'boolean' && typeof value !== 'string') {
        throw new ValidationError(`tokenizer option '${key}' must be a boolean or a string`);
      }
      values[key] = String(value);
    }
    this.native.updateOptions(values);
  }

  /** The id of a string that is exactly one vocabulary entry; ValidationError otherwise. */
  toTokenId(text: string): number {
    return this.native.toTokenId(text);
  }

  get bosTokenId(): number {
    return this.native.bosTokenId;
  }

  get eosTokenIds(): number[] {
    return this.native.eosTokenIds;
  }

  get padTokenId(): number {
    return this.native.padTokenId;
  }

  /** Tool-call markers (begin/end of tool call, begin/end of tool response); GenAIError when the model has none. */
  get botTokenId(): number {
    return this.native.botTokenId;
  }

  get eotTokenId(): number {
    return this.native.eotTokenId;
  }

  get borTokenId(): number {
    return this.native.borTokenId;
  }

  get eorTokenId(): number {
    return this.native.eorTokenId;
  }

  /** Renders a conversation with the model's chat template (or `opts.template`). */
  applyChatTemplate(messages: ChatMessage[] | string, opts: ChatTemplateOptions = {}): string {
    const json = typeof messages === 'string' ? messages : JSON.stringify(messages);
    return this.native.applyChatTemplate(json, opts.template ?? null, opts.tools ?? null, opts.addGenerationPrompt ?? true);
  }

  createStream(): TokenizerStream {
    return new TokenizerStream(binding().TokenizerStream.create(this.native));
  }
}
