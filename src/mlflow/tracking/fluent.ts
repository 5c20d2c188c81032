import { userInfo } from 'node:os';
import path from 'node:path';
import { MlflowException } from '../errors.js';
import { MlflowClient, type LogMetricOptions, type SearchRunsOptions } from './client.js';
import type { Experiment, Metric, PagedList, Run, RunStatus } from './entities.js';
import { getTrackingUri } from './tracking-uri.js';

/**
 * MLflow's fluent API (`mlflow/tracking/fluent.py`): an active experiment, a stack of active runs
 * (nested runs push onto it), and `log*` functions that write into the run on top.
 *
 * Scopes: `await using run = await startRun()` ends the run FINISHED when the scope exits. JavaScript's
 * disposers are not told whether the scope threw, so use `withRun(options, fn)` for MLflow's
 * `with start_run():` behaviour of ending the run FAILED on an exception (and rethrowing it).
 */

const DEFAULT_EXPERIMENT_ID = '0';

let client: MlflowClient | undefined;
let clientUri: string | undefined;
let activeExperimentId: string | undefined;
const runStack: ActiveRun[] = [];
let lastActive: Run | undefined;

/** The client for the current tracking URI (recreated when it changes). */
function fluentClient(): MlflowClient {
  const uri = getTrackingUri();
  if (!client || clientUri !== uri) {
    client = new MlflowClient(uri);
    clientUri = uri;
  }
  return client;
}

/** A run started by `startRun`; `await using` ends it when the scope exits. */
export class ActiveRun {
  constructor(public run: Run) {}
  get info(): Run['info'] {
    return this.run.info;
  }
  get data(): Run['data'] {
    return this.run.data;
  }
  async [Symbol.asyncDispose](): Promise<void> {
    if (runStack.includes(this)) await endRun('FINISHED', this);
  }
}

/** `set_experiment`: make an experiment active by name (created when missing) or by id. */
export async function setExperiment(experiment: { experimentName?: string; experimentId?: string } | string): Promise<Experiment> {
  const c = fluentClient();
  const { experimentName, experimentId } = typeof experiment === 'string' ? { experimentName: experiment, experimentId: undefined } : experiment;
  if ((experimentName === undefined) === (experimentId === undefined)) {
    throw MlflowException.invalidParameterValue('Must specify exactly one of: `experiment_id` or `experiment_name`.');
  }
  let exp: Experiment | undefined;
  if (experimentId !== undefined) {
    exp = await c.getExperiment(experimentId);
  } else {
    exp = await c.getExperimentByName(experimentName!);
    if (!exp) exp = await c.getExperiment(await c.createExperiment(experimentName!));
  }
  if (exp.lifecycleStage !== 'active') {
    throw MlflowException.invalidParameterValue(
      `Cannot set a deleted experiment '${exp.name}' as the active experiment. You can restore the experiment, or permanently delete the experiment to create a new one.`,
    );
  }
  activeExperimentId = exp.experimentId;
  return exp;
}

/** The experiment new runs go to: `setExperiment`, `MLFLOW_EXPERIMENT_NAME`, `MLFLOW_EXPERIMENT_ID`, else "Default". */
async function experimentIdForRun(): Promise<string> {
  if (activeExperimentId) return activeExperimentId;
  if (process.env.MLFLOW_EXPERIMENT_NAME) return (await setExperiment(process.env.MLFLOW_EXPERIMENT_NAME)).experimentId;
  return process.env.MLFLOW_EXPERIMENT_ID || DEFAULT_EXPERIMENT_ID;
}

export interface StartRunOptions {
  /** Resume this run (status set back to RUNNING). */
  runId?: string;
  experimentId?: string;
  runName?: string;
  /** Start under the active run, tagged `mlflow.parentRunId`. */
  nested?: boolean;
  /** Parent run id for a nested run (default: the active run). */
  parentRunId?: string;
  tags?: Record<string, unknown>;
  /** Stored as the `mlflow.note.content` tag. */
  description?: string;
}

/** The context tags MLflow's run context providers add (`mlflow.user`, `mlflow.source.*`). */
function contextTags(): Record<string, string> {
  const script = process.argv[1] ? path.resolve(process.argv[1]) : 'node';
  return { 'mlflow.user': userInfo().username, 'mlflow.source.name': script, 'mlflow.source.type': 'LOCAL' };
}

/** `start_run`. */
export async function startRun(options: StartRunOptions = {}): Promise<ActiveRun> {
  const c = fluentClient();
  const parent = runStack.at(-1);
  if (parent && !options.nested) {
    throw new MlflowException(
      `Run with UUID ${parent.info.runId} is already active. To start a new run, first end the current run with mlflow.end_run(). To start a nested run, call start_run with nested=True`,
    );
  }
  const existingId = options.runId ?? process.env.MLFLOW_RUN_ID;
  let run: Run;
  if (existingId) {
    const existing = await c.getRun(existingId);
    if (options.experimentId && existing.info.experimentId !== String(options.experimentId)) {
      throw new MlflowException(`The run ${existingId} does not belong to the experiment ${options.experimentId}`);
    }
    if (existing.info.lifecycleStage !== 'active') throw new MlflowException(`Cannot start run with ID ${existingId} because it is in the deleted state.`);
    await c.updateRun(existingId, { status: 'RUNNING' });
    run = await c.getRun(existingId);
  } else {
    const tags: Record<string, unknown> = { ...contextTags(), ...options.tags };
    const parentRunId = options.parentRunId ?? parent?.info.runId;
    if (options.nested && parentRunId) tags['mlflow.parentRunId'] = parentRunId;
    if (options.description) tags['mlflow.note.content'] = options.description;
    run = await c.createRun(options.experimentId ?? (await experimentIdForRun()), { tags, runName: options.runName });
  }
  const active = new ActiveRun(run);
  runStack.push(active);
  return active;
}

