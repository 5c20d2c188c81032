/**
 * High-level generation: `model.generate()` and `model.stream()`. Safe defaults (max_length = prompt + maxTokens,
 * never the whole context), stop strings, AbortSignal. The token loop itself runs natively on its own thread
 * (native/token_loop.cc) and hands text to JS in batches, so the per-token cost in JS is near zero.
 */
import { z } from 'zod';
import { DisposedError, ValidationError } from '../errors.js';
import { binding, type NativeEngine, type NativeGeneratorParams } from '../native.js';
import { Adapters } from './adapters.js';
import { startSoon } from './engine-batching.js';
import type { Model } from './model.js';
import type { Tokenizer } from './tokenizer.js';
import { parseOptions, parseSearchOptions, type SearchOptions } from './search-options.js';
import { StopMatcher } from './stop-strings.js';
import { checkTokenIds } from './token-ids.js';

export interface GenerateOptions {
  /** New tokens to generate at most (default 256). max_length becomes prompt tokens + maxTokens. */
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Sample instead of greedy search. Defaults to true when temperature, topP or topK is given. */
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
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface GenerateResult {
  text: string;
  /** New tokens only (no prompt, no end-of-sequence token). */
  tokens: Int32Array;
  promptTokens: number;
  completionTokens: number;
  finishReason: FinishReason;
}

export const DEFAULT_MAX_TOKENS = 256;

const generateOptionsSchema = z.object({
  maxTokens: z.number().int().min(1).optional(),
  temperature: z.number().min(0).optional(),
  topP: z.number().gt(0).lte(1).optional(),
  topK: z.number().int().min(0).optional(),
  doSample: z.boolean().optional(),
  seed: z.number().int().min(-1).optional(),
  repetitionPenalty: z.number().gt(0).optional(),
  stop: z.array(z.string().min(1, 'stop strings cannot be empty')).max(16).optional(),
  signal: z.instanceof(AbortSignal, { message: 'signal must be an AbortSignal' }).optional(),
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
});

const GENERATE_OPTION_NAMES = Object.keys(generateOptionsSchema.shape);

type Parsed = Omit<GenerateOptions, 'searchOptions'> & { searchOptions: SearchOptions };

function parseGenerateOptions(options: GenerateOptions | undefined): Parsed {
  const parsed = parseOptions(generateOptionsSchema, options, GENERATE_OPTION_NAMES, 'generate option');
  return { ...(parsed as GenerateOptions), searchOptions: parseSearchOptions(parsed.searchOptions) };
}

/** The search options a generation runs with: raw ones, then the named options, then the safe max_length. */
function searchOptionsFor(o: Parsed, promptTokens: number, contextLength: number | undefined): SearchOptions {
  const s: SearchOptions = { ...o.searchOptions };
  if ((s.batch_size ?? 1) !== 1) {
    throw new ValidationError('generate()/stream() take one prompt; use Generator.appendTokenSequences for batches');
  }
  const sampling = o.temperature !== undefined || o.topP !== undefined || o.topK !== undefined;
  if (o.temperature !== undefined && o.temperature > 0) s.temperature = o.temperature;
  if (o.topP !== undefined) s.top_p = o.topP;
  if (o.topK !== undefined) s.top_k = o.topK;
  if (o.seed !== undefined) s.random_seed = o.seed;
  if (o.repetitionPenalty !== undefined) s.repetition_penalty = o.repetitionPenalty;
  // temperature 0 is the usual way to ask for greedy decoding.
  s.do_sample = o.doSample ?? (s.do_sample || (sampling && o.temperature !== 0));
  if (o.maxTokens !== undefined || s.max_length === undefined) {
    s.max_length = promptTokens + (o.maxTokens ?? DEFAULT_MAX_TOKENS);
  }
  if (contextLength !== undefined) {
    if (promptTokens >= contextLength) {
      throw new ValidationError(`the prompt has ${promptTokens} tokens but the model's context is ${contextLength}`);
    }
    s.max_length = Math.min(s.max_length, contextLength);
  }
  return s;
}

function applySearchOptions(params: NativeGeneratorParams, options: SearchOptions): void {
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (typeof value === 'boolean') params.setSearchBool(name, value);
    else params.setSearchNumber(name, value);
  }
}

function promptTokens(model: Model, tokenizer: Tokenizer, input: string | number[] | Int32Array): Int32Array {
  const tokens = typeof input === 'string' ? tokenizer.encode(input) : Int32Array.from(input);
  if (tokens.length === 0) throw new ValidationError('the prompt is empty');
  checkTokenIds(tokens, model.vocabSize, 'prompt token');
  return tokens;
}

/**
 * Runs one generation; `onText` receives text as it becomes final. Resolves (never rejects) on abort, with the
 * text produced so far. Everything it needs from `model` is taken before its first await, so disposing the model
 * right after the call does not cut it short.
 */
export async function runGeneration(
  model: Model,
  input: string | number[] | Int32Array,
  options: GenerateOptions | undefined,
  onText?: (text: string) => void,
  engine?: NativeEngine,
): Promise<GenerateResult> {
  const tokenizer = model.acquireTokenizer();
  try {
    return await generation(model, tokenizer, input, options, onText, engine);
  } finally {
    model.releaseTokenizer();
  }
}

