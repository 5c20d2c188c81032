/**
 * The seam between the one generation loop (generate.ts) and what produces its tokens: a Generator of the model's
 * own (generator-source.ts) or a request scheduled by an Engine (engine-source.ts). A source appends the prompt and
 * decodes until it is done or cancelled, on a native thread (the token loop of native/token_loop.cc, or the
 * Engine's step loop), delivering ids with their text; each source refuses the options it cannot honour when it is
 * opened, so the loop never asks which one it has.
 */
import type { ChunkCallback } from '../native.js';
import type { ParsedGenerateOptions } from './generate-options.js';
import type { SearchOptions } from './search-options.js';
import type { Tokenizer } from './tokenizer.js';

/** 'stopped': cancel() ended the run before the source was done. */
export type RunOutcome = 'done' | 'stopped';

export interface TokenSource {
  /**
   * Appends `prompt` and decodes until done (end of sequence, max_length) or cancel(). Ids arrive in batches with
   * their text and, per id, where its text ends in that text (beam search delivers nothing: see `sequence`).
   */
  run(prompt: Int32Array, onChunk: ChunkCallback): Promise<RunOutcome>;
  /** Ends the running run() soon, also in the middle of a long prefill. */
  cancel(): void;
  /** The ids the source holds (prompt and generated); beam search's winner is read here once run() is done. */
  sequence?(): Int32Array;
  /** Frees the native objects; the source is not used afterwards. */
  dispose(): void;
}

/** What a generation asks a source to be opened with. */
export interface SourceRequest {
  search: SearchOptions;
  options: ParsedGenerateOptions;
  /** Decodes the text delivered with the ids. */
  tokenizer: Tokenizer;
}

/** Opens the source one generation runs on (a Model opens Generators, an Engine requests). */
export type OpenTokenSource = (request: SourceRequest) => Promise<TokenSource>;