/** `end_run`: end the active run (or `run`, with the runs nested in it) with a status. */
export async function endRun(status: RunStatus = 'FINISHED', run?: ActiveRun): Promise<void> {
  const index = run ? runStack.indexOf(run) : runStack.length - 1;
  if (index < 0) return;
  while (runStack.length > index) {
    const top = runStack.pop()!;
    await fluentClient().setTerminated(top.info.runId, status);
    lastActive = await fluentClient().getRun(top.info.runId);
  }
}

/**
 * Run `fn` in a new run and end it FINISHED, or FAILED when `fn` throws (the error is rethrown):
 * `with mlflow.start_run() as run:` in Python.
 */
export async function withRun<T>(options: StartRunOptions, fn: (run: ActiveRun) => Promise<T> | T): Promise<T> {
  const run = await startRun(options);
  let result: T;
  try {
    result = await fn(run);
  } catch (err) {
    await endRun('FAILED', run);
    throw err;
  }
  await endRun('FINISHED', run);
  return result;
}

export function activeRun(): ActiveRun | undefined {
  return runStack.at(-1);
}

/** The last run ended by `endRun`, as `last_active_run` returns it. */
export function lastActiveRun(): Run | undefined {
  return lastActive;
}

/** The active run's id, starting a run when there is none (as MLflow's `log_*` functions do). */
async function runIdForLogging(): Promise<string> {
  return (runStack.at(-1) ?? (await startRun())).info.runId;
}

export async function logParam(key: string, value: unknown): Promise<unknown> {
  return fluentClient().logParam(await runIdForLogging(), key, value);
}

export async function logParams(params: Record<string, unknown>): Promise<void> {
  await fluentClient().logBatch(await runIdForLogging(), { params: Object.entries(params).map(([key, value]) => ({ key, value })) });
}

export async function logMetric(key: string, value: number, options: LogMetricOptions = {}): Promise<void> {
  await fluentClient().logMetric(await runIdForLogging(), key, value, options);
}

export async function logMetrics(metrics: Record<string, number>, options: { step?: number; timestamp?: number } = {}): Promise<void> {
  const timestamp = options.timestamp ?? Date.now();
  const batch: (Partial<Metric> & { key: string; value: number })[] = Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp, step: options.step ?? 0 }));
  await fluentClient().logBatch(await runIdForLogging(), { metrics: batch });
}

export async function setTag(key: string, value: unknown): Promise<void> {
  await fluentClient().setTag(await runIdForLogging(), key, value);
}

export async function setTags(tags: Record<string, unknown>): Promise<void> {
  await fluentClient().logBatch(await runIdForLogging(), { tags: Object.entries(tags).map(([key, value]) => ({ key, value })) });
}

export async function deleteTag(key: string): Promise<void> {
  await fluentClient().deleteTag(await runIdForLogging(), key);
}

export async function logArtifact(localPath: string, artifactPath?: string): Promise<void> {
  await fluentClient().logArtifact(await runIdForLogging(), localPath, artifactPath);
}

export async function logArtifacts(localDir: string, artifactPath?: string): Promise<void> {
  await fluentClient().logArtifacts(await runIdForLogging(), localDir, artifactPath);
}

export async function logText(text: string, artifactFile: string): Promise<void> {
  await fluentClient().logText(await runIdForLogging(), text, artifactFile);
}

export async function logDict(dictionary: Record<string, unknown>, artifactFile: string): Promise<void> {
  await fluentClient().logDict(await runIdForLogging(), dictionary, artifactFile);
}

/** `search_runs` over the given experiments (default: the active one). */
export async function searchRuns(options: SearchRunsOptions & { experimentIds?: string[] } = {}): Promise<PagedList<Run>> {
  return fluentClient().searchRuns(options.experimentIds ?? [await experimentIdForRun()], options);
}

/** `register_model`: create the registered model when missing, then a version from `modelUri`. */
export async function registerModel(modelUri: string, name: string, options: { tags?: Record<string, string> } = {}) {
  return registerModelWith(fluentClient(), modelUri, name, options);
}

/** @internal */
export async function registerModelWith(c: MlflowClient, modelUri: string, name: string, options: { tags?: Record<string, string> } = {}) {
  try {
    await c.createRegisteredModel(name);
  } catch (err) {
    if (!(err instanceof MlflowException && err.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw err;
  }
  // MLflow 3 registers the logged model behind a runs:/ URI, with source models:/<model_id>.
  const artifactUri = /^(runs|models):/.test(modelUri) ? await c.resolveArtifactUri(modelUri) : modelUri;
  const modelId = /\/models\/(m-[0-9a-f]+)\/artifacts\/?$/.exec(artifactUri)?.[1];
  const runId = /^runs:\/+([^/]+)/.exec(modelUri)?.[1];
  if (modelId) {
    const model = await c.getLoggedModel(modelId);
    return c.createModelVersion(name, `models:/${modelId}`, { runId: runId ?? model.sourceRunId, modelId, tags: options.tags });
  }
  return c.createModelVersion(name, modelUri, { runId, tags: options.tags });
}

/** @internal The fluent client (for `logModel`). */
export function currentClient(): MlflowClient {
  return fluentClient();
}
