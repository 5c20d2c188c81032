import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ValidationError } from '../errors.js';
import { runInChild } from './fork.js';
import { readModelInfo, syntheticPrompt } from './model-info.js';
import { presetModel } from './model-source.js';
import { runNativeLoop } from './native-loop.js';
import type { BenchOptions } from './options.js';
import type { ConcurrencyMode, Job, RunnerName } from './protocol.js';
import { checkTargets, compare, machine, type Measured, type Summary, type Target } from './report.js';
import { layOutForTransformersjs } from './transformersjs-layout.js';

/** Which ways of running N generations at once each runner offers. */
const CONCURRENCY_MODES: Partial<Record<RunnerName, ConcurrencyMode[]>> = {
  native: ['batched', 'concurrent', 'engine'],
  stepwise: ['batched', 'concurrent'],
  generate: ['concurrent'],
};

export interface BenchReport {
  schema: 'ortgenai-bench/1';
  date: string;
  machine: ReturnType<typeof machine>;
  model: { path: string; preset: string | null; type: string; vocab_size: number; layers: number };
  settings: Omit<BenchOptions, 'json' | 'cacheDir' | 'model' | 'preset'>;
  /** How binding_overhead_us_per_token and the ratios are defined, for whoever reads the JSON alone. */
  definitions: Record<string, string>;
  results: Summary[];
  targets: Target[];
}

export const DEFINITIONS = {
  ttft_ms: 'request start to first new token: generator params + generator + prompt prefill + first selection',
  prefill_tps: 'prompt tokens x streams / TTFT',
  decode_tps: '(new tokens - 1) x streams / (last token time - first token time)',
  e2e_ms: 'request start to last new token',
  peak_rss_mb: "peak RSS of the runner's own process (getrusage ru_maxrss); model_rss_mb subtracts its RSS before loading",
  binding_overhead_us_per_token:
    'median decode time per step of our runner minus the C++ loop over the same library, same run, same threads',
  x_ratio_to_native: "this runner's median divided by the C++ loop's (for ttft/e2e above 1 is slower; for tps below 1 is slower)",
  speedup_vs_single_stream: "aggregate decode tok/s of N generations at once over the same runner's single stream",
};

export async function runBench(options: BenchOptions, log: (line: string) => void): Promise<BenchReport> {
  const modelDir = options.model ?? (await presetModel(options.preset!, options.cacheDir, log));
  const info = await readModelInfo(modelDir);
  if (options.promptTokens + options.genTokens > info.contextLength) {
    throw new ValidationError(
      `--prompt-tokens + --gen-tokens = ${options.promptTokens + options.genTokens} exceeds the model's context_length ${info.contextLength}`,
    );
  }
  const promptIds = syntheticPrompt(info, options.promptTokens);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'ortgenai-bench-'));
  try {
    const transformersjsDir = options.runners.includes('transformersjs')
      ? await layOutForTransformersjs(info, scratch)
      : undefined;
    const plan: Job[] = [];
    for (const threads of options.threads) {
      const base = {
        model: info.dir, promptIds, genTokens: options.genTokens, batch: options.batch, threads,
        repeat: options.repeat, warmup: options.warmup, transformersjsDir,
      };
      for (const runner of options.runners) plan.push({ ...base, runner, mode: 'sequential', concurrency: 1 });
      if (options.concurrency > 1) {
        for (const runner of options.runners) {
          for (const mode of CONCURRENCY_MODES[runner] ?? []) plan.push({ ...base, runner, mode, concurrency: options.concurrency });
        }
      }
    }
    const measured: Measured[] = [];
    for (const [i, job] of plan.entries()) {
      const label = `${job.runner} threads=${job.threads} ${job.mode}${job.concurrency > 1 ? ` x${job.concurrency}` : ''}`;
      const t0 = performance.now();
      const result = job.runner === 'native' ? await runNativeLoop(job) : await runInChild(job);
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      log(`[${i + 1}/${plan.length}] ${label}: ${result.error ? `failed: ${result.error.split('\n')[0]}` : 'ok'} (${secs} s)`);
      measured.push({ result, job });
    }
    const results = compare(measured);
    const { json: _json, cacheDir: _cache, model: _model, preset, ...settings } = options;
    return {
      schema: 'ortgenai-bench/1',
      date: new Date().toISOString(),
      machine: machine(),
      model: { path: info.dir, preset: options.model ? null : (preset ?? null), type: info.type, vocab_size: info.vocabSize, layers: info.numHiddenLayers },
      settings,
      definitions: DEFINITIONS,
      results,
      targets: checkTargets(results, Math.max(...options.threads)),
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
