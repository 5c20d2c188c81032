// The C++ programs the tests compare the addon with (test/native/binding.gyp: node-gyp, like the addon, but
// never published). test/global-setup.ts builds them once per run with `npm run build:reference`, so a fresh
// clone's `npm test` needs nothing but `npm install` first.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './fixtures.js';

const outDir = path.join(repoRoot, 'test', 'native', 'build', 'Release');
export const STEPWISE_REFERENCE = path.join(outDir, 'stepwise_reference');
export const NATIVE_LOOP = path.join(outDir, 'native_loop');

/** Configures and builds both programs (make rebuilds only what changed). */
export function buildReferencePrograms(): void {
  execFileSync('npm', ['run', '--silent', 'build:reference'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
}
