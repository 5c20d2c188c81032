/**
 * The one generation loop behind `model.generate()`/`stream()`, the Engine's and ChatSession's: stop strings,
 * AbortSignal, logprobs, over a TokenSource (a Generator of the model's own or an Engine request; token-source.ts). The
 * token loop itself runs natively on its own thread and hands text to JS in batches, so the per-token cost in JS is
 * near zero.
 */
import { ValidationError } from '../errors.js';
import type { ChunkCallback, NativeLogprobs } from '../native.js';
import { parseGenerateOptions, searchOptionsFor, type GenerateOptions, type SequenceLimit } from './generate-options.js';
import { StopMatcher } from './stop-strings.js';
import { checkTokenIds } from './token-ids.js';
import type { OpenTokenSource, TokenSource } from './token-source.js';
import type { Tokenizer } from './tokenizer.js';

/** One generated token's log-probability (natural log) and its most likely alternatives. */
export interface TokenLogprob {
  token: number;
  /** The token's text as the stream decoded it ('' when it ends inside a multi-byte character). */
  text: string;
  logprob: number;
  top: { token: number; logprob: number }[];
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface GenerateResult {
  text: string;
  /** New tokens only (no prompt, no end-of-sequence token). */
  tokens: Int32Array;
  promptTokens: number;
  completionTokens: number;
  finishReason: FinishReason;
  /** With the `logprobs` option: one entry per token of `tokens`. */
  logprobs?: TokenLogprob[];
}

/** What a generation needs of its model (a Model has it): the tokenizer for as long as it runs, and config facts. */
export interface GenerationModel {
  readonly vocabSize: number | undefined;
  /** The most tokens one generation may hold (max_length is capped to it; a longer prompt is refused). */
  readonly sequenceLimit: SequenceLimit | undefined;
  /** The tokenizer, kept alive until releaseTokenizer() even if the model is disposed meanwhile. */
  acquireTokenizer(): Tokenizer;
  releaseTokenizer(): void;
}

/** A prompt's ids: text is encoded, ids are checked against the vocabulary. */
export function promptTokens(tokenizer: Tokenizer, vocabSize: number | undefined, input: string | number[] | Int32Array): Int32Array {
  const tokens = typeof input === 'string' ? tokenizer.encode(input) : Int32Array.from(input);
  if (tokens.length === 0) throw new ValidationError('the prompt is empty');
  checkTokenIds(tokens, vocabSize, 'prompt token');
  return tokens;
}

function tokenLogprob(token: number, text: string, lp: NativeLogprobs, i: number): TokenLogprob {
  const k = lp.topIds.length / lp.logprobs.length;
  const top = Array.from({ length: k }, (_, j) => ({ token: lp.topIds[i * k + j], logprob: lp.topLogprobs[i * k + j] }));
  return { token, text, logprob: lp.logprobs[i], top };
}

/**
 * Runs one generation on a source `open` makes; `onText` receives text as it becomes final. Resolves (never
 * rejects) on abort, with the text produced so far. Everything it needs from `model` is taken before its first
 * await, so disposing the model right after the call does not cut it short.
 */
export async function runGeneration(
  model: GenerationModel,
  open: OpenTokenSource,
  input: string | number[] | Int32Array,
  options: GenerateOptions | undefined,
  onText?: (text: string) => void,
  collected?: TokenLogprob[],
): Promise<GenerateResult> {
  const tokenizer = model.acquireTokenizer();
  try {
    const o = parseGenerateOptions(options);
    const prompt = promptTokens(tokenizer, model.vocabSize, input);
    const search = searchOptionsFor(o, prompt.length, model.sequenceLimit);
    const source = await open({ search, options: o, tokenizer });
    try {
      const beams = (search.num_beams ?? 1) > 1;
      return (await decode(source, tokenizer, prompt, { stop: o.stop, signal: o.signal, logprobs: o.logprobs, beams, onText, collected })).result;
    } finally {
      source.dispose();
    }
  } finally {
    model.releaseTokenizer();
  }
}

export interface DecodeOptions {
  stop?: string[];
  signal?: AbortSignal;
  logprobs?: number;
  /** Beam search: nothing streams, the winner is read from the source at the end. */
  beams?: boolean;
  onText?: (text: string) => void;
  collected?: TokenLogprob[];
}

export interface Decoded {
  result: GenerateResult;
  /** performance.now() when the first new id arrived (undefined if none did). */
  firstTokenAt?: number;
  /** How many new ids the answer took from the source, a final end-of-sequence id included. */
  taken: number;
}

/** Appends `prompt` to `source` and decodes one answer from it. */
export async function decode(source: Pick<TokenSource, 'run' | 'cancel' | 'sequence'>, tokenizer: Tokenizer, prompt: Int32Array, d: DecodeOptions): Promise<Decoded> {
  const tokens: number[] = [];
  const logprobs = d.logprobs === undefined ? undefined : (d.collected ?? []);
  const eos = tokenizer.eosTokenIds;
  let firstTokenAt: number | undefined;
  let text = '';
  let finish: FinishReason | undefined;
  if (d.signal?.aborted) finish = 'abort';
  const stops = new StopMatcher(d.stop ?? []);
  const emit = (chunk: string) => {
    if (!chunk) return;
    text += chunk;
    d.onText?.(chunk);
  };
  const end = (reason: FinishReason) => {
    finish = reason;
    source.cancel();
  };
  const onAbort = () => {
    if (!finish) end('abort');
  };
  d.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (!finish) {
      const onChunk: ChunkCallback = (ids, chunk, ends, lp) => {
        firstTokenAt ??= performance.now();
        // One token at a time, so a stop string cuts the tokens exactly where it cuts the text.
        for (let i = 0, start = 0; i < ids.length && !finish && !d.beams; start = ends[i++]) {
          const piece = chunk.slice(start, ends[i]);
          const { emit: safe, hit } = stops.push(piece);
          if (!hit) {
            tokens.push(ids[i]);
            if (lp && logprobs) logprobs.push(tokenLogprob(ids[i], piece, lp, i));
          }
          emit(safe);
          if (hit) end('stop');
        }
      };
      await source.run(prompt, onChunk);
    }
  } finally {
    d.signal?.removeEventListener('abort', onAbort);
  }
  if (d.beams && !finish && source.sequence) {
    for (const id of source.sequence().subarray(prompt.length)) tokens.push(id);
    const { emit: safe, hit } = stops.push(tokenizer.decode(tokens));
    emit(safe);
    if (hit) finish = 'stop';
  }
  const taken = tokens.length;
  const endedOnEos = tokens.length > 0 && eos.includes(tokens[tokens.length - 1]);
  if (endedOnEos) tokens.pop();
  if (endedOnEos && logprobs?.length === tokens.length + 1) logprobs.pop();
  if (!finish) {
    emit(stops.flush());
    finish = endedOnEos ? 'stop' : 'length';
  }
  const result: GenerateResult = {
    text,
    tokens: Int32Array.from(tokens),
    promptTokens: prompt.length,
    completionTokens: tokens.length,
    finishReason: finish,
    ...(logprobs ? { logprobs } : {}),
  };
  return { result, taken, ...(firstTokenAt === undefined ? {} : { firstTokenAt }) };
}

