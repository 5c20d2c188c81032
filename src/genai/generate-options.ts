/**
 * The options of `generate()`/`stream()`: their types, their validation (zod, unknown names get a did-you-mean) and
 * how they become ORT-GenAI search options (safe max_length = prompt + maxTokens, never the whole context).
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import type { NativeGeneratorParams } from '../native.js';
import { Adapters } from './adapters.js';
import { parseOptions, parseSearchOptions, type SearchOptions } from './search-options.js';

export interface GenerateOptions {
  /** New tokens to generate at most (default 256). max_length becomes prompt tokens + maxTokens. */
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  /**
   * Sample instead of greedy search. Defaults to true when temperature (> 0), topP or topK is given; then
   * top_k is 0 (the whole distribution) unless topK or searchOptions.top_k says otherwise.
   */
  doSample?: boolean;
  seed?: number;
  repetitionPenalty?: number;
  /** Generation ends before the first occurrence of any of these; the stop string is not part of the text. */
  stop?: string[];
  signal?: AbortSignal;
  guidance?: { type: 'json_schema' | 'regex' | 'lark_grammar'; data: string };
  /** Raw ORT-GenAI search options (max_length, num_beams, ...); the named options above take precedence. */
  searchOptions?: SearchOptions;
  /** A LoRA adapter loaded in `adapters` to run this generation with (not with the Engine). */
  adapter?: { adapters: Adapters; name: string };
  /**
   * Collect each new token's log-probability and those of its `logprobs` most likely alternatives (0-20), from
   * the model's logits before sampling (the result's `logprobs`). Not with beam search or the Engine.
   */
  logprobs?: number;
}

/** The named sampling options. */
export type SamplingOptions = Pick<GenerateOptions, 'temperature' | 'topP' | 'topK' | 'doSample' | 'seed' | 'repetitionPenalty'>;

export const DEFAULT_MAX_TOKENS = 256;

/** Beam search and the Engine have no per-token distribution to report. */
export const LOGPROBS_REFUSED = 'logprobs are computed for greedy or sampled search with model.generate()/stream(), not with beam search or the Engine';

/** The sampling options (named, not raw): what a chat session fixes once for all its turns. */
export const samplingOptionsShape = {
  temperature: z.number().min(0).optional(),
  topP: z.number().gt(0).lte(1).optional(),
  topK: z.number().int().min(0).optional(),
  doSample: z.boolean().optional(),
  seed: z.number().int().min(-1).optional(),
  repetitionPenalty: z.number().gt(0).optional(),
};

/** The options that shape one answer: how long, where it stops, who cancels it. */
export const turnOptionsShape = {
  maxTokens: z.number().int().min(1).optional(),
  stop: z.array(z.string().min(1, 'stop strings cannot be empty')).max(16).optional(),
  signal: z.instanceof(AbortSignal, { message: 'signal must be an AbortSignal' }).optional(),
};

const generateOptionsSchema = z.object({
  ...turnOptionsShape,
  ...samplingOptionsShape,
  guidance: z
    .object({ type: z.enum(['json_schema', 'regex', 'lark_grammar']), data: z.string() })
    .strict()
    .optional(),
  searchOptions: z.unknown().optional(),
  adapter: z
    .object({
      adapters: z.instanceof(Adapters, { message: 'adapter.adapters must be an Adapters object' }),
      name: z.string().min(1, 'adapter.name cannot be empty'),
    })
    .strict()
    .optional(),
  logprobs: z.number().int().min(0).max(20).optional(),
});

const GENERATE_OPTION_NAMES = Object.keys(generateOptionsSchema.shape);

/** Validated options, raw search options parsed too. */
export type ParsedGenerateOptions = Omit<GenerateOptions, 'searchOptions'> & { searchOptions: SearchOptions };

export function parseGenerateOptions(options: GenerateOptions | undefined): ParsedGenerateOptions {
  const parsed = parseOptions(generateOptionsSchema, options, GENERATE_OPTION_NAMES, 'generate option');
  return { ...(parsed as GenerateOptions), searchOptions: parseSearchOptions(parsed.searchOptions) };
}

/** The raw search options overlaid with the named sampling options (no max_length yet). */
export function samplingSearchOptions(o: Pick<ParsedGenerateOptions, keyof typeof samplingOptionsShape | 'searchOptions'>): SearchOptions {
  const s: SearchOptions = { ...o.searchOptions };
  const sampling = o.temperature !== undefined || o.topP !== undefined || o.topK !== undefined;
  if (o.temperature !== undefined && o.temperature > 0) s.temperature = o.temperature;
  if (o.topP !== undefined) s.top_p = o.topP;
  if (o.topK !== undefined) s.top_k = o.topK;
  if (o.seed !== undefined) s.random_seed = o.seed;
  if (o.repetitionPenalty !== undefined) s.repetition_penalty = o.repetitionPenalty;
  // temperature 0 is the usual way to ask for greedy decoding.
  s.do_sample = o.doSample ?? (s.do_sample || (sampling && o.temperature !== 0));
  // Named sampling options sample from the whole distribution unless they narrow it themselves: model
  // configs (Phi-3's among them) ship top_k 1, which would make any temperature greedy.
  if (s.do_sample && sampling && o.topK === undefined && o.searchOptions.top_k === undefined) s.top_k = 0;
  return s;
}

/** The most tokens (prompt + new) one generation may hold, and what sets it, for messages. */
export interface SequenceLimit {
  tokens: number;
  /** e.g. "the model's context": "the prompt has N tokens but <what> is <tokens>". */
  what: string;
}

/** The search options a generation runs with: raw ones, then the named options, then the safe max_length. */
export function searchOptionsFor(o: ParsedGenerateOptions, promptTokens: number, limit: SequenceLimit | undefined): SearchOptions {
  const s = samplingSearchOptions(o);
  if ((s.batch_size ?? 1) !== 1) {
    throw new ValidationError('generate()/stream() take one prompt; use Generator.appendTokenSequences for batches');
  }
  if (o.maxTokens !== undefined || s.max_length === undefined) {
    s.max_length = promptTokens + (o.maxTokens ?? DEFAULT_MAX_TOKENS);
  }
  if (limit !== undefined) {
    if (promptTokens >= limit.tokens) {
      throw new ValidationError(`the prompt has ${promptTokens} tokens but ${limit.what} is ${limit.tokens}`);
    }
    s.max_length = Math.min(s.max_length, limit.tokens);
  }
  return s;
}

/** Sets each search option on native generator params (booleans and numbers go through separate C calls). */
export function applySearchOptions(params: NativeGeneratorParams, options: SearchOptions): void {
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (typeof value === 'boolean') params.setSearchBool(name, value);
    else params.setSearchNumber(name, value);
  }
}
