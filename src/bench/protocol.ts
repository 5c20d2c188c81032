/**
 * What the bench parent sends each runner process and what it gets back. Every runner (the C++ loop
 * included) reports the same shape, so the report treats them alike.
 */
export const RUNNERS = ['native', 'stepwise', 'generate', 'transformersjs', 'ort-loop'] as const;
export type RunnerName = (typeof RUNNERS)[number];

/** How `concurrency` generations share the model: one batched generator, one generator each, or the Engine. */
export type ConcurrencyMode = 'sequential' | 'batched' | 'concurrent' | 'engine';

export interface Job {
  runner: RunnerName;
  model: string;
  promptIds: number[];
  genTokens: number;
  batch: number;
  threads: number;
  repeat: number;
  warmup: number;
  mode: ConcurrencyMode;
  /** Generations at once (1 for a single stream). */
  concurrency: number;
  /** transformers.js reads a Hugging Face layout; the parent lays one out (symlinks) next to the model. */
  transformersjsDir?: string;
}

/** One timed generation (or, with concurrency, one round of `concurrency` generations). */
export interface RunTiming {
  /** From the start of the request to the first new token: params, generator, prefill, first selection. */
  ttftMs: number;
  /** From the first to the last new token. */
  decodeMs: number;
  e2eMs: number;
  /** New tokens per stream. */
  newTokens: number;
  /** Sequences generated at once (batch × concurrency). */
  streams: number;
  promptTokens: number;
}

export interface RunnerResult {
  runner: RunnerName;
  mode: ConcurrencyMode;
  loadMs: number;
  /** RSS before the runner loaded anything, and the process's peak: the difference is what the model costs. */
  baselineRssBytes: number;
  peakRssBytes: number;
  runs: RunTiming[];
  /** The first sequence's new tokens in the last run, to check that every runner did the same work. */
  tokens: number[];
  /** Why a runner could not run (it is reported, never fatal to the whole bench). */
  error?: string;
  note?: string;
}
