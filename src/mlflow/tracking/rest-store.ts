import { MlflowException } from '../errors.js';
import {
  experimentFromJson,
  loggedModelFromJson,
  metricFromJson,
  metricValueToJson,
  modelVersionFromJson,
  pagedList,
  registeredModelFromJson,
  runFromJson,
  runInfoFromJson,
  type Experiment,
  type LoggedModel,
  type Metric,
  type ModelVersion,
  type PagedList,
  type RegisteredModel,
  type Run,
  type RunInfo,
  type RunStatus,
} from './entities.js';
import { callEndpoint, retryPolicyFromEnv, type HostCreds, type HttpRequest, type RetryPolicy } from './http.js';
import type {
  CreateLoggedModelRequest,
  CreateRunRequest,
  RegistryStore,
  SearchModelVersionsRequest,
  SearchRunsRequest,
  TrackingStore,
} from './store.js';

/**
 * MLflow's `RestStore` and `RestStore` for the registry: the tracking server's REST API
 * (`/api/2.0/mlflow/...`, `mlflow/protos/service.proto` and `model_registry.proto`).
 */

type Json = Record<string, unknown>;
const API = '/api/2.0/mlflow';

const kv = (record: Record<string, string> | undefined) => Object.entries(record ?? {}).map(([key, value]) => ({ key, value: String(value) }));

function metricJson(m: Metric): Json {
  return { key: m.key, value: metricValueToJson(m.value), timestamp: m.timestamp, step: m.step, ...(m.modelId ? { model_id: m.modelId } : {}) };
}

/** The base of the tracking and registry REST stores: one server, one retry policy. */
class RestClient {
  readonly policy: RetryPolicy;
  constructor(readonly creds: HostCreds, policy?: RetryPolicy) {
    this.policy = policy ?? retryPolicyFromEnv();
  }

  protected call<T = Json>(method: HttpRequest['method'], endpoint: string, body: Json, idempotent: boolean): Promise<T> {
    const req: Omit<HttpRequest, 'body'> =
      method === 'GET'
        ? { method, path: API + endpoint, query: body as HttpRequest['query'], idempotent: true }
        : { method, path: API + endpoint, json: body, idempotent: method !== 'POST' || idempotent };
    return callEndpoint<T>(this.creds, req, this.policy);
  }
}

export class RestStore extends RestClient implements TrackingStore {
  async createExperiment(name: string, artifactLocation?: string, tags?: Record<string, string>): Promise<string> {
    const r = await this.call<{ experiment_id: string }>('POST', '/experiments/create', { name, artifact_location: artifactLocation, tags: kv(tags) }, false);
    return String(r.experiment_id);
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const r = await this.call<{ experiment: Json }>('GET', '/experiments/get', { experiment_id: experimentId }, true);
    return experimentFromJson(r.experiment);
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const r = await this.call<{ experiment: Json }>('GET', '/experiments/get-by-name', { experiment_name: name }, true);
      return experimentFromJson(r.experiment);
    } catch (err) {
      if (err instanceof MlflowException && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw err;
    }
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    await this.call('POST', '/experiments/set-experiment-tag', { experiment_id: experimentId, key, value }, true);
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    await this.call('POST', '/experiments/delete', { experiment_id: experimentId }, false);
  }

  async createRun(request: CreateRunRequest): Promise<Run> {
    const r = await this.call<{ run: Json }>(
      'POST',
      '/runs/create',
      { experiment_id: request.experimentId, user_id: request.userId, start_time: request.startTime, run_name: request.runName, tags: kv(request.tags) },
      false,
    );
    return runFromJson(r.run);
  }

  async getRun(runId: string): Promise<Run> {
    const r = await this.call<{ run: Json }>('GET', '/runs/get', { run_id: runId }, true);
    return runFromJson(r.run);
  }

  async updateRunInfo(runId: string, status: RunStatus, endTime: number | undefined, runName?: string): Promise<RunInfo> {
    const r = await this.call<{ run_info: Json }>('POST', '/runs/update', { run_id: runId, run_uuid: runId, status, end_time: endTime, run_name: runName }, true);
    return runInfoFromJson(r.run_info);
  }

  async deleteRun(runId: string): Promise<void> {
    await this.call('POST', '/runs/delete', { run_id: runId }, true);
  }

  async logMetric(runId: string, metric: Metric): Promise<void> {
    await this.call('POST', '/runs/log-metric', { run_id: runId, run_uuid: runId, ...metricJson(metric) }, true);
  }

  async logParam(runId: string, key: string, value: string): Promise<void> {
    await this.call('POST', '/runs/log-parameter', { run_id: runId, run_uuid: runId, key, value }, true);
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.call('POST', '/runs/set-tag', { run_id: runId, run_uuid: runId, key, value }, true);
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.call('POST', '/runs/delete-tag', { run_id: runId, key }, false);
  }

