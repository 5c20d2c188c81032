// Functional tests of `ortgenai bench`: it runs every runner on a real generated model and writes the
// documented JSON. Speed is never asserted here (the bench itself is the speed check).
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { UsageError } from '../../src/cli/args.js';
import { run } from '../../src/cli/commands/bench.js';
import { RunnerError } from '../../src/bench/runner-process.js';
import type { BenchReport } from '../../src/bench/run.js';
import { buildModel } from '../../src/modelbuilder/index.js';
import { fixtureModel } from '../helpers/fixtures.js';

const GEN_TOKENS = 8;
let scratch: string;
let report: BenchReport;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'bench-test-'));
  const json = path.join(scratch, 'out.json');
  // Configured with a search.max_length below one run's 16 + 8 tokens: every runner must still generate them all,
  // the 0.18 Engine's requests included, which are sized by the configuration (the bench overlays prompt + new).
  const model = path.join(scratch, 'tiny-random');
  await cp(fixtureModel('tiny-random'), model, { recursive: true });
  const config = JSON.parse(await readFile(path.join(model, 'genai_config.json'), 'utf8')) as { search: { max_length: number } };
  config.search.max_length = 12;
  await writeFile(path.join(model, 'genai_config.json'), JSON.stringify(config));
  await run([
    '-m', model, '--prompt-tokens', '16', '--gen-tokens', String(GEN_TOKENS),
    '--repeat', '1', '--warmup', '0', '--threads', '1', '--concurrency', '2', '--json', json,
    '--cache-dir', scratch,
  ]);
  report = JSON.parse(await readFile(json, 'utf8')) as BenchReport;
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const row = (runner: string, mode = 'sequential') => report.results.find((r) => r.runner === runner && r.mode === mode)!;

