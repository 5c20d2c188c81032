import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from './fixtures.js';

/** Every variable that chooses the runtime: cleared in child processes unless a test sets it. */
const RUNTIME_VARS = { ORTGENAI_PYTHON: '', ORTGENAI_LIB_PATH: '', ORTGENAI_LIB_DIR: '', ORT_LIB_PATH: '', ORT_LIB_DIR: '' };

/**
 * Runs a TypeScript module in a fresh node process (a process loads its runtime once, so runtime tests need
 * their own), with the runtime variables cleared and `env` added. Returns what it printed and how it ended.
 */
export function runTypeScriptChild(script: string, env: Record<string, string>) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ortgenai-child-')), 'child.mts');
  writeFileSync(file, script);
  const child = spawnSync(process.execPath, ['--import', 'tsx', file], {
    cwd: repoRoot,
    env: { ...process.env, ...RUNTIME_VARS, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { out: child.stdout.trim(), err: child.stderr, status: child.status, signal: child.signal };
}
