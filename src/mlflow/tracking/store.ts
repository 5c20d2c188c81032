import type {
  Experiment,
  LoggedModel,
  Metric,
  ModelVersion,
  PagedList,
  RegisteredModel,
  Run,
  RunInfo,
  RunStatus,
  ViewType,
} from './entities.js';

/**
 * What a tracking backend does (MLflow's `AbstractStore` for tracking and for the model registry),
 * implemented by the REST store (a tracking server) and the file store (a local `mlruns` folder).
 */

export interface CreateRunRequest {
  experimentId: string;
  userId: string;
  startTime: number;
  runName?: string;
  tags: Record<string, string>;
}

export interface SearchRunsRequest {
  experimentIds: string[];
  filter?: string;
  runViewType?: ViewType;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}

export interface CreateLoggedModelRequest {
  experimentId: string;
  name: string;
  sourceRunId?: string;
  modelType?: string;
  params?: Record<string, string>;
  tags?: Record<string, string>;
}

export interface TrackingStore {
  createExperiment(name: string, artifactLocation?: string, tags?: Record<string, string>): Promise<string>;
  getExperiment(experimentId: string): Promise<Experiment>;
  /** undefined when no experiment has that name. */
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  setExperimentTag(experimentId: string, key: string, value: string): Promise<void>;
  deleteExperiment(experimentId: string): Promise<void>;

  createRun(request: CreateRunRequest): Promise<Run>;
  getRun(runId: string): Promise<Run>;
  updateRunInfo(runId: string, status: RunStatus, endTime: number | undefined, runName?: string): Promise<RunInfo>;
  deleteRun(runId: string): Promise<void>;
  logMetric(runId: string, metric: Metric): Promise<void>;
  logParam(runId: string, key: string, value: string): Promise<void>;
  setTag(runId: string, key: string, value: string): Promise<void>;
  deleteTag(runId: string, key: string): Promise<void>;
  logBatch(runId: string, metrics: Metric[], params: { key: string; value: string }[], tags: { key: string; value: string }[]): Promise<void>;
  getMetricHistory(runId: string, key: string): Promise<Metric[]>;
  searchRuns(request: SearchRunsRequest): Promise<PagedList<Run>>;

  createLoggedModel(request: CreateLoggedModelRequest): Promise<LoggedModel>;
  getLoggedModel(modelId: string): Promise<LoggedModel>;
  finalizeLoggedModel(modelId: string, status: 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED'): Promise<LoggedModel>;
  logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void>;
}

export interface SearchModelVersionsRequest {
  filter?: string;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}

export interface RegistryStore {
  createRegisteredModel(name: string, tags?: Record<string, string>, description?: string): Promise<RegisteredModel>;
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  deleteRegisteredModel(name: string): Promise<void>;
  setRegisteredModelTag(name: string, key: string, value: string): Promise<void>;
  getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]>;
  createModelVersion(request: { name: string; source: string; runId?: string; modelId?: string; tags?: Record<string, string>; description?: string }): Promise<ModelVersion>;
  getModelVersion(name: string, version: string): Promise<ModelVersion>;
  transitionModelVersionStage(name: string, version: string, stage: string, archiveExistingVersions: boolean): Promise<ModelVersion>;
  setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void>;
  setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void>;
  deleteRegisteredModelAlias(name: string, alias: string): Promise<void>;
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion>;
  getModelVersionDownloadUri(name: string, version: string): Promise<string>;
  searchModelVersions(request: SearchModelVersionsRequest): Promise<PagedList<ModelVersion>>;
}
