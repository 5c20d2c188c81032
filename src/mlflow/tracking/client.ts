import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { MlflowException } from '../errors.js';
import { pyJsonDumps } from '../pycompat/json.js';
import { dumpYaml } from '../pycompat/yaml.js';
import { artifactRepository, verifyArtifactPath, type ArtifactRepository } from './artifact-repo.js';
import {
  RUN_STATUSES,
  type Experiment,
  type FileInfo,
  type LoggedModel,
  type Metric,
  type ModelVersion,
  type PagedList,
  type RegisteredModel,
  type Run,
  type RunInfo,
  type RunStatus,
  type ViewType,
} from './entities.js';
import type { HostCreds } from './http.js';
import type { CreateLoggedModelRequest, RegistryStore, TrackingStore } from './store.js';
import { resolveStores } from './tracking-uri.js';
import {
  MAX_METRICS_PER_BATCH,
  MAX_PARAMS_TAGS_PER_BATCH,
  validateAlias,
  validateExperimentName,
  validateExperimentTag,
  validateMetric,
  validateParam,
  validateParamKeysUnique,
  validateRegistryTag,
  validateRunId,
  validateTag,
} from './validation.js';

/**
 * MLflow's `MlflowClient` (`mlflow/tracking/client.py`): experiments, runs, params, metrics, tags,
 * artifacts, logged models and the model registry, against the store `MLFLOW_TRACKING_URI` names.
 * Method names are MLflow's in camelCase; inputs are checked as MLflow checks them before they leave.
 */

export interface LogMetricOptions {
  /** Milliseconds since the epoch (default: now). */
  timestamp?: number;
  step?: number;
  modelId?: string;
}

export interface SearchRunsOptions {
  filterString?: string;
  runViewType?: ViewType;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? String(v) : typeof v === 'object' ? JSON.stringify(v) : String(v));

function checkStatus(status: string): asserts status is RunStatus {
  if (!RUN_STATUSES.includes(status as RunStatus)) {
    throw MlflowException.invalidParameterValue(`Invalid run status '${status}': expected one of ${RUN_STATUSES.join(', ')}`);
  }
}

export class MlflowClient {
  readonly trackingUri: string;
  readonly registryUri: string;
  /** @internal */ readonly store: TrackingStore;
  /** @internal */ readonly registry: RegistryStore;
  /** @internal */ readonly creds: HostCreds | undefined;

  constructor(trackingUri?: string, registryUri?: string) {
    const stores = resolveStores(trackingUri, registryUri);
    this.trackingUri = stores.trackingUri;
    this.registryUri = stores.registryUri;
    this.store = stores.tracking;
    this.registry = stores.registry;
    this.creds = stores.creds;
  }

  // ---- experiments -------------------------------------------------------------------------------

  async createExperiment(name: string, options: { artifactLocation?: string; tags?: Record<string, string> } = {}): Promise<string> {
    validateExperimentName(name);
    for (const [k, v] of Object.entries(options.tags ?? {})) validateExperimentTag(k, str(v));
    return this.store.createExperiment(name, options.artifactLocation, options.tags);
  }

  getExperiment(experimentId: string): Promise<Experiment> {
    return this.store.getExperiment(String(experimentId));
  }

  /** undefined when there is none, as `get_experiment_by_name` returns None. */
  getExperimentByName(name: string): Promise<Experiment | undefined> {
    return this.store.getExperimentByName(name);
  }

  async setExperimentTag(experimentId: string, key: string, value: unknown): Promise<void> {
    validateExperimentTag(key, str(value));
    await this.store.setExperimentTag(experimentId, key, str(value));
  }

  deleteExperiment(experimentId: string): Promise<void> {
    return this.store.deleteExperiment(experimentId);
  }

  // ---- runs -------------------------------------------------------------------------------------

