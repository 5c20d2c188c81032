import { MlflowClient } from '../mlflow/tracking/client.js';
import type { Run } from '../mlflow/tracking/entities.js';
import type { BenchReport } from './run.js';

/**
 * `ortgenai bench --mlflow`: the bench as an MLflow run, so benchmark history lives where the models
 * live. Params are the settings, model and machine; metrics are each runner row's medians, ratios to the
 * C++ loop and RSS, keyed `<runner>.t<threads>.<mode>.<figure>`; the JSON report is the artifact
 * `bench-report.json`. The run goes to `experiment` (created when missing) on the tracking URI.
 */

export const BENCH_REPORT_ARTIFACT = 'bench-report.json';
const DEFAULT_EXPERIMENT = 'ortgenai-bench';

function params(report: BenchReport): Record<string, string> {
  const s = report.settings;
  return {
    prompt_tokens: String(s.promptTokens),
    gen_tokens: String(s.genTokens),
    batch: String(s.batch),
    repeat: String(s.repeat),
    warmup: String(s.warmup),
    threads: s.threads.join(','),
    concurrency: String(s.concurrency),
    runners: s.runners.join(','),
    model_path: report.model.path,
    model_type: report.model.type,
    model_preset: report.model.preset ?? '',
    model_layers: String(report.model.layers),
    model_vocab_size: String(report.model.vocab_size),
    machine_cpu: report.machine.cpu,
    machine_cores: String(report.machine.cores),
    node_version: report.machine.node,
  };
}

function metrics(report: BenchReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of report.results) {
    const prefix = `${row.runner}.t${row.threads}.${row.mode}`;
    for (const [k, v] of Object.entries(row.medians ?? {})) out[`${prefix}.${k}`] = v;
    for (const [k, v] of Object.entries(row.ratios ?? {})) out[`${prefix}.${k}`] = v;
    if (row.binding_overhead_us_per_token !== null) out[`${prefix}.binding_overhead_us_per_token`] = row.binding_overhead_us_per_token;
    if (row.speedup_vs_single_stream !== null) out[`${prefix}.speedup_vs_single_stream`] = row.speedup_vs_single_stream;
  }
  for (const t of report.targets) if (t.value !== null && Number.isFinite(t.value)) out[`target.${t.name}`] = t.value;
  // Metric values must be numbers; a figure that could not be measured is left out, not logged as NaN.
  return Object.fromEntries(Object.entries(out).filter(([, v]) => typeof v === 'number' && !Number.isNaN(v)));
}

export async function logBenchRun(report: BenchReport, options: { experiment?: string; runName?: string; client?: MlflowClient } = {}): Promise<Run> {
  const client = options.client ?? new MlflowClient();
  const name = options.experiment ?? DEFAULT_EXPERIMENT;
  const experimentId = (await client.getExperimentByName(name))?.experimentId ?? (await client.createExperiment(name));
  const run = await client.createRun(experimentId, {
    runName: options.runName ?? `bench-${report.model.type}-${report.date}`,
    startTime: Date.parse(report.date) || Date.now(),
    tags: { 'mlflow.source.name': 'ortgenai bench', 'mlflow.source.type': 'LOCAL', 'ortgenai.bench.schema': report.schema },
  });
  const runId = run.info.runId;
  try {
    const timestamp = Date.now();
    await client.logBatch(runId, {
      params: Object.entries(params(report)).map(([key, value]) => ({ key, value })),
      metrics: Object.entries(metrics(report)).map(([key, value]) => ({ key, value, timestamp, step: 0 })),
      tags: report.results.filter((r) => r.error).map((r) => ({ key: `error.${r.runner}.t${r.threads}.${r.mode}`, value: r.error!.slice(0, 8000) })),
    });
    await client.logText(runId, `${JSON.stringify(report, null, 2)}\n`, BENCH_REPORT_ARTIFACT);
    await client.setTerminated(runId, 'FINISHED');
  } catch (err) {
    await client.setTerminated(runId, 'FAILED').catch(() => undefined);
    throw err;
  }
  return client.getRun(runId);
}
