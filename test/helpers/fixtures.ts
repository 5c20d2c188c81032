import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURE_PRESETS = ['tiny-deterministic', 'tiny-random'] as const;
export type FixturePreset = (typeof FIXTURE_PRESETS)[number];
/** Seed the fixtures are generated with (test/global-setup.ts). */
export const FIXTURE_SEED = 42;

export function fixtureRoot(): string {
  return path.join(repoRoot, '.cache', 'fixtures');
}

/** Absolute path of a generated fixture model folder (generated once per run by test/global-setup.ts). */
export function fixtureModel(preset: FixturePreset): string {
  return path.join(fixtureRoot(), preset);
}

/** A third-party model under ../shared/models, or undefined on a fresh clone without it. */
export function sharedModel(rel: string): string | undefined {
  const dir = path.resolve(repoRoot, '../shared/models', rel);
  return existsSync(dir) ? dir : undefined;
}

/** The pinned Python test environment's interpreter (scripts/python-env.sh makes it; `npm test` runs that first). */
export function testPython(): string {
  const python = path.join(repoRoot, '.cache', 'python', 'venv', 'bin', 'python');
  if (!existsSync(python)) throw new Error(`the Python test environment is missing (${python}): run 'bash scripts/python-env.sh'`);
  return python;
}
