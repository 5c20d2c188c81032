import path from 'node:path';
import { MlflowException } from '../errors.js';
import { hostCredsFromEnv, type HostCreds } from './http.js';
import { FileStore } from './file-store.js';
import { RestRegistryStore, RestStore } from './rest-store.js';
import type { RegistryStore, TrackingStore } from './store.js';

/**
 * Which store a tracking URI names, as MLflow chooses (`mlflow/tracking/_tracking_service/utils.py`):
 * `http(s)://` is a tracking server (REST); a local path or a `file:` URI is the file store (which MLflow
 * 3.18 itself opens only with `MLFLOW_ALLOW_FILE_STORE=true`). Unset, this package uses `./mlruns`:
 * MLflow 3.18 defaults to `sqlite:///mlflow.db` (database stores are Python-only) and keeps `./mlruns`
 * when it already holds experiments.
 */

let trackingUriOverride: string | undefined;
let registryUriOverride: string | undefined;

/** `mlflow.set_tracking_uri` (undefined resets to `MLFLOW_TRACKING_URI`). */
export function setTrackingUri(uri: string | undefined): void {
  trackingUriOverride = uri;
}

export function getTrackingUri(): string {
  return trackingUriOverride ?? process.env.MLFLOW_TRACKING_URI ?? path.resolve('mlruns');
}

export function setRegistryUri(uri: string | undefined): void {
  registryUriOverride = uri;
}

/** `MLFLOW_REGISTRY_URI`, else the tracking URI. */
export function getRegistryUri(): string {
  return registryUriOverride ?? process.env.MLFLOW_REGISTRY_URI ?? getTrackingUri();
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]+):/;

export function isHttpUri(uri: string): boolean {
  return /^https?:\/\//i.test(uri);
}

export interface Stores {
  trackingUri: string;
  registryUri: string;
  tracking: TrackingStore;
  registry: RegistryStore;
  /** The tracking server's credentials (for `mlflow-artifacts:` URIs); undefined for the file store. */
  creds: HostCreds | undefined;
}

/**
 * Registry writes on a file store: refused (registered models are read from `<root>/models` by
 * `localPathFromUri`; registering them is the tracking server's job here).
 */
function fileRegistry(root: string): RegistryStore {
  return new Proxy({} as RegistryStore, {
    get: (_target, method) => method === 'then' ? undefined : () =>
      Promise.reject(
        new MlflowException(
          `The model registry (${String(method)}) needs a tracking server (MLFLOW_TRACKING_URI=http(s)://...); the file store at '${root}' is read-only for registered models from Node`,
          'NOT_IMPLEMENTED',
        ),
      ),
  });
}

function unsupported(uri: string): MlflowException {
  const scheme = SCHEME.exec(uri)?.[1];
  return new MlflowException(
    `Tracking URI '${uri}': ${scheme ? `the '${scheme}' store is` : 'this store is'} not supported from Node; use an MLflow tracking server (http(s)://) or a local file store (a folder or file: URI)`,
    'NOT_IMPLEMENTED',
  );
}

export function resolveStores(trackingUri = getTrackingUri(), registryUri?: string): Stores {
  const regUri = registryUri ?? (trackingUri === getTrackingUri() ? getRegistryUri() : trackingUri);
  const storeFor = (uri: string) => {
    if (isHttpUri(uri)) {
      const creds = hostCredsFromEnv(uri);
      return { tracking: new RestStore(creds), registry: new RestRegistryStore(creds), creds };
    }
    const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
    if (scheme !== undefined && scheme !== 'file') throw unsupported(uri);
    const tracking = new FileStore(uri);
    return { tracking, registry: fileRegistry(tracking.root), creds: undefined };
  };
  const tracking = storeFor(trackingUri);
  const registry = regUri === trackingUri ? tracking : storeFor(regUri);
  return { trackingUri, registryUri: regUri, tracking: tracking.tracking, registry: registry.registry, creds: tracking.creds ?? registry.creds };
}