describe('ortgenai bench', () => {
  it('runs every runner and reports medians under the documented keys', () => {
    for (const runner of ['native', 'stepwise', 'generate', 'generate-logprobs', 'transformersjs', 'ort-loop']) {
      const r = row(runner);
      expect(r.error, `${runner}: ${r.error}`).toBeUndefined();
      expect(Object.keys(r.medians!)).toEqual(
        expect.arrayContaining(['prefill_tps', 'ttft_ms', 'decode_tps', 'e2e_ms', 'peak_rss_mb', 'model_rss_mb']),
      );
      expect(r.medians!.peak_rss_mb).toBeGreaterThan(r.medians!.model_rss_mb);
    }
  });

  it('gives every runner its ratios to the C++ loop', () => {
    for (const runner of ['stepwise', 'generate', 'generate-logprobs', 'transformersjs', 'ort-loop']) {
      expect(Object.keys(row(runner).ratios!).sort()).toEqual(
        ['decode_ratio_to_native', 'e2e_ratio_to_native', 'model_rss_ratio_to_native', 'prefill_ratio_to_native',
          'rss_ratio_to_native', 'ttft_ratio_to_native'],
      );
    }
    expect(typeof row('stepwise').binding_overhead_us_per_token).toBe('number');
    expect(typeof row('generate-logprobs').binding_overhead_us_per_token).toBe('number');
  });

  it('never lets EOS end a run early', () => {
    for (const r of report.results.filter((x) => !x.error)) {
      for (const timing of r.runs) expect(timing.newTokens, `${r.runner} ${r.mode}`).toBe(GEN_TOKENS);
    }
  });

  it('has our binding produce exactly the C++ loop\'s greedy tokens', () => {
    expect(row('stepwise').tokens_match_native).toBe(true);
    expect(row('generate').tokens_match_native).toBe(true);
    expect(row('generate-logprobs').tokens_match_native).toBe(true);
  });

  it('measures concurrent generations against a single stream', () => {
    // The engine rows run on 0.15's Engine API and on 0.18's (ORTGENAI_PYTHON), in the C++ loop and through ours.
    const engine = [['native', 'engine'], ['generate', 'engine']];
    for (const [runner, mode] of [['stepwise', 'concurrent'], ['stepwise', 'batched'], ['generate', 'concurrent'], ...engine]) {
      const r = row(runner, mode);
      expect(r.error, `${runner} ${mode}`).toBeUndefined();
      expect(r.streams, `${runner} ${mode}`).toBe(2);
      expect(r.speedup_vs_single_stream, `${runner} ${mode}`).toBeGreaterThan(0);
    }
    expect(row('native', 'batched').streams).toBe(2);
  });

  it('measures the binding overhead on the counting model and checks the issue targets', () => {
    expect(report.overhead_probe?.error).toBeUndefined();
    expect(report.overhead_probe?.us_per_step.native).toBeGreaterThan(0);
    expect(typeof report.overhead_probe?.binding_overhead_us_per_token).toBe('number');
    expect(typeof report.overhead_probe?.generate_overhead_us_per_token).toBe('number');
    // The platform's cost of one awaited round trip beyond the work: a round trip is never free.
    expect(report.overhead_probe?.async_floor_us_per_token).toBeGreaterThan(0);
    const names = report.targets.map((t) => t.name);
    for (const runner of ['generate', 'stepwise']) {
      for (const key of ['decode_ratio_to_native', 'ttft_ratio_to_native', 'binding_overhead_us_per_token', 'rss_ratio_to_native', 'decode_ratio_to_js_peer']) {
        expect(names).toContain(`${runner}_${key}`);
      }
    }
    expect(names).toContain('concurrency_speedup_vs_single_stream');
    for (const t of report.targets) expect(typeof t.value, t.name).toBe('number');
  });

  it('rejects bad options with a ValidationError', async () => {
    await expect(run(['-m', fixtureModel('tiny-random'), '--threads', '0'])).rejects.toBeInstanceOf(ValidationError);
    await expect(run(['--repeat', '1'])).rejects.toThrow(/-m|--preset/);
    await expect(run(['-m', path.join(scratch, 'missing')])).rejects.toThrow(/not an ORT-GenAI model folder/);
    await expect(run(['-m', fixtureModel('tiny-random'), '--runners', 'nope'])).rejects.toBeInstanceOf(ValidationError);
    await expect(run(['-m', fixtureModel('tiny-random'), '--threads', '1,two'])).rejects.toThrow(
      new UsageError("--threads must be an integer, got 'two'"), // a ValidationError the CLI exits 2 for
    );
    await expect(run(['-m', fixtureModel('tiny-random'), '--repeat', '1.5'])).rejects.toThrow("--repeat must be an integer, got '1.5'");
    // Named twice, a runner would run twice (and its first process never be closed), a thread count would pair
    // its rounds with another group's.
    await expect(run(['-m', fixtureModel('tiny-random'), '--runners', 'native,native'])).rejects.toThrow(/each runner once/);
    await expect(run(['-m', fixtureModel('tiny-random'), '--threads', '1,1'])).rejects.toThrow(/each thread count once/);
  });

  /** Runs only the native runner with ORTGENAI_BENCH_NATIVE_LOOP set to `exe`; the report it wrote. */
  async function runBrokenNative(exe: string): Promise<BenchReport> {
    const json = path.join(scratch, 'broken.json');
    const saved = process.env.ORTGENAI_BENCH_NATIVE_LOOP;
    process.env.ORTGENAI_BENCH_NATIVE_LOOP = exe;
    try {
      // The report is still printed and written, then the command fails: a requested runner did not run.
      await expect(
        run([
          '-m', fixtureModel('tiny-random'), '--prompt-tokens', '4', '--gen-tokens', '4', '--repeat', '1', '--warmup', '0',
          '--threads', '1', '--runners', 'native', '--json', json, '--cache-dir', scratch,
        ]),
      ).rejects.toThrow(new RunnerError('requested runners could not run: native (see above; leave them out with --runners)'));
    } finally {
      if (saved === undefined) delete process.env.ORTGENAI_BENCH_NATIVE_LOOP;
      else process.env.ORTGENAI_BENCH_NATIVE_LOOP = saved;
    }
    const broken = JSON.parse(await readFile(json, 'utf8')) as BenchReport;
    expect(broken.results).toHaveLength(1);
    expect(broken.results[0].medians).toBeNull();
    return broken;
  }

  it('fails on a C++ loop that cannot be started, after reporting it as that runner\'s error', async () => {
    const broken = await runBrokenNative(scratch); // a folder: spawn fails with EACCES
    expect(broken.results[0].error).toMatch(/the native process died \(spawn .* EACCES\)/);
  });

  it('fails on a C++ loop that is not built, saying how to build it', async () => {
    const broken = await runBrokenNative(path.join(scratch, 'no-such-native-loop'));
    expect(broken.results[0].error).toContain("is missing): run 'npm run build:reference' in a checkout of ortgenai-node");
  });
});