/** `logprobs` (with that option) fills up as tokens arrive: entries for the text read so far are there. */
export type TextStream = AsyncIterable<string> & { result: Promise<GenerateResult>; logprobs?: TokenLogprob[] };

/**
 * Streams text chunks. Generation starts at once; chunks wait in a queue until read. Leaving the loop early
 * (break/return) stops the generation, and `result` then resolves with finishReason 'abort'.
 */
export function streamGeneration(
  model: GenerationModel,
  open: OpenTokenSource,
  input: string | number[] | Int32Array,
  options: GenerateOptions | undefined,
): TextStream {
  const logprobs: TokenLogprob[] | undefined = options?.logprobs === undefined ? undefined : [];
  const stream = textStream(options?.signal, (signal, onText) => runGeneration(model, open, input, { ...options, signal }, onText, logprobs));
  return logprobs ? Object.assign(stream, { logprobs }) : stream;
}

/**
 * A TextStream over one generation that `start` begins at once with a signal (the caller's, and the one leaving
 * the loop early fires) and a text callback: chunks wait in a queue until read.
 */
export function textStream(
  callerSignal: AbortSignal | undefined,
  start: (signal: AbortSignal, onText: (chunk: string) => void) => Promise<GenerateResult>,
): TextStream {
  const queue: string[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const stopper = new AbortController();
  const signal = callerSignal ? AbortSignal.any([callerSignal, stopper.signal]) : stopper.signal;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const result = start(signal, (chunk) => {
    queue.push(chunk);
    notify();
  });
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
