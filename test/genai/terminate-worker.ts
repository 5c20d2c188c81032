// Runs worker.mjs in a child process where only the worker uses the addon, terminates the worker 1.5 s into its
// generations and reports how the child ended: the worker's teardown (and the addon's) must stop native threads
// that are still running, without a crash or a stuck exit.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';
import { runtimeLibraries } from '../../src/native.js';
import { repoRoot } from '../helpers/fixtures.js';
import { PROMPT_IDS } from './models.js';

export function expectCleanTerminationMidRun(modelDir: string, options: { engine?: boolean; stepwise?: boolean } = {}): void {
  const { ort, genai } = runtimeLibraries();
  const workerData = { packageRoot: repoRoot, ort, genai, modelDir, prompt: PROMPT_IDS, newTokens: 400, rounds: 50, ...options };
  const main = `
    import { Worker } from 'node:worker_threads';
    const w = new Worker(${JSON.stringify(path.join(import.meta.dirname, 'worker.mjs'))}, { execArgv: [], workerData: ${JSON.stringify(workerData)} });
    w.on('error', (e) => { console.error(e); process.exitCode = 1; });
    await new Promise((r) => setTimeout(r, 1500));
    await w.terminate();
    console.log('terminated');
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', main], { encoding: 'utf8', timeout: 60_000 });
  expect(child.stderr).toBe('');
  expect(child.stdout.trim()).toBe('terminated');
  expect(child.signal).toBeNull();
  expect(child.status).toBe(0);
}
