import os from 'node:os';
import { RUNNERS, type ConcurrencyMode, type RunnerName, type RunTiming } from './protocol.js';
import type { Cell } from './rounds.js';
import { median, spread, type Spread } from './stats.js';

const MB = 1024 * 1024;

/** Per-run metrics every runner is compared on. */
function metrics(run: RunTiming) {
  const steps = Math.max(run.newTokens - 1, 1);
  return {
    prefill_tps: (run.promptTokens * run.streams) / (run.ttftMs / 1000),
    ttft_ms: run.ttftMs,
    decode_tps: ((run.newTokens - 1) * run.streams) / (run.decodeMs / 1000),
    decode_ms_per_step: run.decodeMs / steps,
    e2e_ms: run.e2eMs,
  };
}
type MetricName = keyof ReturnType<typeof metrics>;
const METRICS: MetricName[] = ['prefill_tps', 'ttft_ms', 'decode_tps', 'decode_ms_per_step', 'e2e_ms'];

export interface Summary {
  runner: RunnerName;
  threads: number;
  mode: ConcurrencyMode;
  concurrency: number;
  streams: number;
  error?: string;
  note?: string;
  medians: Record<MetricName | 'peak_rss_mb' | 'model_rss_mb' | 'load_ms', number> | null;
  spread: Record<MetricName, Spread> | null;
  /** This runner against the C++ loop at the same threads and mode; null when either did not run. */
  ratios: {
    decode_ratio_to_native: number;
    ttft_ratio_to_native: number;
    prefill_ratio_to_native: number;
    e2e_ratio_to_native: number;
    rss_ratio_to_native: number;
    model_rss_ratio_to_native: number;
  } | null;
  /**
   * Decode time per step above the C++ loop's, in µs (medians of the same run): what the binding and the
   * JS loop around it add per token. Only for our own runners.
   */
  binding_overhead_us_per_token: number | null;
  /** Aggregate decode tokens/s over this runner's single stream (concurrency rows only). */
  speedup_vs_single_stream: number | null;
  /** Whether the first sequence's tokens equal the C++ loop's (same greedy work); null when unknown. */
  tokens_match_native: boolean | null;
  runs: RunTiming[];
}

function summarize(c: Cell): Summary {
  const ok = !c.error && c.runs.length > 0;
  const per = c.runs.map(metrics);
  return {
    runner: c.runner,
    threads: c.threads,
    mode: c.mode,
    concurrency: c.concurrency,
    streams: c.runs[0]?.streams ?? 0,
    error: c.error || (ok ? undefined : 'no runs'),
    note: c.note,
    medians: ok
      ? {
          ...(Object.fromEntries(METRICS.map((k) => [k, median(per.map((p) => p[k]))])) as Record<MetricName, number>),
          peak_rss_mb: c.peakRssBytes / MB,
          model_rss_mb: (c.peakRssBytes - c.baselineRssBytes) / MB,
          load_ms: c.loadMs,
        }
      : null,
    spread: ok ? (Object.fromEntries(METRICS.map((k) => [k, spread(per.map((p) => p[k]))])) as Record<MetricName, Spread>) : null,
    ratios: null,
    binding_overhead_us_per_token: null,
    speedup_vs_single_stream: null,
    tokens_match_native: null,
    runs: c.runs,
  };
}

/**
 * Median over rounds of mine (op) native: runs with the same index ran back to back, so each pair saw the same
 * machine load. Both cells have medians, so both completed every round.
 */
function paired(mine: RunTiming[], native: RunTiming[], metric: MetricName, op: (a: number, b: number) => number): number {
  return median(mine.map((r, i) => op(metrics(r)[metric], metrics(native[i])[metric])));
}
const ratio = (a: number, b: number) => a / b;
const difference = (a: number, b: number) => a - b;

