/**
 * How the bench parent drives runner processes. Every runner (the C++ loop included) loads its model once,
 * then answers one request at a time, so the parent can interleave the runners' generations round by round:
 * load on this shared 2-core machine drifts, and interleaving spreads the drift evenly over all runners.
 */
export const RUNNERS = [
  'native', 'stepwise', 'generate', 'generate-logprobs', 'transformersjs', 'ort-loop', 'node-llama-cpp', 'python-og', 'chat-first', 'chat',
  'chat-fresh',
] as const;
/**
 * What runs without being asked: python-og needs a Python environment (ORTGENAI_PYTHON), whose library every
 * runner then uses; node-llama-cpp needs the model as GGUF (presets have it; a -m folder may not); the chat
 * runners time another prompt (a conversation's turns). So they run only when named.
 */
const NAMED_ONLY: readonly RunnerName[] = ['node-llama-cpp', 'python-og', 'chat-first', 'chat', 'chat-fresh'];
export const DEFAULT_RUNNERS = RUNNERS.filter((r) => !NAMED_ONLY.includes(r));
export type RunnerName = (typeof RUNNERS)[number];
/** The runners `--instructions` counts: the C++ loop and our two APIs over the same library. */
export const INSTRUCTION_RUNNERS = ['native', 'generate', 'stepwise'] as const satisfies readonly RunnerName[];
export type InstructionRunner = (typeof INSTRUCTION_RUNNERS)[number];

/**
 * How generations share the loaded model: one at a time; `concurrency` sequences in one batched generator;
 * `concurrency` independent generations at once; or `concurrency` requests scheduled by ORT-GenAI's Engine.
 */
export type ConcurrencyMode = 'sequential' | 'batched' | 'concurrent' | 'engine';

/** What a runner process is started with. */
export interface RunnerSpec {
  runner: RunnerName;
  model: string;
  promptIds: number[];
  genTokens: number;
  batch: number;
  threads: number;
  /** transformers.js reads a Hugging Face layout; the parent lays one out (symlinks) next to the model. */
  transformersjsDir?: string;
  /** node-llama-cpp runs the model's GGUF copy (model.gguf in the model folder). */
  ggufFile?: string;
}

/** One timed generation (or, with concurrency, one round of `concurrency` generations at once). */
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

export interface Generation {
  timing: RunTiming;
  /** The first sequence's new tokens, to check that every runner did the same work. */
  tokens: number[];
}

// Parent → Node runner process (the C++ loop gets the same requests as text lines).
export type Request =
  | { type: 'load'; spec: RunnerSpec }
  | { type: 'run'; mode: ConcurrencyMode; concurrency: number }
  | { type: 'rss' }
  | { type: 'quit' };

// Node runner process → parent, one reply per request.
export type Reply =
  | { type: 'loaded'; loadMs: number; baselineRssBytes: number; note?: string }
  | { type: 'generation'; generation: Generation }
  | { type: 'rss'; peakRssBytes: number }
  | { type: 'error'; error: string };
