import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ValidationError } from '../errors.js';
import { GGUF_FILENAME } from '../modelbuilder/index.js';
import { measureAsyncFloor } from './async-floor.js';
import { readModelInfo, syntheticPrompt, type ModelInfo } from './model-info.js';
import { presetModel } from './model-source.js';
import { PROBE } from './probe.js';
import type { BenchOptions } from './options.js';
import type { ConcurrencyMode, RunnerName } from './protocol.js';
import { checkTargets, compare, machine, type OverheadProbe, type Summary, type Target } from './report.js';
import { measureGroup, type BenchLog, type Cell } from './rounds.js';
import { layOutForTransformersjs } from './transformersjs-layout.js';

/** Which ways of running N generations at once each runner offers. */
const CONCURRENCY_MODES: Partial<Record<RunnerName, ConcurrencyMode[]>> = {
  native: ['batched', 'concurrent', 'engine'],
  stepwise: ['batched', 'concurrent'],
  generate: ['concurrent', 'engine'],
  'node-llama-cpp': ['concurrent'],
  'python-og': ['batched', 'concurrent'],
};


export const DEFINITIONS = {
  ttft_ms:
    'request start to first new token: generator params + generator + prompt prefill + first selection (generate: the first non-empty text chunk, what a stream consumer sees)',
  prefill_tps: 'prompt tokens x streams / TTFT',
  decode_tps: '(new tokens - 1) x streams / (last token time - first token time)',
  e2e_ms: 'request start to last new token',
  peak_rss_mb: "peak RSS of the runner's own process (getrusage ru_maxrss) after its single-stream rounds",
  model_rss_mb: 'peak_rss_mb minus the RSS the process had before loading anything (Node itself, or a bare C++ process)',
  x_ratio_to_native:
    "median over rounds of this runner's value / the C++ loop's value in the same round (for ttft/e2e above 1 is slower; for tps below 1 is slower)",
  binding_overhead_us_per_token:
    'median over rounds of (our decode time per step - the C++ loop\'s) in µs, same library, same threads; overhead_probe measures it on a counting model where compute per step is smallest',
  async_floor_us_per_token:
    "overhead_probe: one awaited round trip per token to a worker_thread that busy-works the C++ loop's step time, minus that time: what any await-per-token API pays on this machine, with no ORT and no addon",
  speedup_vs_single_stream: "aggregate decode tok/s of N generations at once over the same runner's single stream",
};


export interface BenchReport {
  schema: 'ortgenai-bench/1';
  date: string;
  machine: ReturnType<typeof machine> & { load_average_at_end: number[] };
  model: { path: string; preset: string | null; type: string; vocab_size: number; layers: number; hidden_size?: number };
  settings: Omit<BenchOptions, 'json' | 'cacheDir' | 'model' | 'preset'>;
  definitions: typeof DEFINITIONS;
  results: Summary[];
  overhead_probe: OverheadProbe | null;
  targets: Target[];
}

async function measureModel(info: ModelInfo, options: BenchOptions, scratch: string, log: BenchLog): Promise<Cell[]> {
  const transformersjsDir = options.runners.includes('transformersjs') ? await layOutForTransformersjs(info, scratch) : undefined;
  const cells: Cell[] = [];
  for (const threads of options.threads) {
    const spec = {
      model: info.dir, promptIds: syntheticPrompt(info, options.promptTokens), genTokens: options.genTokens,
      batch: options.batch, threads, transformersjsDir,
      ggufFile: options.runners.includes('node-llama-cpp') ? path.join(info.dir, GGUF_FILENAME) : undefined,
    };
    cells.push(...(await measureGroup({
      spec, runners: options.runners, concurrencyModes: CONCURRENCY_MODES, concurrency: options.concurrency,
      repeat: options.repeat, warmup: options.warmup,
    }, log)));
  }
  return cells;
}

async function probeOverhead(options: BenchOptions, log: (l: string) => void): Promise<OverheadProbe> {
  const runners = options.runners.filter((r) => r === 'native' || r === 'stepwise' || r === 'generate');
  const probe: OverheadProbe = {
    model: PROBE.preset, gen_tokens: PROBE.genTokens, us_per_step: {},
    binding_overhead_us_per_token: null, generate_overhead_us_per_token: null, async_floor_us_per_token: null,
  };
  try {
    const info = await readModelInfo(await presetModel(PROBE.preset, options.cacheDir, log));
    const cells = await measureGroup({
      spec: { model: info.dir, promptIds: syntheticPrompt(info, PROBE.promptTokens), genTokens: PROBE.genTokens, batch: 1, threads: 1 },
      runners, concurrencyModes: {}, concurrency: 1, repeat: options.repeat, warmup: 1,
    }, (l) => log(`overhead probe: ${l}`));
    const summaries = compare(cells);
    for (const s of summaries) if (s.medians) probe.us_per_step[s.runner] = s.medians.decode_ms_per_step * 1000;
    const overhead = (runner: RunnerName) => summaries.find((s) => s.runner === runner)?.binding_overhead_us_per_token ?? null;
    probe.binding_overhead_us_per_token = overhead('stepwise');
    probe.generate_overhead_us_per_token = overhead('generate');
    const step = probe.us_per_step.native;
    if (step) probe.async_floor_us_per_token = await measureAsyncFloor(step, PROBE.genTokens, options.repeat);
    const failed = cells.filter((c) => c.error).map((c) => `${c.runner}: ${c.error}`);
    if (failed.length) probe.error = failed.join('; ');
  } catch (err) {
    probe.error = err instanceof Error ? err.message : String(err);
  }
  return probe;
}

export async function runBench(options: BenchOptions, log: BenchLog): Promise<BenchReport> {
  const modelDir = options.model ?? (await presetModel(options.preset!, options.cacheDir, log));
  const info = await readModelInfo(modelDir);
  if (options.promptTokens + options.genTokens > info.contextLength) {
    throw new ValidationError(
      `--prompt-tokens + --gen-tokens = ${options.promptTokens + options.genTokens} exceeds the model's context_length ${info.contextLength}`,
    );
  }
  const started = machine();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'ortgenai-bench-'));
  let cells: Cell[];
  try {
    cells = await measureModel(info, options, scratch, log);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const probe = options.runners.includes('native') && options.runners.includes('stepwise') ? await probeOverhead(options, log) : null;
  const results = compare(cells);
  const { json: _json, cacheDir: _cache, model: _model, preset, ...settings } = options;
  return {
    schema: 'ortgenai-bench/1',
    date: new Date().toISOString(),
    machine: { ...started, load_average_at_end: machine().load_average_at_start },
    model: {
      path: info.dir, preset: options.model ? null : (preset ?? null), type: info.type, vocab_size: info.vocabSize,
      layers: info.numHiddenLayers, hidden_size: info.hiddenSize,
    },
    settings,
    definitions: DEFINITIONS,
    results,
    overhead_probe: probe,
    targets: checkTargets(results, Math.max(...options.threads), probe),
  };
}
