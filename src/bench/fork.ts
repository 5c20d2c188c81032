import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job, RunnerResult } from './protocol.js';

/** Running from TypeScript sources (tests), child scripts need the tsx loader; built JS needs nothing. */
export function nodeArgsFor(script: string): string[] {
  return script.endsWith('.ts') ? ['--import', 'tsx'] : [];
}

/**
 * Runs one Node runner in a fresh process: its peak RSS is its own, and a crash (an abort inside a native
 * library) becomes a reported error instead of ending the bench.
 */
export async function runInChild(job: Job): Promise<RunnerResult> {
  const script = fileURLToPath(new URL(`./child${path.extname(import.meta.url)}`, import.meta.url));
  const child = fork(script, [], {
    execArgv: nodeArgsFor(script),
    // Our async calls run on libuv's pool: give concurrent generations a thread each.
    env: { ...process.env, UV_THREADPOOL_SIZE: String(Math.max(4, job.concurrency)) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let result: RunnerResult | undefined;
  child.on('message', (m) => (result = m as RunnerResult));
  const exit = new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
  });
  child.send(job);
  const how = await exit;
  return (
    result ?? {
      runner: job.runner, mode: job.mode, loadMs: 0, baselineRssBytes: 0, peakRssBytes: 0, runs: [], tokens: [],
      error: `the ${job.runner} process died (${how}) before reporting: ${output.trim().split('\n').slice(-5).join(' | ')}`,
    }
  );
}
