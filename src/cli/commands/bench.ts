import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ValidationError } from '../../errors.js';
import { logBenchRun } from '../../bench/mlflow-run.js';
import { MlflowClient } from '../../mlflow/tracking/client.js';
import { runBench } from '../../bench/run.js';
import { benchOptionsSchema, instructionOptionsSchema } from '../../bench/options.js';
import { countInstructions } from '../../bench/instructions.js';
import { RunnerError } from '../../bench/runner-process.js';
import { renderTable, renderTargets } from '../../bench/table.js';
import { numberFlag, parseCommandArgs, UsageError } from '../args.js';
import { describeIssues } from '../../zod-issues.js';
import { ProgressBar } from '../progress.js';
import type { BenchLog } from '../../bench/rounds.js';

const HELP = `usage: ortgenai bench (-m <model folder> | --preset small|phi3-mini) [options]
       ortgenai bench --instructions [-m <model folder>] [--runners native,generate,stepwise] [--json <file>]

Runs each runner in its own process on the same model and prompt, side by side, and prints medians,
spread and ratios to the C++ reference loop (bench/native_loop.cc, built with 'npm run build:reference').
Exits with status 1 when a requested runner cannot run (the message says what it needs).

  -m, --model <dir>        ORT-GenAI model folder
      --preset <name>      generate this preset once into the cache (small, phi3-mini) and use it
      --prompt-tokens <n>  prompt length in tokens (default 128)
      --gen-tokens <n>     new tokens per generation; EOS never ends a run early (default 128)
      --batch <n>          sequences per generation (default 1)
      --repeat <n>         timed generations per runner (default 5)
      --warmup <n>         untimed generations first (default 1)
      --threads <list>     intra-op thread counts to compare at, e.g. 1,2 (default 1,2)
      --concurrency <n>    also run n generations at once on one model (default 1: off)
      --runners <list>     native,stepwise,generate,generate-logprobs,transformersjs,ort-loop (default: these),
                           node-llama-cpp (llama.cpp on the model's model.gguf: presets have one, else
                           'ortgenai make-model --gguf'), python-og (the official Python binding's loop; needs
                           ORTGENAI_PYTHON, whose library every runner then uses), chat-first / chat / chat-fresh
                           (a ChatSession's first turn / its second with the first's KV cache reused / with the
                           conversation prefilled again)
      --json <file>        write the full report as JSON
      --cache-dir <dir>    where presets are generated (default ~/.cache/ortgenai-node)
      --mlflow             log the bench as an MLflow run (params, figures, the JSON report as an
                           artifact) to MLFLOW_TRACKING_URI (a tracking server or a local folder)
      --experiment <name>  the run's experiment with --mlflow (default ortgenai-bench; created if missing)
      --instructions       instead of timings: instructions per generated token under valgrind's callgrind
                           (stable where wall-clock ratios are not), for the C++ loop and our generate
                           (and stepwise) loops, on the counting model unless -m; needs valgrind; ~3.5 minutes`;

/** The bench's lines on standard error; on a terminal, the rounds of a phase are one bar instead of a line each. */
function benchLog(): BenchLog {
  if (!process.stderr.isTTY) return (line) => console.error(line);
  let bar: ProgressBar | undefined;
  return (line, round) => {
    if (!round) {
      bar?.stop();
      bar = undefined;
      console.error(line);
      return;
    }
    bar ??= new ProgressBar(`${round.phase} rounds`, round.total);
    bar.update(round.done);
    if (round.done === round.total) {
      bar.stop();
      bar = undefined;
    }
  };
}

const list = (s: string | undefined) => s?.split(',').map((x) => x.trim()).filter(Boolean);

