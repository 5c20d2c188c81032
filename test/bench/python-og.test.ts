// `ortgenai bench --runners python-og`: the official Python binding's token loop as a peer, on the very library
// every other runner loads from the same Python environment (ORTGENAI_PYTHON). Speed is never asserted here.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunnerError } from '../../src/bench/runner-process.js';
import type { BenchReport } from '../../src/bench/run.js';
import { run } from '../../src/cli/commands/bench.js';
import { fixtureModel, testPython } from '../helpers/fixtures.js';

const GEN_TOKENS = 8;
let scratch: string;

/** Runs the bench with ORTGENAI_PYTHON set to `python` (or unset) for its runner processes. */
async function bench(python: string | undefined, runners: string): Promise<BenchReport> {
  const json = path.join(scratch, `${runners}.json`);
  const saved = process.env.ORTGENAI_PYTHON;
  if (python) process.env.ORTGENAI_PYTHON = python;
  else delete process.env.ORTGENAI_PYTHON;
  try {
    await run([
      '-m', fixtureModel('tiny-random'), '--prompt-tokens', '16', '--gen-tokens', String(GEN_TOKENS), '--repeat', '1',
      '--warmup', '0', '--threads', '1', '--concurrency', '2', '--runners', runners, '--json', json, '--cache-dir', scratch,
    ]);
  } finally {
    if (saved === undefined) delete process.env.ORTGENAI_PYTHON;
    else process.env.ORTGENAI_PYTHON = saved;
  }
  return JSON.parse(await readFile(json, 'utf8')) as BenchReport;
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'bench-python-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('ortgenai bench --runners python-og', () => {
  it('runs the Python loop on the same library: same greedy tokens, same-run ratios, and its two targets', async () => {
    const report = await bench(testPython(), 'native,generate,python-og');
    const row = (runner: string, mode = 'sequential') => report.results.find((r) => r.runner === runner && r.mode === mode)!;
    for (const [runner, mode] of [['python-og', 'sequential'], ['python-og', 'batched'], ['python-og', 'concurrent']]) {
      const r = row(runner, mode);
      expect(r.error, `${runner} ${mode}: ${r.error}`).toBeUndefined();
      expect(r.tokens_match_native, `${runner} ${mode}`).toBe(true);
      for (const timing of r.runs) expect(timing.newTokens).toBe(GEN_TOKENS);
    }
    expect(Object.keys(row('python-og').ratios!)).toContain('decode_ratio_to_native');
    // The Engine runs on the wheel's 0.18.0 too (its 0.16+ API): the C++ loop's and our engine rows are measured,
    // with the same tokens; the Python loop has no engine mode.
    const engineRows = report.results.filter((r) => r.mode === 'engine');
    expect(engineRows.map((r) => r.runner).sort()).toEqual(['generate', 'native']);
    for (const r of engineRows) expect(r.error, `${r.runner} engine: ${r.error}`).toBeUndefined();
    expect(row('generate', 'engine').tokens_match_native).toBe(true);
    const names = report.targets.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['generate_decode_ratio_to_python_og', 'generate_ttft_ratio_to_python_og']));
    for (const t of report.targets.filter((x) => x.name.endsWith('python_og'))) expect(typeof t.value, t.name).toBe('number');
  });

  it('is not run unless named, and without a Python environment it fails saying what to set', async () => {
    await expect(bench(undefined, 'python-og')).rejects.toThrow(
      new RunnerError('requested runners could not run: python-og (see above; leave them out with --runners)'),
    );
    const report = JSON.parse(await readFile(path.join(scratch, 'python-og.json'), 'utf8')) as BenchReport;
    expect(report.results[0].error).toMatch(/^the python-og runner needs a Python with onnxruntime-genai: set ORTGENAI_PYTHON=/);
  });
});
