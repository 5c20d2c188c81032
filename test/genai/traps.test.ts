// Calls that crash some ORT-GenAI versions outright. Each runs in its own child process (test/genai/trap.mjs), so a
// guard that fails fails its test instead of taking the run down. The guards are keyed on the loaded library's
// version: refused where it crashes, passed through where it is fixed.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { binding, runtimeLibraries } from '../../src/native.js';
import { repoRoot } from '../helpers/fixtures.js';
import { testModels } from './models.js';

interface TrapResult {
  ok: boolean;
  code?: string;
  message?: string;
  shape?: number[];
}

async function runTrap(dir: string, trap: string): Promise<TrapResult> {
  const { ort, genai } = runtimeLibraries();
  const script = path.join(repoRoot, 'test', 'genai', 'trap.mjs');
  // A crash rejects with the signal in the error, which fails the test with it.
  const { stdout } = await promisify(execFile)(process.execPath, [script, repoRoot, ort, genai, dir, trap]);
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

function olderThan018(): boolean {
  const [major, minor] = binding().runtimeInfo().genaiVersion.split('.').map(Number);
  return !(major > 0 || minor >= 18);
}

describe.each(testModels())('crash traps on $name', ({ dir }) => {
  it('getLogits() under beam search: refused where the library aborts, [beams, 1, vocab] where fixed', async () => {
    const result = await runTrap(dir, 'beam-logits');
    if (olderThan018()) {
      expect(result).toMatchObject({ ok: false, code: 'GENAI_ERROR' });
      expect(result.message).toMatch(/num_beams > 1 crashes ORT-GenAI 0\.\d+\.\d+/);
    } else {
      expect(result.ok).toBe(true);
      expect(result.shape?.slice(0, 2)).toEqual([3, 1]);
    }
  });

  it('getOutput() of an unknown name: a clear error, never a segfault', async () => {
    const result = await runTrap(dir, 'unknown-output');
    expect(result).toMatchObject({ ok: false, code: 'GENAI_ERROR' });
    expect(result.message).toMatch(olderThan018() ? /before 0\.18 only 'logits'/ : /no_such_output/);
  });

  it('isDone() while terminate_session is set: a clear error, never an abort; clearing it lets the generator go on', async () => {
    const result = await runTrap(dir, 'done-when-terminated');
    expect(result).toMatchObject({ ok: false, code: 'GENAI_ERROR' });
    expect(result.message).toMatch(/session is terminated.*'terminate_session', '0'/);
  });

  it('getOutput() before the first run: a clear error, never a segfault', async () => {
    const result = await runTrap(dir, 'output-before-run');
    expect(result).toMatchObject({ ok: false, code: 'GENAI_ERROR' });
    expect(result.message).toMatch(olderThan018() ? /after appendTokens/ : /logits/);
  });
});
