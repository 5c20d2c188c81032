/**
 * MLflow's tracking and registry entities (`mlflow/entities/`, `mlflow/entities/model_registry/`) in
 * camelCase, and their conversion from the REST API's protobuf JSON. Numbers that protobuf encodes as
 * 64-bit strings (`start_time`, `step`, ...) become numbers; metric values keep NaN and +-Infinity.
 */

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
export const RUN_STATUSES: readonly RunStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];
export type LifecycleStage = 'active' | 'deleted';
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  tags: Record<string, string>;
  creationTime?: number;
  lastUpdateTime?: number;
}

export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  /** MLflow 3: the logged model the metric belongs to. */
  modelId?: string;
}

export interface RunInfo {
  runId: string;
  runName: string;
  experimentId: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime?: number;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
}

export interface RunData {
  /** The latest value of each metric. */
  metrics: Record<string, number>;
  params: Record<string, string>;
  tags: Record<string, string>;
}

export interface LoggedModelOutput {
  modelId: string;
  step: number;
}

export interface Run {
  info: RunInfo;
  data: RunData;
  outputs: { modelOutputs: LoggedModelOutput[] };
}

/** MLflow 3's logged model record. */
export interface LoggedModel {
  modelId: string;
  experimentId: string;
  name: string;
  artifactLocation: string;
  sourceRunId?: string;
  status: string;
  modelType?: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  tags: Record<string, string>;
  params: Record<string, string>;
}

export interface RegisteredModel {
  name: string;
  description?: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  latestVersions: ModelVersion[];
  tags: Record<string, string>;
  aliases: Record<string, string>;
}

export type ModelVersionStage = 'None' | 'Staging' | 'Production' | 'Archived';

export interface ModelVersion {
  name: string;
  version: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  currentStage: string;
  description?: string;
  source: string;
  runId?: string;
  modelId?: string;
  status: string;
  tags: Record<string, string>;
  aliases: string[];
}

export interface FileInfo {
  path: string;
  isDir: boolean;
  fileSize?: number;
}

export interface PagedList<T> extends Array<T> {
  /** The token of the next page; undefined on the last one. */
  token?: string;
}

export function pagedList<T>(items: T[], token: string | undefined): PagedList<T> {
  const list = items as PagedList<T>;
  list.token = token || undefined;
  return list;
}

// ---- protobuf JSON ----------------------------------------------------------------------------------

type Json = Record<string, unknown>;

const num = (v: unknown): number | undefined => (v === undefined || v === null || v === '' ? undefined : Number(v));
const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

/** A metric value as protobuf JSON carries it: numbers, or "NaN" / "Infinity" / "-Infinity". */
export function metricValueFromJson(v: unknown): number {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return Number(v ?? 0);
}

/** The protobuf JSON of a double: NaN and the infinities as strings. */
export function metricValueToJson(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export function tagsFromJson(tags: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of (tags as { key: string; value?: string }[] | undefined) ?? []) out[t.key] = t.value ?? '';
  return out;
}

export function experimentFromJson(e: Json): Experiment {
  return {
    experimentId: String(e.experiment_id),
    name: String(e.name ?? ''),
    artifactLocation: String(e.artifact_location ?? ''),
    lifecycleStage: (e.lifecycle_stage ?? 'active') as LifecycleStage,
    tags: tagsFromJson(e.tags),
    creationTime: num(e.creation_time),
    lastUpdateTime: num(e.last_update_time),
  };
}

export function metricFromJson(m: Json): Metric {
  return {
    key: String(m.key),
    value: metricValueFromJson(m.value),
    timestamp: num(m.timestamp) ?? 0,
    step: num(m.step) ?? 0,
    ...(m.model_id ? { modelId: String(m.model_id) } : {}),
  };
}

export function runInfoFromJson(i: Json): RunInfo {
  return {
    runId: String(i.run_id ?? i.run_uuid),
    runName: String(i.run_name ?? ''),
    experimentId: String(i.experiment_id),
    userId: String(i.user_id ?? ''),
    status: (i.status ?? 'RUNNING') as RunStatus,
    startTime: num(i.start_time) ?? 0,
    endTime: num(i.end_time),
    artifactUri: String(i.artifact_uri ?? ''),
    lifecycleStage: (i.lifecycle_stage ?? 'active') as LifecycleStage,
  };
}

export function runFromJson(r: Json): Run {
  const data = (r.data ?? {}) as Json;
  const metrics: Record<string, number> = {};
  for (const m of (data.metrics as Json[] | undefined) ?? []) metrics[String(m.key)] = metricValueFromJson(m.value);
  const outputs = ((r.outputs as Json | undefined)?.model_outputs as Json[] | undefined) ?? [];
  return {
    info: runInfoFromJson((r.info ?? {}) as Json),
    data: { metrics, params: tagsFromJson(data.params), tags: tagsFromJson(data.tags) },
    outputs: { modelOutputs: outputs.map((o) => ({ modelId: String(o.model_id), step: num(o.step) ?? 0 })) },
  };
}

export function loggedModelFromJson(m: Json): LoggedModel {
  const info = (m.info ?? {}) as Json;
  const data = (m.data ?? {}) as Json;
  return {
    modelId: String(info.model_id),
    experimentId: String(info.experiment_id),
    name: String(info.name ?? ''),
    artifactLocation: String(info.artifact_uri ?? ''),
    sourceRunId: str(info.source_run_id),
    status: String(info.status ?? ''),
    modelType: str(info.model_type),
    creationTimestamp: num(info.creation_timestamp_ms) ?? 0,
    lastUpdatedTimestamp: num(info.last_updated_timestamp_ms) ?? 0,
    tags: tagsFromJson(info.tags),
    params: tagsFromJson(data.params),
  };
}

export function modelVersionFromJson(v: Json): ModelVersion {
  return {
    name: String(v.name),
    version: String(v.version),
    creationTimestamp: num(v.creation_timestamp) ?? 0,
    lastUpdatedTimestamp: num(v.last_updated_timestamp) ?? 0,
    currentStage: String(v.current_stage ?? 'None'),
    description: str(v.description),
    source: String(v.source ?? ''),
    runId: str(v.run_id) || undefined,
    modelId: str(v.model_id) || undefined,
    status: String(v.status ?? 'READY'),
    tags: tagsFromJson(v.tags),
    aliases: ((v.aliases as string[] | undefined) ?? []).map(String),
  };
}

export function registeredModelFromJson(m: Json): RegisteredModel {
  const aliases: Record<string, string> = {};
  for (const a of (m.aliases as { alias: string; version: string }[] | undefined) ?? []) aliases[a.alias] = String(a.version);
  return {
    name: String(m.name),
    description: str(m.description),
    creationTimestamp: num(m.creation_timestamp) ?? 0,
    lastUpdatedTimestamp: num(m.last_updated_timestamp) ?? 0,
    latestVersions: ((m.latest_versions as Json[] | undefined) ?? []).map(modelVersionFromJson),
    tags: tagsFromJson(m.tags),
    aliases,
  };
}
