// Generates the fixture models once per run into <repo>/.cache/fixtures/<preset>, reusing a folder when
// its stamp says the same builder sources and seed made it. Several test runs may share the checkout,
// so each build goes to a private temp folder that is renamed into place.
import { createHash } from 'node:crypto';
import { readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BUILDER_VERSION, buildModel } from '../src/modelbuilder/index.js';
import { FIXTURE_PRESETS, FIXTURE_SEED, fixtureModel, fixtureRoot, repoRoot } from './helpers/fixtures.js';
import { buildReferencePrograms } from './helpers/reference-programs.js';

const STAMP = '.stamp.json';

async function sourceHash(): Promise<string> {
  const root = path.join(repoRoot, 'src', 'modelbuilder');
  const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.ts')).sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(await readFile(path.join(root, f)));
  return hash.digest('hex');
}

async function readStamp(dir: string): Promise<string | undefined> {
  return readFile(path.join(dir, STAMP), 'utf8').catch(() => undefined);
}

export default async function setup(): Promise<void> {
  buildReferencePrograms();
  const stamp = JSON.stringify({ builder: BUILDER_VERSION, seed: FIXTURE_SEED, sources: await sourceHash() });
  for (const preset of FIXTURE_PRESETS) {
    const dir = fixtureModel(preset);
    if ((await readStamp(dir)) === stamp) continue;
    const tmp = path.join(fixtureRoot(), `.${preset}.${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await buildModel({ preset, outDir: tmp, seed: FIXTURE_SEED });
    await writeFile(path.join(tmp, STAMP), stamp);
    if ((await readStamp(dir)) === stamp) {
      await rm(tmp, { recursive: true, force: true }); // another run got there first
      continue;
    }
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  }
}
