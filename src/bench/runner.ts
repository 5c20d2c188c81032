import type { Job, RunTiming } from './protocol.js';
import type { ModelInfo } from './model-info.js';

export interface Generation {
  timing: RunTiming;
  /** The first sequence's new tokens. */
  tokens: number[];
}

/** A runner with its model loaded, inside its own process. */
export interface LoadedRunner {
  generate(): Promise<Generation>;
  dispose(): Promise<void> | void;
  note?: string;
}

export type LoadRunner = (job: Job, info: ModelInfo) => Promise<LoadedRunner>;

/**
 * The session options every ORT-GenAI runner applies, byte for byte what bench/native_loop.cc applies:
 * explicit intra-op threads (ORT-GenAI would default to half the cores) and no inter-op pool.
 */
export function threadOverlay(threads: number): string {
  return `{"model":{"decoder":{"session_options":{"intra_op_num_threads":${threads},"inter_op_num_threads":1}}}}`;
}

/** Search options that make every run generate exactly `genTokens`: EOS is ignored until max_length. */
export function fixedLengthSearch(job: Job, batchSize: number) {
  const maxLength = job.promptIds.length + job.genTokens;
  return { max_length: maxLength, min_length: maxLength, batch_size: batchSize, do_sample: false };
}
