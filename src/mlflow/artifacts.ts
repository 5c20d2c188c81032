import { cp, lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { MlflowException } from './errors.js';
import { localPathFromUri } from './uri.js';

/**
 * Artifacts of a pyfunc model (mlflow-format.md §2.3) and the one rule every path read from an MLmodel
 * obeys: it stays inside the model folder. An MLmodel is untrusted input (it may come from a registry or
 * a colleague), so `../`, absolute paths and symlinks that lead out of the folder are refused.
 */

export const ARTIFACTS_DIR = 'artifacts';

/** One entry of `flavors.python_function.artifacts`: where the copy lives and what the user passed. */
export interface ArtifactEntry {
  path: string;
  uri: string;
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function escapes(what: string, rel: string, root: string, why: string): MlflowException {
  return MlflowException.invalidParameterValue(
    `Refusing to use ${what} '${rel}' from the MLmodel in '${root}': ${why}. Paths in an MLmodel must stay inside the model directory.`,
  );
}

/**
 * The absolute path of `rel` inside the model directory `root`, after checking that neither the text of
 * the path nor any symlink on the way (or, for a directory, anywhere inside it) leads out of `root`.
 */
export async function resolveModelPath(root: string, rel: unknown, what: string): Promise<string> {
  if (typeof rel !== 'string' || rel.trim() === '') {
    throw MlflowException.invalidParameterValue(`Invalid ${what} in the MLmodel in '${root}': expected a relative path, got ${JSON.stringify(rel)}`);
  }
  if (path.isAbsolute(rel) || path.win32.isAbsolute(rel)) throw escapes(what, rel, root, 'it is an absolute path');
  const absolute = path.resolve(root, rel);
  if (!isInside(path.resolve(root), absolute)) throw escapes(what, rel, root, 'it climbs out with ".."');

  const realRoot = await realpath(root);
  let real: string;
  try {
    real = await realpath(absolute);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MlflowException(`The ${what} '${rel}' listed in the MLmodel does not exist in '${root}'`, 'RESOURCE_DOES_NOT_EXIST', { cause: err });
    }
    throw err;
  }
  if (!isInside(realRoot, real)) throw escapes(what, rel, root, `it is a symlink to '${real}'`);
  if ((await stat(real)).isDirectory()) {
    for (const entry of await readdir(real, { recursive: true, withFileTypes: true })) {
      if (!entry.isSymbolicLink()) continue;
      const link = path.join(entry.parentPath, entry.name);
      const target = await realpath(link).catch(() => link);
      if (!isInside(realRoot, target)) {
        throw escapes(what, rel, root, `'${path.relative(realRoot, link)}' inside it is a symlink to '${target}'`);
      }
    }
  }
  return absolute;
}

/** `context.artifacts`: name → absolute path, from a flavor's `artifacts` entry (§2.3); `{}` when none. */
export async function resolveArtifacts(root: string, artifacts: Record<string, { path: string }> | undefined): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, entry] of Object.entries(artifacts ?? {})) {
    out[name] = await resolveModelPath(root, entry.path, `artifact '${name}'`);
  }
  return out;
}

function basenameOf(localPath: string): string {
  return path.basename(path.resolve(localPath));
}

/**
 * Copy the user's artifacts into `<modelDir>/artifacts/<basename>` as MLflow does: the stored path is the
 * basename of the source, not the artifact's name; one source listed under several names is stored once;
 * distinct sources with the same basename go to numbered folders (`artifacts/0/...`) so none overwrites
 * another. Symlinks in the source are followed so the model folder is self-contained.
 */
export async function saveArtifacts(modelDir: string, artifacts: Record<string, string>): Promise<Record<string, ArtifactEntry>> {
  const sources = new Map<string, string>(); // uri → local path
  for (const [name, uri] of Object.entries(artifacts)) {
    if (typeof uri !== 'string' || uri === '') {
      throw MlflowException.invalidParameterValue(`Artifact '${name}' must be a local path or URI string, got ${JSON.stringify(uri)}`);
    }
    if (!sources.has(uri)) sources.set(uri, await localPathFromUri(uri));
  }
  const counts = new Map<string, number>();
  for (const local of sources.values()) counts.set(basenameOf(local), (counts.get(basenameOf(local)) ?? 0) + 1);

  const stored = new Map<string, string>(); // uri → relative path in the model
  let index = 0;
  for (const [uri, local] of sources) {
    const base = basenameOf(local);
    const rel = counts.get(base)! > 1 ? path.posix.join(ARTIFACTS_DIR, String(index), base) : path.posix.join(ARTIFACTS_DIR, base);
    index += 1;
    try {
      await lstat(local);
    } catch (err) {
      throw new MlflowException(`Artifact '${uri}' does not exist (resolved to '${local}')`, 'RESOURCE_DOES_NOT_EXIST', { cause: err });
    }
    await cp(local, path.join(modelDir, rel), { recursive: true, dereference: true, errorOnExist: true, force: false });
    stored.set(uri, rel);
  }
  return Object.fromEntries(Object.entries(artifacts).map(([name, uri]) => [name, { path: stored.get(uri)!, uri }]));
}