async function generation(
  model: Model,
  tokenizer: Tokenizer,
  input: string | number[] | Int32Array,
  options: GenerateOptions | undefined,
  onText: ((text: string) => void) | undefined,
  engine: NativeEngine | undefined,
): Promise<GenerateResult> {
  const o = parseGenerateOptions(options);
  const prompt = promptTokens(model, tokenizer, input);
  const search = searchOptionsFor(o, prompt.length, model.contextLength);
  const beams = (search.num_beams ?? 1) > 1;
  if (engine && beams) throw new ValidationError('the Engine runs greedy or sampled search, not beam search (num_beams > 1)');
  // ORT-GenAI 0.15's Engine requests have no guidance logits processor: refuse rather than silently ignore it.
  if (engine && o.guidance) throw new ValidationError('the Engine does not support guidance; use model.generate()');
  // Its requests have no SetActiveAdapter in the C API either.
  if (engine && o.adapter) throw new ValidationError('the Engine does not support LoRA adapters; use model.generate()');
  const b = binding();
  const params = b.GeneratorParams.create(model.native);
  try {
    applySearchOptions(params, search);
    if (o.guidance) params.setGuidance(o.guidance.type, o.guidance.data);
    // Each generation gets its own Generator, or a request scheduled by the Engine: both run and stop alike.
    const generator = engine ? undefined : await b.Generator.create(model.native, params);
    const gen = generator ?? engine!.createRequest(params);
    try {
      if (o.adapter) generator!.setActiveAdapter(o.adapter.adapters.native, o.adapter.name);
      const tokens: number[] = [];
      let text = '';
      let finish: FinishReason | undefined;
      if (o.signal?.aborted) finish = 'abort';
      const stops = new StopMatcher(o.stop ?? []);
      const emit = (chunk: string) => {
        if (!chunk) return;
        text += chunk;
        onText?.(chunk);
      };
      const onAbort = () => {
        if (finish) return;
        finish = 'abort';
        gen.stop();
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        if (!finish) {
          // Beam search only knows its winner at the end: collect ids, decode once.
          const running = gen.run(prompt, beams ? null : tokenizer.native, (ids, chunk, ends) => {
            // One token at a time, so a stop string cuts the tokens exactly where it cuts the text.
            for (let i = 0, start = 0; i < ids.length && !finish && !beams; start = ends[i++]) {
              const { emit: safe, hit } = stops.push(chunk.slice(start, ends[i]));
              emit(safe);
              if (hit) {
                finish = 'stop';
                gen.stop();
              } else {
                tokens.push(ids[i]);
              }
            }
          });
          if (engine) startSoon(engine);
          const outcome = await running;
          // Stopped by nobody here: the Engine was disposed with this request in flight.
          if (outcome === 'stopped' && !finish && engine) throw new DisposedError('Engine');
        }
      } finally {
        o.signal?.removeEventListener('abort', onAbort);
      }
      if (beams && !finish && generator) {
        for (const id of generator.getSequence(0).subarray(prompt.length)) tokens.push(id);
        const { emit: safe, hit } = stops.push(tokenizer.decode(tokens));
        emit(safe);
        if (hit) finish = 'stop';
      }
      const eos = tokenizer.eosTokenIds;
      const endedOnEos = tokens.length > 0 && eos.includes(tokens[tokens.length - 1]);
      if (endedOnEos) tokens.pop();
      if (!finish) {
        emit(stops.flush());
        finish = endedOnEos ? 'stop' : 'length';
      }
      return {
        text,
        tokens: Int32Array.from(tokens),
        promptTokens: prompt.length,
        completionTokens: tokens.length,
        finishReason: finish,
      };
    } finally {
      gen.dispose();
    }
  } finally {
    params.dispose();
  }
}

export type TextStream = AsyncIterable<string> & { result: Promise<GenerateResult> };

/**
 * Streams text chunks. Generation starts at once; chunks wait in a queue until read. Leaving the loop early
 * (break/return) stops the generation, and `result` then resolves with finishReason 'abort'.
 */
export function streamGeneration(
  model: Model,
  input: string | number[] | Int32Array,
  options: GenerateOptions | undefined,
  engine?: NativeEngine,
): TextStream {
  const queue: string[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const stopper = new AbortController();
  const signal = options?.signal ? AbortSignal.any([options.signal, stopper.signal]) : stopper.signal;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const result = runGeneration(
    model,
    input,
    { ...options, signal },
    (chunk) => {
      queue.push(chunk);
      notify();
    },
    engine,
  );
  result.then(
    () => {
      ended = true;
      notify();
    },
    (err) => {
      failure = err;
      ended = true;
      notify();
    },
  );
  return {
    result,
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          if (queue.length > 0) {
            yield queue.shift()!;
          } else if (ended) {
            if (failure !== undefined) throw failure;
            return;
          } else {
            await new Promise<void>((resolve) => (wake = resolve));
          }
        }
      } finally {
        if (!ended) stopper.abort();
      }
    },
  };
}