  async logBatch(runId: string, metrics: Metric[], params: { key: string; value: string }[], tags: { key: string; value: string }[]): Promise<void> {
    await this.call('POST', '/runs/log-batch', { run_id: runId, metrics: metrics.map(metricJson), params, tags }, true);
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const out: Metric[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.call<{ metrics?: Json[]; next_page_token?: string }>('GET', '/metrics/get-history', { run_id: runId, metric_key: key, page_token: pageToken }, true);
      out.push(...(r.metrics ?? []).map(metricFromJson));
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  async searchRuns(request: SearchRunsRequest): Promise<PagedList<Run>> {
    const r = await this.call<{ runs?: Json[]; next_page_token?: string }>(
      'POST',
      '/runs/search',
      {
        experiment_ids: request.experimentIds,
        filter: request.filter ?? '',
        run_view_type: request.runViewType ?? 'ACTIVE_ONLY',
        max_results: request.maxResults ?? 1000,
        order_by: request.orderBy ?? [],
        page_token: request.pageToken,
      },
      true,
    );
    return pagedList((r.runs ?? []).map(runFromJson), r.next_page_token);
  }

  async createLoggedModel(request: CreateLoggedModelRequest): Promise<LoggedModel> {
    const r = await this.call<{ model: Json }>(
      'POST',
      '/logged-models',
      {
        experiment_id: request.experimentId,
        name: request.name,
        model_type: request.modelType,
        source_run_id: request.sourceRunId,
        params: kv(request.params),
        tags: kv(request.tags),
      },
      false,
    );
    return loggedModelFromJson(r.model);
  }

  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    const r = await this.call<{ model: Json }>('GET', `/logged-models/${encodeURIComponent(modelId)}`, {}, true);
    return loggedModelFromJson(r.model);
  }

  async finalizeLoggedModel(modelId: string, status: 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED'): Promise<LoggedModel> {
    const r = await this.call<{ model: Json }>('PATCH', `/logged-models/${encodeURIComponent(modelId)}`, { model_id: modelId, status }, true);
    return loggedModelFromJson(r.model);
  }

  async logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    await this.call('POST', '/runs/outputs', { run_id: runId, models: models.map((m) => ({ model_id: m.modelId, step: m.step })) }, false);
  }
}

export class RestRegistryStore extends RestClient implements RegistryStore {
  async createRegisteredModel(name: string, tags?: Record<string, string>, description?: string): Promise<RegisteredModel> {
    const r = await this.call<{ registered_model: Json }>('POST', '/registered-models/create', { name, tags: kv(tags), description }, false);
    return registeredModelFromJson(r.registered_model);
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const r = await this.call<{ registered_model: Json }>('GET', '/registered-models/get', { name }, true);
    return registeredModelFromJson(r.registered_model);
  }

  async deleteRegisteredModel(name: string): Promise<void> {
    await this.call('DELETE', '/registered-models/delete', { name }, true);
  }

  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    await this.call('POST', '/registered-models/set-tag', { name, key, value }, true);
  }

  async getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]> {
    const r = await this.call<{ model_versions?: Json[] }>('POST', '/registered-models/get-latest-versions', { name, stages: stages ?? [] }, true);
    return (r.model_versions ?? []).map(modelVersionFromJson);
  }

  async createModelVersion(request: { name: string; source: string; runId?: string; modelId?: string; tags?: Record<string, string>; description?: string }): Promise<ModelVersion> {
    const r = await this.call<{ model_version: Json }>(
      'POST',
      '/model-versions/create',
      { name: request.name, source: request.source, run_id: request.runId, model_id: request.modelId, tags: kv(request.tags), description: request.description },
      false,
    );
    return modelVersionFromJson(r.model_version);
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const r = await this.call<{ model_version: Json }>('GET', '/model-versions/get', { name, version }, true);
    return modelVersionFromJson(r.model_version);
  }

  async transitionModelVersionStage(name: string, version: string, stage: string, archiveExistingVersions: boolean): Promise<ModelVersion> {
    const r = await this.call<{ model_version: Json }>(
      'POST',
      '/model-versions/transition-stage',
      { name, version, stage, archive_existing_versions: archiveExistingVersions },
      false,
    );
    return modelVersionFromJson(r.model_version);
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.call('POST', '/model-versions/set-tag', { name, version, key, value }, true);
  }

  async setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
    await this.call('POST', '/registered-models/alias', { name, alias, version }, true);
  }

  async deleteRegisteredModelAlias(name: string, alias: string): Promise<void> {
    await this.call('DELETE', '/registered-models/alias', { name, alias }, true);
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const r = await this.call<{ model_version: Json }>('GET', '/registered-models/alias', { name, alias }, true);
    return modelVersionFromJson(r.model_version);
  }

  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    const r = await this.call<{ artifact_uri: string }>('GET', '/model-versions/get-download-uri', { name, version }, true);
    return r.artifact_uri;
  }

  async searchModelVersions(request: SearchModelVersionsRequest): Promise<PagedList<ModelVersion>> {
    const r = await this.call<{ model_versions?: Json[]; next_page_token?: string }>(
      'GET',
      '/model-versions/search',
      { filter: request.filter, max_results: request.maxResults, order_by: request.orderBy as string[] | undefined, page_token: request.pageToken },
      true,
    );
    return pagedList((r.model_versions ?? []).map(modelVersionFromJson), r.next_page_token);
  }
}