describe('ortgenai bench --runners chat-first,chat,chat-fresh', () => {
  it('times a conversation\'s first turn, and its second with the KV cache reused and without', async () => {
    const json = path.join(scratch, 'chat.json');
    await run([
      '-m', fixtureModel('tiny-random'), '--prompt-tokens', '16', '--gen-tokens', '8', '--repeat', '2', '--warmup', '0',
      '--threads', '1', '--runners', 'chat-first,chat,chat-fresh', '--json', json, '--cache-dir', scratch,
    ]);
    const chat = JSON.parse(await readFile(json, 'utf8')) as BenchReport;
    const rows = ['chat', 'chat-fresh', 'chat-first'].map((runner) => chat.results.find((r) => r.runner === runner)!);
    for (const r of rows) {
      expect(r.error, `${r.runner}: ${r.error}`).toBeUndefined();
      expect(r.runs).toHaveLength(2);
      expect(r.tokens_match_native).toBeNull(); // the chat template's prompt is not the C++ loop's
    }
    // Both prefill-or-reuse the same templated conversation: the first turn, its answer and the message again.
    expect(rows[0].runs[0].promptTokens).toBe(rows[1].runs[0].promptTokens);
    expect(rows[0].runs[0].promptTokens).toBeGreaterThan(2 * 16);
    expect(rows[2].runs[0].promptTokens).toBeGreaterThanOrEqual(16);
    expect(rows[2].runs[0].promptTokens).toBeLessThan(rows[0].runs[0].promptTokens - 16);
  });
});

describe('ortgenai bench --runners node-llama-cpp', () => {
  it('runs llama.cpp on the model\'s GGUF copy like the others, with same-run ratios to the C++ loop and to us', async () => {
    const model = path.join(scratch, 'tiny-random-gguf');
    await buildModel({ preset: 'tiny-random', outDir: model, gguf: true });
    const json = path.join(scratch, 'llama.json');
    await run([
      '-m', model, '--prompt-tokens', '16', '--gen-tokens', String(GEN_TOKENS), '--repeat', '1', '--warmup', '0',
      '--threads', '1', '--concurrency', '2', '--runners', 'native,generate,node-llama-cpp', '--json', json,
    ]);
    const llama = JSON.parse(await readFile(json, 'utf8')) as BenchReport;
    const find = (runner: string, mode: string) => llama.results.find((r) => r.runner === runner && r.mode === mode)!;
    for (const mode of ['sequential', 'concurrent']) {
      const r = find('node-llama-cpp', mode);
      expect(r.error, `${mode}: ${r.error}`).toBeUndefined();
      expect(r.streams).toBe(mode === 'sequential' ? 1 : 2);
      expect(r.runs[0].newTokens).toBe(GEN_TOKENS);
      expect(r.ratios?.decode_ratio_to_native).toBeGreaterThan(0);
    }
    // Same weights, same prompt ids: llama.cpp's greedy tokens are the C++ loop's on this model.
    expect(find('node-llama-cpp', 'sequential').tokens_match_native).toBe(true);
    const names = llama.targets.filter((t) => t.value !== null).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining([
      'generate_decode_ratio_to_node_llama_cpp', 'generate_ttft_ratio_to_node_llama_cpp', 'generate_rss_ratio_to_node_llama_cpp',
      'generate_concurrent_x2_decode_ratio_to_node_llama_cpp',
    ]));
  });

  it('says how to make the GGUF when the model folder has none', async () => {
    const json = path.join(scratch, 'no-gguf.json');
    await expect(run([
      '-m', fixtureModel('tiny-random'), '--prompt-tokens', '4', '--gen-tokens', '4', '--repeat', '1', '--warmup', '0',
      '--threads', '1', '--runners', 'node-llama-cpp', '--json', json,
    ])).rejects.toBeInstanceOf(RunnerError);
    const report = JSON.parse(await readFile(json, 'utf8')) as BenchReport;
    expect(report.results[0].error).toMatch(/no GGUF model next to .*make-model --preset <name> --gguf/);
  });
});