/** Summaries with every ratio filled in against the C++ loop of the same threads and mode. */
export function compare(cells: Cell[]): Summary[] {
  const summaries = cells.map(summarize);
  const find = (runner: RunnerName, threads: number, mode: ConcurrencyMode) =>
    summaries.find((s) => s.runner === runner && s.threads === threads && s.mode === mode && s.medians);
  for (const s of summaries) {
    if (!s.medians) continue;
    const native = find('native', s.threads, s.mode);
    if (native?.medians) {
      const n = native.medians;
      s.ratios = {
        decode_ratio_to_native: paired(s.runs, native.runs, 'decode_tps', ratio),
        ttft_ratio_to_native: paired(s.runs, native.runs, 'ttft_ms', ratio),
        prefill_ratio_to_native: paired(s.runs, native.runs, 'prefill_tps', ratio),
        e2e_ratio_to_native: paired(s.runs, native.runs, 'e2e_ms', ratio),
        rss_ratio_to_native: s.medians.peak_rss_mb / n.peak_rss_mb,
        model_rss_ratio_to_native: s.medians.model_rss_mb / n.model_rss_mb,
      };
      if (s.runner === 'stepwise' || s.runner === 'generate' || s.runner === 'generate-logprobs') {
        s.binding_overhead_us_per_token = paired(s.runs, native.runs, 'decode_ms_per_step', difference) * 1000;
      }
    }
    const tokensOf = (runner: RunnerName, mode: ConcurrencyMode) =>
      cells.find((c) => c.runner === runner && c.threads === s.threads && c.mode === mode)?.tokens ?? [];
    const reference = tokensOf('native', 'sequential');
    const mine = tokensOf(s.runner, s.mode);
    if (reference.length && mine.length) {
      s.tokens_match_native = reference.length === mine.length && reference.every((t, i) => t === mine[i]);
    }
    if (s.mode !== 'sequential') {
      const single = find(s.runner, s.threads, 'sequential');
      if (single?.medians) s.speedup_vs_single_stream = s.medians.decode_tps / single.medians.decode_tps;
    }
  }
  const modeOrder: ConcurrencyMode[] = ['sequential', 'batched', 'concurrent', 'engine'];
  return summaries.sort(
    (a, b) =>
      a.threads - b.threads ||
      modeOrder.indexOf(a.mode) - modeOrder.indexOf(b.mode) ||
      RUNNERS.indexOf(a.runner) - RUNNERS.indexOf(b.runner),
  );
}

export interface Target {
  name: string;
  target: string;
  value: number | null;
  met: boolean | null;
}

/** Issue 5's targets, checked against the 2-thread (or the last measured) results. */
/** The binding's own cost per token, measured on a counting model where ORT's work per step is smallest. */
export interface OverheadProbe {
  model: string;
  gen_tokens: number;
  us_per_step: Partial<Record<RunnerName, number>>;
  /** Stepwise (generateNextToken from JS) minus the C++ loop, per token. */
  binding_overhead_us_per_token: number | null;
  /** generate/stream minus the C++ loop, per token. */
  generate_overhead_us_per_token: number | null;
  /** The same awaited round trip per token with no ORT and no addon (src/bench/async-floor.ts). */
  async_floor_us_per_token: number | null;
  error?: string;
}

/**
 * Issue 5's targets, checked for each of our two APIs: `generate` (the native token loop behind
 * model.generate/stream) and `stepwise` (a generateNextToken loop written in JS, one async call per token).
 */
