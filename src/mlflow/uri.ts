import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlflowException } from './errors.js';
import { MlflowClient } from './tracking/client.js';
import { FileStore, readYaml } from './tracking/file-store.js';
import { getTrackingUri, isHttpUri } from './tracking/tracking-uri.js';

/**
 * Model and artifact URIs resolved to local paths: plain paths, `file:` URIs, and the tracking URIs
 * `runs:/<run_id>/<path>`, `models:/<model_id>`, `models:/<name>/<version | stage | latest>` and
 * `models:/<name>@<alias>` against a local MLflow file store (mlflow-format.md §8.2; the registry in its
 * `models/` folder): `./mlruns`, or `MLFLOW_TRACKING_URI` when it names a local folder.
 * With an http(s) tracking URI, `runs:/` and `models:/` URIs are downloaded from the tracking server
 * (its proxied artifact store) into a temporary folder. Other stores (databricks, sqlite, s3) are not.
 */

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]+):/; // two letters at least, so `C:\` is not a scheme

/** A `file:` URI or a plain path as an absolute local path. */
function filePath(uri: string): string {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  return path.resolve(uri.startsWith('file:') ? uri.slice('file:'.length) : uri);
}

/** The local file store root named by the tracking URI (`setTrackingUri`, `MLFLOW_TRACKING_URI`), or `./mlruns`. */
export function trackingRoot(env: NodeJS.ProcessEnv = process.env): string {
  const uri = env === process.env ? getTrackingUri() : env.MLFLOW_TRACKING_URI;
  if (!uri) return path.resolve('mlruns');
  const scheme = SCHEME.exec(uri)?.[1];
  if (scheme && scheme !== 'file') {
    throw new MlflowException(
      `MLFLOW_TRACKING_URI is '${uri}', but only a local file store (a folder or a file: URI) can be used here`,
      'NOT_IMPLEMENTED',
    );
  }
  return filePath(uri);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Experiment folders of a file store (numeric or random ids; `.trash` and the registry excluded). */
async function experimentDirs(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new MlflowException(`No MLflow file store at '${root}' (set MLFLOW_TRACKING_URI to the folder holding your runs)`, 'RESOURCE_DOES_NOT_EXIST', { cause: err });
  }
  return entries.filter((e) => e.isDirectory() && e.name !== '.trash' && e.name !== 'models').map((e) => path.join(root, e.name));
}

/** The run's artifact folder, from the `artifact_uri` in its `meta.yaml` (read through the tracking FileStore). */
export async function runArtifactDir(runId: string, root = trackingRoot()): Promise<{ experimentDir: string; artifactDir: string }> {
  if (!/^[0-9a-zA-Z_-]+$/.test(runId)) throw MlflowException.invalidParameterValue(`Invalid run id '${runId}'`);
  await experimentDirs(root); // a clear error when there is no file store at all
  const store = new FileStore(root);
  let found: { dir: string };
  try {
    found = await store.findRun(runId);
  } catch (err) {
    if (err instanceof MlflowException && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') {
      throw new MlflowException(`Run '${runId}' not found in the file store at '${root}'`, 'RESOURCE_DOES_NOT_EXIST', { cause: err });
    }
    throw err;
  }
  const artifactUri = (await store.getRun(runId)).info.artifactUri;
  const scheme = SCHEME.exec(artifactUri)?.[1];
  if (scheme && scheme !== 'file') {
    throw new MlflowException(`Run '${runId}' stores its artifacts at '${artifactUri}', which is not a local folder`, 'NOT_IMPLEMENTED');
  }
  return { experimentDir: path.dirname(found.dir), artifactDir: artifactUri ? filePath(artifactUri) : path.join(found.dir, 'artifacts') };
}

/** MLflow 3 logged models live in `<experiment>/models/<model_id>/artifacts` (§8.2). */
async function loggedModelDir(root: string, match: (id: string, meta: Record<string, unknown> | undefined) => boolean): Promise<string | undefined> {
  for (const experimentDir of await experimentDirs(root)) {
    const modelsDir = path.join(experimentDir, 'models');
    const ids = await readdir(modelsDir).catch(() => [] as string[]);
    for (const id of ids) {
      const meta = await readYaml(path.join(modelsDir, id, 'meta.yaml'));
      if (!match(id, meta)) continue;
      const location = typeof meta?.artifact_location === 'string' ? meta.artifact_location : '';
      const scheme = SCHEME.exec(location)?.[1];
      return location && (!scheme || scheme === 'file') ? filePath(location) : path.join(modelsDir, id, 'artifacts');
    }
  }
  return undefined;
}

