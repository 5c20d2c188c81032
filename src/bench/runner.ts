import type { ModelInfo } from './model-info.js';
import type { ConcurrencyMode, Generation, RunnerSpec } from './protocol.js';

/** A runner with its model loaded, inside its own process. */
export interface LoadedRunner {
  generate(mode: ConcurrencyMode, concurrency: number): Promise<Generation>;
  dispose(): Promise<void> | void;
  note?: string;
}

export type LoadRunner = (spec: RunnerSpec, info: ModelInfo) => Promise<LoadedRunner>;

/**
 * The genai_config overlay every ORT-GenAI runner applies, byte for byte what bench/native_loop.cc applies:
 * explicit intra-op threads (ORT-GenAI would default to half the cores), no inter-op pool, and search.max_length
 * = one run's length, which each generator sets anyway but which the 0.16+ Engine takes from the configuration to
 * size every request's KV cache (the configured 4096 of phi3-mini would be 3.2 GB a request).
 */
export function configOverlay(spec: RunnerSpec): string {
  const maxLength = spec.promptIds.length + spec.genTokens;
  return `{"model":{"decoder":{"session_options":{"intra_op_num_threads":${spec.threads},"inter_op_num_threads":1}}},"search":{"max_length":${maxLength}}}`;
}

/** Search options that make every run generate exactly `genTokens`: EOS is ignored until max_length. */
export function fixedLengthSearch(spec: RunnerSpec, batchSize: number) {
  const maxLength = spec.promptIds.length + spec.genTokens;
  return { max_length: maxLength, min_length: maxLength, batch_size: batchSize, do_sample: false };
}

/**
 * Runs `concurrency` generations at once and reports them as one round. TTFT is the slowest stream's; the
 * decode window runs from the first token any stream produced to the last one, so a scheduler that makes
 * some requests wait for others (ORT-GenAI's static-batch Engine) cannot hide the wait from the throughput.
 */
export async function allAtOnce(concurrency: number, one: () => Promise<Generation>): Promise<Generation> {
  const start = performance.now();
  const all = await Promise.all(Array.from({ length: concurrency }, one));
  const e2eMs = performance.now() - start;
  const ttfts = all.map((g) => g.timing.ttftMs);
  const ttftMs = Math.max(...ttfts);
  return {
    timing: {
      ttftMs,
      decodeMs: e2eMs - Math.min(...ttfts),
      e2eMs,
      newTokens: Math.round(all.reduce((s, g) => s + g.timing.newTokens, 0) / all.length),
      streams: all.reduce((s, g) => s + g.timing.streams, 0),
      promptTokens: all[0].timing.promptTokens,
    },
    tokens: all[0].tokens,
  };
}

export function unsupported(runner: string, mode: ConcurrencyMode): never {
  throw new Error(`the ${runner} runner has no '${mode}' mode`);
}
