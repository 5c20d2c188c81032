import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrtGenAIError } from '../errors.js';
import { BUILDER_VERSION, GGUF_FILENAME, PRESETS, type PresetName, writePresetGguf } from '../modelbuilder/index.js';
import { nodeArgsFor } from './runner-process.js';

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return process.env.ORTGENAI_CACHE_DIR ?? path.join(base, 'ortgenai-node');
}

/**
 * A preset's model folder, generated once with `ortgenai make-model` into the cache and reused after.
 * The folder name carries the builder version, so a model made by an older builder is never measured.
 * It is built next to its final place and renamed, so an interrupted build is never taken for a model.
 * Decoder presets also get model.gguf (the same model for the node-llama-cpp runner); a folder cached before
 * that gets it added once.
 */
export async function presetModel(preset: string, cacheDir = defaultCacheDir(), log: (s: string) => void = () => {}): Promise<string> {
  const dir = path.join(cacheDir, 'models', `${preset}-v${BUILDER_VERSION}`);
  const gguf = PRESETS[preset as PresetName]?.kind === 'decoder';
  if (existsSync(path.join(dir, 'genai_config.json'))) {
    if (gguf && !existsSync(path.join(dir, GGUF_FILENAME))) {
      log(`adding ${GGUF_FILENAME} (the same model for llama.cpp) to the cached '${preset}' preset (once)...`);
      await writePresetGguf(preset as PresetName, path.join(dir, GGUF_FILENAME));
    }
    return dir;
  }
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  const cli = fileURLToPath(new URL(`../cli/index${path.extname(import.meta.url)}`, import.meta.url));
  log(`generating the '${preset}' preset into ${dir} (once)...`);
  const child = spawn(process.execPath, [...nodeArgsFor(cli), cli, 'make-model', '--preset', preset, '--out', partial, ...(gguf ? ['--gguf'] : [])], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0 || !existsSync(path.join(partial, 'genai_config.json'))) {
    await rm(partial, { recursive: true, force: true });
    throw new OrtGenAIError(`'ortgenai make-model --preset ${preset}${gguf ? ' --gguf' : ''}' failed (exit ${code})`, 'BENCH_MODEL');
  }
  await rename(partial, dir);
  return dir;
}
