import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveRuntimeLibraries } from '../runtime.js';
import type { Job, RunnerResult } from './protocol.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where `npm run build:bench` puts the C++ loop; ORTGENAI_BENCH_NATIVE_LOOP points elsewhere. */
export function nativeLoopPath(): string {
  return process.env.ORTGENAI_BENCH_NATIVE_LOOP ?? path.join(packageRoot, 'build', 'bench', 'native_loop');
}

export const BUILD_NATIVE_LOOP = 'npm run build:bench  (cmake -S bench -B build/bench && cmake --build build/bench)';

/** Runs the C++ reference loop (bench/native_loop.cc) as its own process. */
export async function runNativeLoop(job: Job): Promise<RunnerResult> {
  const exe = nativeLoopPath();
  const failed = (error: string): RunnerResult => ({
    runner: 'native', mode: job.mode, loadMs: 0, baselineRssBytes: 0, peakRssBytes: 0, runs: [], tokens: [], error,
  });
  if (!existsSync(exe)) return failed(`the C++ reference loop is not built (${exe} is missing): run ${BUILD_NATIVE_LOOP}`);
  let libs;
  try {
    libs = resolveRuntimeLibraries();
  } catch (err) {
    return failed((err as Error).message);
  }
  const args = [
    '--model', job.model, '--ort-lib', libs.ort, '--genai-lib', libs.genai,
    '--prompt-ids', job.promptIds.join(','), '--gen-tokens', String(job.genTokens), '--batch', String(job.batch),
    '--threads', String(job.threads), '--repeat', String(job.repeat), '--warmup', String(job.warmup),
    '--mode', job.mode, '--concurrency', String(job.concurrency),
  ];
  const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) return failed(`native_loop exited with ${code} and no result: ${stderr.trim().slice(-500)}`);
  const parsed = JSON.parse(line) as Partial<RunnerResult> & { error?: string };
  if (parsed.error) return failed(parsed.error);
  return { ...failed(''), ...parsed, error: undefined, runner: 'native', mode: job.mode };
}
