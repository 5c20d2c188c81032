/**
 * MLflow Tracking and the Model Registry from Node (`mlflow.tracking`, `mlflow.MlflowClient` and the
 * fluent `mlflow.*` functions): a tracking server through its REST API, or a local file store.
 */
export { MlflowClient, type LogMetricOptions, type SearchRunsOptions } from './client.js';
export {
  ActiveRun,
  activeRun,
  deleteTag,
  endRun,
  lastActiveRun,
  logArtifact,
  logArtifacts,
  logDict,
  logMetric,
  logMetrics,
  logParam,
  logParams,
  logText,
  registerModel,
  searchRuns,
  setExperiment,
  setTag,
  setTags,
  startRun,
  withRun,
  type StartRunOptions,
} from './fluent.js';
export { getRegistryUri, getTrackingUri, setRegistryUri, setTrackingUri } from './tracking-uri.js';
export type * from './entities.js';
export type { HostCreds, RetryPolicy } from './http.js';