export function checkTargets(summaries: Summary[], threads: number, probe: OverheadProbe | null): Target[] {
  const seq = (runner: RunnerName) => summaries.find((s) => s.runner === runner && s.threads === threads && s.mode === 'sequential');
  const peer = [seq('transformersjs'), seq('ort-loop')].filter((s) => s?.medians).sort(
    (a, b) => b!.medians!.decode_tps - a!.medians!.decode_tps,
  )[0];
  const bestConcurrent = summaries
    .filter((s) => s.mode !== 'sequential' && s.runner !== 'native' && s.runner !== 'node-llama-cpp' && s.speedup_vs_single_stream !== null)
    .sort((a, b) => b.speedup_vs_single_stream! - a.speedup_vs_single_stream!)[0];
  const check = (name: string, target: string, value: number | null | undefined, ok: (v: number) => boolean): Target => ({
    name, target, value: value ?? null, met: value == null ? null : ok(value),
  });
  const probed = { generate: probe?.generate_overhead_us_per_token, stepwise: probe?.binding_overhead_us_per_token };
  const ours = (['generate', 'stepwise'] as const).flatMap((runner) => {
    const s = seq(runner);
    return [
      check(`${runner}_decode_ratio_to_native`, '>= 0.98', s?.ratios?.decode_ratio_to_native, (v) => v >= 0.98),
      check(`${runner}_ttft_ratio_to_native`, '<= 1.02', s?.ratios?.ttft_ratio_to_native, (v) => v <= 1.02),
      // The probe's number when there is one: on a real model the difference drowns in run-to-run noise.
      check(`${runner}_binding_overhead_us_per_token`, '< 20', probed[runner] ?? s?.binding_overhead_us_per_token, (v) => v < 20),
      check(`${runner}_rss_ratio_to_native`, '<= 1.05', s?.ratios?.rss_ratio_to_native, (v) => v <= 1.05),
      check(`${runner}_model_rss_ratio_to_native`, '<= 1.05', s?.ratios?.model_rss_ratio_to_native, (v) => v <= 1.05),
      check(`${runner}_decode_ratio_to_js_peer`, '> 1', s?.medians && peer?.medians ? s.medians.decode_tps / peer.medians.decode_tps : null, (v) => v > 1),
      check(`${runner}_prefill_ratio_to_js_peer`, '> 1', s?.medians && peer?.medians ? s.medians.prefill_tps / peer.medians.prefill_tps : null, (v) => v > 1),
    ];
  });
  // Against the official Python binding's loop on the same library (only when --runners has python-og).
  const python = seq('python-og');
  const generate = seq('generate');
  const vsPython = python?.medians && generate?.medians
    ? [
        check('generate_decode_ratio_to_python_og', '>= 1.00', paired(generate.runs, python.runs, 'decode_tps', ratio), (v) => v >= 1),
        check('generate_ttft_ratio_to_python_og', '<= 1.00', paired(generate.runs, python.runs, 'ttft_ms', ratio), (v) => v <= 1),
      ]
    : [];
  // Against llama.cpp through node-llama-cpp on the same model as GGUF (issue 17; only when --runners has it):
  // paired per round like every ratio here, and for N generations at once too.
  const vsLlama = (['sequential', 'concurrent'] as const).flatMap((mode) => {
    const find = (runner: RunnerName) => summaries.find((s) => s.runner === runner && s.threads === threads && s.mode === mode && s.medians);
    const llama = find('node-llama-cpp');
    const mine = find('generate');
    if (!llama || !mine) return [];
    const at = mode === 'sequential' ? '' : `_concurrent_x${mine.concurrency}`;
    return [
      check(`generate${at}_decode_ratio_to_node_llama_cpp`, '>= 1.00', paired(mine.runs, llama.runs, 'decode_tps', ratio), (v) => v >= 1),
      check(`generate${at}_ttft_ratio_to_node_llama_cpp`, '<= 1.00', paired(mine.runs, llama.runs, 'ttft_ms', ratio), (v) => v <= 1),
      ...(mode === 'sequential'
        ? [check('generate_rss_ratio_to_node_llama_cpp', '<= 1.00', mine.medians!.peak_rss_mb / llama.medians!.peak_rss_mb, (v) => v <= 1)]
        : []),
    ];
  });
  return [
    ...ours, ...vsPython, ...vsLlama,
    check('concurrency_speedup_vs_single_stream', '>= 3', bestConcurrent?.speedup_vs_single_stream, (v) => v >= 3),
  ];
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    load_average_at_start: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}