async function resolveRunsUri(uri: string, root: string): Promise<string> {
  const m = /^runs:\/+([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw MlflowException.invalidParameterValue(`Invalid runs URI '${uri}': expected runs:/<run_id>/<artifact path>`);
  const [, runId, rel] = m;
  const { artifactDir } = await runArtifactDir(runId, root);
  const local = path.resolve(artifactDir, rel);
  if (path.relative(artifactDir, local).startsWith('..')) throw MlflowException.invalidParameterValue(`Invalid runs URI '${uri}': the path leaves the run's artifacts`);
  if (await exists(local)) return local;
  // MLflow 3 resolves runs:/<run_id>/<name> to the model of that name logged from the run.
  const logged = await loggedModelDir(root, (_, meta) => meta?.source_run_id === runId && meta?.name === rel);
  if (logged) return logged;
  throw new MlflowException(`No artifact '${rel}' in run '${runId}' (looked in '${artifactDir}')`, 'RESOURCE_DOES_NOT_EXIST');
}

// The registry file store marks deleted versions with this stage rather than removing their folder.
const DELETED_STAGE = 'Deleted_Internal';

/** A registered version's meta.yaml, unless the version does not exist or was deleted. */
async function registeredVersion(root: string, name: string, version: string): Promise<Record<string, unknown> | undefined> {
  const meta = await readYaml(path.join(root, 'models', name, `version-${version}`, 'meta.yaml'));
  return meta?.current_stage === DELETED_STAGE ? undefined : meta;
}

/** `latest`, or a stage (`Production`, any case): the newest version in it, as MLflow's get_latest_versions. */
async function latestVersion(root: string, name: string, stage?: string): Promise<string | undefined> {
  let dirs: string[];
  try {
    dirs = await readdir(path.join(root, 'models', name));
  } catch {
    return undefined;
  }
  const versions = dirs.flatMap((d) => /^version-(\d+)$/.exec(d)?.[1] ?? []).sort((x, y) => Number(y) - Number(x));
  for (const version of versions) {
    const meta = await registeredVersion(root, name, version);
    if (meta && (stage === undefined || String(meta.current_stage).toLowerCase() === stage.toLowerCase())) return version;
  }
  return undefined;
}

async function resolveModelsUri(uri: string, root: string): Promise<string> {
  const m = /^models:\/+([^/@]+)(?:@([^/]+)|\/([^/]+))?\/?$/.exec(uri);
  if (!m) {
    throw MlflowException.invalidParameterValue(
      `Invalid models URI '${uri}': expected models:/<model_id>, models:/<name>/<version | stage | latest> or models:/<name>@<alias>`,
    );
  }
  const [, first, alias, selector] = m;
  if ([first, alias, selector].some((part) => part === '.' || part === '..')) {
    throw MlflowException.invalidParameterValue(`Invalid models URI '${uri}': names cannot be '.' or '..'`);
  }
  if (alias === undefined && selector === undefined) {
    const dir = await loggedModelDir(root, (id) => id === first);
    if (dir) return dir;
    throw new MlflowException(`Logged model '${first}' not found in the file store at '${root}'`, 'RESOURCE_DOES_NOT_EXIST');
  }
  // Registry file store: models/<name>/version-<n>/meta.yaml holds the version's source; aliases/<alias> its number.
  let version: string | undefined;
  if (alias !== undefined) {
    version = (await readFile(path.join(root, 'models', first, 'aliases', alias), 'utf8').catch(() => undefined))?.trim();
  } else if (/^\d+$/.test(selector!)) {
    version = selector;
  } else {
    version = await latestVersion(root, first, selector === 'latest' ? undefined : selector);
  }
  const meta = version === undefined ? undefined : await registeredVersion(root, first, version);
  const source = meta?.storage_location ?? meta?.source;
  if (typeof source !== 'string') {
    const which = alias !== undefined ? `alias '${alias}'` : /^\d+$/.test(selector!) ? `version ${selector}` : `'${selector}' version`;
    throw new MlflowException(`Registered model '${first}' ${which} not found in the file store at '${root}'`, 'RESOURCE_DOES_NOT_EXIST');
  }
  // MLflow 3 registers logged models with source models:/<model_id>.
  if (/^models:\/+[^/@]+\/?$/.test(source)) return resolveModelsUri(source, root);
  if (source.startsWith('models:/')) throw new MlflowException(`Registered model source '${source}' points at another registry entry`, 'NOT_IMPLEMENTED');
  return localPathFromUri(source, root);
}

/**
 * The local path a model or artifact URI names. `root` is the file store for `runs:/` and `models:/`
 * URIs (default: {@link trackingRoot}). Nothing is downloaded.
 */
export async function localPathFromUri(uri: string, root?: string): Promise<string> {
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if ((scheme === 'runs' || scheme === 'models') && root === undefined && isHttpUri(getTrackingUri())) {
    return new MlflowClient().downloadUri(uri);
  }
  if (scheme === 'runs') return resolveRunsUri(uri, root ?? trackingRoot());
  if (scheme === 'models') return resolveModelsUri(uri, root ?? trackingRoot());
  if (scheme === undefined || scheme === 'file') return filePath(uri);
  throw new MlflowException(
    `Cannot resolve '${uri}': only local paths, file: URIs, and runs:/ or models:/ URIs of a local file store are supported`,
    'NOT_IMPLEMENTED',
  );
}