  async createRun(experimentId: string, options: { startTime?: number; tags?: Record<string, unknown>; runName?: string } = {}): Promise<Run> {
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.tags ?? {})) {
      validateTag(k, str(v));
      tags[k] = str(v);
    }
    return this.store.createRun({
      experimentId: String(experimentId),
      userId: tags['mlflow.user'] ?? userInfo().username,
      startTime: options.startTime ?? Date.now(),
      runName: options.runName,
      tags,
    });
  }

  getRun(runId: string): Promise<Run> {
    validateRunId(runId);
    return this.store.getRun(runId);
  }

  async updateRun(runId: string, options: { status?: RunStatus; name?: string; endTime?: number } = {}): Promise<RunInfo> {
    validateRunId(runId);
    const status = options.status ?? (await this.store.getRun(runId)).info.status;
    checkStatus(status);
    return this.store.updateRunInfo(runId, status, options.endTime, options.name);
  }

  /** `set_terminated`: end a run with a status (FINISHED by default). */
  async setTerminated(runId: string, status: RunStatus = 'FINISHED', endTime: number = Date.now()): Promise<void> {
    validateRunId(runId);
    checkStatus(status);
    await this.store.updateRunInfo(runId, status, endTime);
  }

  deleteRun(runId: string): Promise<void> {
    validateRunId(runId);
    return this.store.deleteRun(runId);
  }

  async logParam(runId: string, key: string, value: unknown): Promise<unknown> {
    validateParam(key, str(value));
    await this.store.logParam(runId, key, str(value));
    return value;
  }

  async logMetric(runId: string, key: string, value: number, options: LogMetricOptions = {}): Promise<void> {
    const metric: Metric = { key, value, timestamp: options.timestamp ?? Date.now(), step: options.step ?? 0, ...(options.modelId ? { modelId: options.modelId } : {}) };
    validateMetric(metric);
    await this.store.logMetric(runId, metric);
  }

  async setTag(runId: string, key: string, value: unknown): Promise<void> {
    validateTag(key, str(value));
    await this.store.setTag(runId, key, str(value));
  }

  deleteTag(runId: string, key: string): Promise<void> {
    return this.store.deleteTag(runId, key);
  }

  /**
   * `log_batch`: metrics, params and tags in one request. Larger inputs are split into requests within
   * MLflow's batch limits (1000 metrics, 100 params, 100 tags, 1000 entities), as its client does.
   */
  async logBatch(
    runId: string,
    batch: { metrics?: (Partial<Metric> & { key: string; value: number })[]; params?: { key: string; value: unknown }[]; tags?: { key: string; value: unknown }[] },
  ): Promise<void> {
    const now = Date.now();
    const metrics: Metric[] = (batch.metrics ?? []).map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp ?? now, step: m.step ?? 0, ...(m.modelId ? { modelId: m.modelId } : {}) }));
    const params = (batch.params ?? []).map((p) => ({ key: p.key, value: str(p.value) }));
    const tags = (batch.tags ?? []).map((t) => ({ key: t.key, value: str(t.value) }));
    metrics.forEach((m, i) => validateMetric(m, `metrics[${i}]`));
    params.forEach((p, i) => validateParam(p.key, p.value, `params[${i}]`));
    tags.forEach((t, i) => validateTag(t.key, t.value, `tags[${i}]`));
    validateParamKeysUnique(params); // refused whatever the split
    // Params and tags first, in chunks of 100, then metrics in chunks of 1000.
    const n = MAX_PARAMS_TAGS_PER_BATCH;
    for (let i = 0; i < Math.max(params.length, tags.length); i += n) await this.store.logBatch(runId, [], params.slice(i, i + n), tags.slice(i, i + n));
    for (let i = 0; i < metrics.length; i += MAX_METRICS_PER_BATCH) await this.store.logBatch(runId, metrics.slice(i, i + MAX_METRICS_PER_BATCH), [], []);
  }

  getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    validateRunId(runId);
    return this.store.getMetricHistory(runId, key);
  }

  /** `search_runs` with MLflow's filter syntax (`metrics.x > 1 and params.p = 'a' and tags.t != 'b'`). */
  searchRuns(experimentIds: string[] | string, options: SearchRunsOptions = {}): Promise<PagedList<Run>> {
    return this.store.searchRuns({
      experimentIds: (Array.isArray(experimentIds) ? experimentIds : [experimentIds]).map(String),
      filter: options.filterString,
      runViewType: options.runViewType,
      maxResults: options.maxResults,
      orderBy: options.orderBy,
      pageToken: options.pageToken,
    });
  }

  // ---- artifacts --------------------------------------------------------------------------------

  /** @internal The artifact repository at a run's artifact root. */
  async runArtifactRepo(runId: string): Promise<ArtifactRepository> {
    const run = await this.getRun(runId);
    return artifactRepository(run.info.artifactUri, this.creds);
  }

  async logArtifact(runId: string, localPath: string, artifactPath?: string): Promise<void> {
    await (await this.runArtifactRepo(runId)).logArtifact(localPath, artifactPath);
  }

  async logArtifacts(runId: string, localDir: string, artifactPath?: string): Promise<void> {
    await (await this.runArtifactRepo(runId)).logArtifacts(localDir, artifactPath);
  }

  private async logArtifactFile(runId: string, artifactFile: string, contents: string): Promise<void> {
    verifyArtifactPath(artifactFile);
    const dir = await mkdtemp(path.join(tmpdir(), 'mlflow-artifact-'));
    try {
      const file = path.join(dir, path.posix.basename(artifactFile));
      await writeFile(file, contents);
      const parent = path.posix.dirname(artifactFile);
      await this.logArtifact(runId, file, parent === '.' ? undefined : parent);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** `log_text`: a string as the artifact file `artifactFile` (`dir/file.txt`). */
  logText(runId: string, text: string, artifactFile: string): Promise<void> {
    return this.logArtifactFile(runId, artifactFile, text);
  }

  /** `log_dict`: YAML for `.yml`/`.yaml` files, else JSON indented by 2, as MLflow writes them. */
  logDict(runId: string, dictionary: Record<string, unknown>, artifactFile: string): Promise<void> {
    const ext = path.posix.extname(artifactFile);
    const text = ext === '.yml' || ext === '.yaml' ? dumpYaml(dictionary) : pyJsonDumps(dictionary, { indent: 2 });
    return this.logArtifactFile(runId, artifactFile, text);
  }

  async listArtifacts(runId: string, artifactPath?: string): Promise<FileInfo[]> {
    return (await this.runArtifactRepo(runId)).listArtifacts(artifactPath);
  }

  /** Download a run's artifact (file or folder) into `dstPath` (a new temp folder by default); returns its local path. */
  async downloadArtifacts(runId: string, artifactPath: string, dstPath?: string): Promise<string> {
    const dst = dstPath ?? (await mkdtemp(path.join(tmpdir(), 'mlflow-download-')));
    await mkdir(dst, { recursive: true });
    return (await this.runArtifactRepo(runId)).downloadArtifacts(artifactPath, dst);
  }

  // ---- logged models (MLflow 3) -------------------------------------------------------------------

  createLoggedModel(request: CreateLoggedModelRequest): Promise<LoggedModel> {
    return this.store.createLoggedModel(request);
  }

  getLoggedModel(modelId: string): Promise<LoggedModel> {
    return this.store.getLoggedModel(modelId);
  }

  finalizeLoggedModel(modelId: string, status: 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED' = 'LOGGED_MODEL_READY'): Promise<LoggedModel> {
    return this.store.finalizeLoggedModel(modelId, status);
  }

  logOutputs(runId: string, models: { modelId: string; step?: number }[]): Promise<void> {
    return this.store.logOutputs(runId, models.map((m) => ({ modelId: m.modelId, step: m.step ?? 0 })));
  }

  /** Upload a saved model folder as a logged model's artifacts. */
  async logModelArtifacts(modelId: string, localDir: string): Promise<void> {
    const model = await this.getLoggedModel(modelId);
    await artifactRepository(model.artifactLocation, this.creds).logArtifacts(localDir);
  }

  // ---- registry ---------------------------------------------------------------------------------

  createRegisteredModel(name: string, options: { tags?: Record<string, string>; description?: string } = {}): Promise<RegisteredModel> {
    for (const [k, v] of Object.entries(options.tags ?? {})) validateRegistryTag(k, str(v));
    return this.registry.createRegisteredModel(name, options.tags, options.description);
  }

  getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.registry.getRegisteredModel(name);
  }

  deleteRegisteredModel(name: string): Promise<void> {
    return this.registry.deleteRegisteredModel(name);
  }

  async setRegisteredModelTag(name: string, key: string, value: unknown): Promise<void> {
    validateRegistryTag(key, str(value));
    await this.registry.setRegisteredModelTag(name, key, str(value));
  }

  /** `create_model_version`: a version whose source is `runs:/`, `models:/<model_id>` or an artifact URI. */
  createModelVersion(
    name: string,
    source: string,
    options: { runId?: string; tags?: Record<string, string>; description?: string; modelId?: string } = {},
  ): Promise<ModelVersion> {
    for (const [k, v] of Object.entries(options.tags ?? {})) validateRegistryTag(k, str(v));
    return this.registry.createModelVersion({ name, source, ...options });
  }

  getModelVersion(name: string, version: string | number): Promise<ModelVersion> {
    return this.registry.getModelVersion(name, String(version));
  }

  getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]> {
    return this.registry.getLatestVersions(name, stages);
  }

  transitionModelVersionStage(name: string, version: string | number, stage: string, archiveExistingVersions = false): Promise<ModelVersion> {
    return this.registry.transitionModelVersionStage(name, String(version), stage, archiveExistingVersions);
  }

  async setModelVersionTag(name: string, version: string | number, key: string, value: unknown): Promise<void> {
    validateRegistryTag(key, str(value));
    await this.registry.setModelVersionTag(name, String(version), key, str(value));
  }

  async setRegisteredModelAlias(name: string, alias: string, version: string | number): Promise<void> {
    validateAlias(alias);
    await this.registry.setRegisteredModelAlias(name, alias, String(version));
  }

  deleteRegisteredModelAlias(name: string, alias: string): Promise<void> {
    return this.registry.deleteRegisteredModelAlias(name, alias);
  }

  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return this.registry.getModelVersionByAlias(name, alias);
  }

  getModelVersionDownloadUri(name: string, version: string | number): Promise<string> {
    return this.registry.getModelVersionDownloadUri(name, String(version));
  }

  // ---- URIs -------------------------------------------------------------------------------------

  /**
   * The artifact URI a `runs:/` or `models:/` URI stands for: `models:/<name>@<alias>`,
   * `models:/<name>/<version | stage | latest>`, `models:/<model_id>`, `runs:/<run_id>/<path>`
   * (MLflow 3 also resolves `runs:/<run_id>/<name>` to the model of that name logged from the run).
   */
  async resolveArtifactUri(uri: string): Promise<string> {
    const runs = /^runs:\/+([^/]+)\/?(.*)$/.exec(uri);
    if (runs) {
      const [, runId, rel] = runs;
      const run = await this.getRun(runId);
      if (rel) {
        const parent = path.posix.dirname(rel);
        const repo = artifactRepository(run.info.artifactUri, this.creds);
        const listed = await repo.listArtifacts(parent === '.' ? undefined : parent);
        if (!listed.some((f) => f.path === rel)) {
          for (const output of run.outputs.modelOutputs) {
            const model = await this.getLoggedModel(output.modelId);
            if (model.name === rel) return model.artifactLocation;
          }
        }
      }
      return rel ? `${run.info.artifactUri.replace(/\/+$/, '')}/${rel}` : run.info.artifactUri;
    }
    const models = /^models:\/+([^/@]+)(?:@([^/]+)|\/([^/]+))?\/?$/.exec(uri);
    if (!models) throw MlflowException.invalidParameterValue(`Not a runs:/ or models:/ URI: '${uri}'`);
    const [, name, alias, selector] = models;
    if (alias === undefined && selector === undefined) return (await this.getLoggedModel(name)).artifactLocation;
    let version: string;
    if (alias !== undefined) version = (await this.getModelVersionByAlias(name, alias)).version;
    else if (/^\d+$/.test(selector!)) version = selector!;
    else {
      const latest = await this.getLatestVersions(name, selector!.toLowerCase() === 'latest' ? undefined : [selector!]);
      const newest = latest.sort((a, b) => Number(b.version) - Number(a.version))[0];
      if (!newest) throw new MlflowException(`No versions of model with name '${name}' and stage '${selector}' found`, 'RESOURCE_DOES_NOT_EXIST');
      version = newest.version;
    }
    return this.getModelVersionDownloadUri(name, version);
  }

  /** Download what a `runs:/`, `models:/` or artifact URI names into `dstPath`; returns the local path. */
  async downloadUri(uri: string, dstPath?: string): Promise<string> {
    const artifactUri = /^(runs|models):/.test(uri) ? await this.resolveArtifactUri(uri) : uri;
    const dst = dstPath ?? (await mkdtemp(path.join(tmpdir(), 'mlflow-download-')));
    await mkdir(dst, { recursive: true });
    return artifactRepository(artifactUri, this.creds).downloadArtifacts('', dst);
  }
}