export async function run(argv: string[]): Promise<void> {
  const values = parseCommandArgs(
    argv,
    {
      model: { type: 'string', short: 'm' },
      preset: { type: 'string' },
      'prompt-tokens': { type: 'string' },
      'gen-tokens': { type: 'string' },
      batch: { type: 'string' },
      repeat: { type: 'string' },
      warmup: { type: 'string' },
      threads: { type: 'string' },
      concurrency: { type: 'string' },
      runners: { type: 'string' },
      json: { type: 'string' },
      'cache-dir': { type: 'string' },
      mlflow: { type: 'boolean' },
      experiment: { type: 'string' },
      instructions: { type: 'boolean' },
    },
    HELP,
  );
  if (!values) return;
  if (values.instructions) return runInstructions(values);
  if (values.experiment !== undefined && !values.mlflow) throw new UsageError('--experiment is only used with --mlflow', ['experiment: needs --mlflow']);
  const parsed = benchOptionsSchema.safeParse({
    model: values.model,
    preset: values.preset,
    promptTokens: numberFlag('prompt-tokens', values['prompt-tokens'], 'integer'),
    genTokens: numberFlag('gen-tokens', values['gen-tokens'], 'integer'),
    batch: numberFlag('batch', values.batch, 'integer'),
    repeat: numberFlag('repeat', values.repeat, 'integer'),
    warmup: numberFlag('warmup', values.warmup, 'integer'),
    threads: list(values.threads)?.map((t) => numberFlag('threads', t, 'integer')),
    concurrency: numberFlag('concurrency', values.concurrency, 'integer'),
    runners: list(values.runners),
    json: values.json,
    cacheDir: values['cache-dir'],
  });
  if (!parsed.success) {
    const issues = describeIssues(parsed.error, 'options');
    throw new ValidationError(`invalid bench options:\n  ${issues.join('\n  ')}\n\n${HELP}`, issues);
  }
  // Before the run, not after it: a bad --json path must not cost minutes of measurements.
  if (parsed.data.json) await mkdir(path.dirname(path.resolve(parsed.data.json)), { recursive: true });
  // The tracking URI is checked before the run too: a store we cannot use must not cost the measurements.
  const tracking = values.mlflow ? new MlflowClient() : undefined;
  const report = await runBench(parsed.data, benchLog());
  console.log(`\nmodel: ${report.model.path} (${report.model.type})`);
  console.log(`machine: ${report.machine.cpu}, ${report.machine.cores} cores, load ${report.machine.load_average_at_start.join(' ')}`);
  console.log(
    `prompt ${report.settings.promptTokens} + ${report.settings.genTokens} new tokens, batch ${report.settings.batch}, ` +
      `${report.settings.repeat} repeats after ${report.settings.warmup} warmup; median ±half-range\n`,
  );
  console.log(renderTable(report.results));
  for (const s of report.results.filter((r) => r.note)) console.log(`note (${s.runner}): ${s.note}`);
  for (const s of report.results.filter((r) => r.error)) console.log(`\n${s.runner} (threads ${s.threads}, ${s.mode}) failed:\n  ${s.error}`);
  const probe = report.overhead_probe;
  if (probe) {
    const steps = Object.entries(probe.us_per_step).map(([r, us]) => `${r} ${us.toFixed(1)}`).join(', ');
    console.log(
      `\nbinding overhead probe (${probe.model}, ${probe.gen_tokens} tokens, 1 thread), µs per step: ${steps || 'none'}` +
        (probe.async_floor_us_per_token === null
          ? ''
          : `\n  the same awaited round trip per token with no ORT and no addon (a plain worker_thread) costs ${probe.async_floor_us_per_token.toFixed(1)} µs here`) +
        (probe.error ? `\n  ${probe.error}` : ''),
    );
  }
  console.log(`\ntargets (threads ${Math.max(...report.settings.threads)}):\n${renderTargets(report.targets)}`);
  if (parsed.data.json) {
    await writeFile(parsed.data.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${parsed.data.json}`);
  }
  if (values.mlflow) {
    const run = await logBenchRun(report, { experiment: values.experiment, client: tracking });
    console.log(`\nlogged MLflow run ${run.info.runId} (experiment ${run.info.experimentId}) with the report as ${run.info.artifactUri}/bench-report.json`);
  }
  const failed = [...new Set(report.results.filter((r) => r.error).map((r) => r.runner))];
  if (failed.length) {
    throw new RunnerError(`requested runners could not run: ${failed.join(', ')} (see above; leave them out with --runners)`);
  }
}

/** `--instructions`: instruction counts per token, printed and optionally written as JSON. */
async function runInstructions(values: { model?: string; runners?: string; json?: string; 'cache-dir'?: string; [flag: string]: unknown }): Promise<void> {
  const parsed = instructionOptionsSchema.safeParse({ model: values.model, runners: list(values.runners), json: values.json, cacheDir: values['cache-dir'] });
  if (!parsed.success) {
    const issues = describeIssues(parsed.error, 'options');
    throw new ValidationError(`invalid bench --instructions options:\n  ${issues.join('\n  ')}\n\n${HELP}`, issues);
  }
  if (parsed.data.json) await mkdir(path.dirname(path.resolve(parsed.data.json)), { recursive: true });
  const counts = await countInstructions(parsed.data, (line) => console.error(line));
  console.log(`\nmodel: ${counts.model}; ${counts.valgrind}; prompt ${counts.prompt_tokens} tokens, 1 thread`);
  console.log(`instructions per generated token, from ${counts.gen_tokens.join(' and ')} new tokens per request:`);
  for (const [runner, perToken] of Object.entries(counts.per_token)) {
    const over = counts.overhead_per_token[runner as keyof typeof counts.overhead_per_token];
    console.log(`  ${runner.padEnd(9)} ${Math.round(perToken).toLocaleString('en').padStart(12)}${over === undefined ? '' : `  (${over >= 0 ? '+' : ''}${Math.round(over).toLocaleString('en')} over the C++ loop)`}`);
  }
  if (parsed.data.json) {
    await writeFile(parsed.data.json, `${JSON.stringify(counts, null, 2)}\n`);
    console.log(`\nwrote ${parsed.data.json}`);
  }
}
