import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { MlflowException } from '../errors.js';
import { pyJsonDumps } from '../pycompat/json.js';
import { localArtifactPath } from '../tracking/artifact-repo.js';
import { DEFAULT_EXPERIMENT_ID, FileStore } from '../tracking/file-store.js';
import { activeRun, currentClient, endRun, startRun } from '../tracking/fluent.js';
import { getTrackingUri, isHttpUri } from '../tracking/tracking-uri.js';
import { runArtifactDir, trackingRoot } from '../uri.js';
import { saveInto, type LogTarget, type ModelInfo } from './model-dir.js';
import { saveModelTo, type SaveModelOptions } from './save-model.js';

/**
 * `log_model`. On a tracking server as MLflow 3 does it (a logged-model record, `models:/<model_id>`).
 * In a local file store (mlflow-format.md §8.2, through the tracking FileStore) in the 2.x layout every
 * MLflow version reads: the model is saved under `<experiment>/<run_id>/artifacts/<artifact_path>`, the
 * run gets the `mlflow.log-model.history` tag, and `runs:/<run_id>/<artifact_path>` resolves to it.
 */

export interface LogOptions {
  /** Log into this existing run; by default a new run is created and finished. */
  runId?: string;
  /** Experiment of a new run (default `MLFLOW_EXPERIMENT_ID` or `'0'`, "Default"). */
  experimentId?: string;
  runName?: string;
}

/** A new run in the file store (MLflow's FileStore layout), FINISHED by `finish()`. */
async function createRun(store: FileStore, options: LogOptions): Promise<{ runId: string; runDir: string; artifactDir: string; finish(): Promise<void> }> {
  const user = userInfo().username;
  const run = await store.createRun({
    experimentId: options.experimentId ?? process.env.MLFLOW_EXPERIMENT_ID ?? DEFAULT_EXPERIMENT_ID,
    userId: user,
    startTime: Date.now(),
    runName: options.runName,
    tags: { 'mlflow.user': user, 'mlflow.source.type': 'LOCAL' },
  });
  const { runId } = run.info;
  const { dir } = await store.findRun(runId);
  return { runId, runDir: dir, artifactDir: localArtifactPath(run.info.artifactUri), finish: async () => void (await store.updateRunInfo(runId, 'FINISHED', Date.now())) };
}

/** `Model.get_tags_dict` appended to the run's `mlflow.log-model.history` tag (flavors without `config`). */
async function recordHistory(store: FileStore, runId: string, info: ModelInfo): Promise<void> {
  const history = JSON.parse((await store.getRun(runId)).data.tags['mlflow.log-model.history'] ?? '[]') as unknown[];
  const flavors = Object.fromEntries(
    Object.entries(info.flavors).map(([name, conf]) => [name, Object.fromEntries(Object.entries(conf).filter(([k]) => k !== 'config'))]),
  );
  history.push({ run_id: info.runId, artifact_path: info.artifactPath, utc_time_created: info.utcTimeCreated, model_uuid: info.modelUuid, flavors });
  await store.setTag(runId, 'mlflow.log-model.history', pyJsonDumps(history));
}

/**
 * MLflow 3's `Model.log` against a tracking server: a logged-model record in the run's experiment
 * (with the run's params), the model saved with that `model_id`, its files uploaded to the record's
 * artifact location, the model recorded as an output of the run, then finalized READY.
 */
async function logModelToServer(
  artifactPath: string,
  options: LogOptions,
  save: (dir: string, log: LogTarget) => Promise<ModelInfo>,
): Promise<ModelInfo> {
  const client = currentClient();
  const started = options.runId || activeRun() ? undefined : await startRun({ experimentId: options.experimentId, runName: options.runName });
  const runId = options.runId ?? activeRun()!.info.runId;
  const tmp = await mkdtemp(path.join(tmpdir(), 'mlflow-log-model-'));
  try {
    const run = await client.getRun(runId);
    const model = await client.createLoggedModel({ experimentId: run.info.experimentId, name: artifactPath, sourceRunId: runId, params: run.data.params });
    try {
      const info = await saveInto(path.join(tmp, 'model'), (dir) => save(dir, { runId, artifactPath: model.artifactLocation, modelId: model.modelId }));
      await client.logOutputs(runId, [{ modelId: model.modelId, step: 0 }]);
      await client.logModelArtifacts(model.modelId, info.path);
      await client.finalizeLoggedModel(model.modelId, 'LOGGED_MODEL_READY');
      if (started) await endRun('FINISHED', started);
      return { ...info, path: model.artifactLocation };
    } catch (err) {
      await client.finalizeLoggedModel(model.modelId, 'LOGGED_MODEL_UPLOAD_FAILED').catch(() => undefined);
      throw err;
    }
  } catch (err) {
    if (started) await endRun('FAILED', started);
    throw err;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Log a model with any flavor's save function; shared by `pyfunc.logModel` and `ortgenai.logModel`.
 * Into the given run, else the active run (`startRun`), else a new run; on a tracking server as MLflow
 * 3 logs it (a logged model, `models:/<model_id>`), in a file store in the layout every MLflow reads.
 */
export async function logModelWith(
  artifactPath: string,
  options: LogOptions,
  save: (dir: string, log: LogTarget) => Promise<ModelInfo>,
): Promise<ModelInfo> {
  if (!/^[^/\\.][^\\]*$/.test(artifactPath) || artifactPath.split('/').includes('..')) {
    throw MlflowException.invalidParameterValue(`Invalid artifact path '${artifactPath}': expected a relative path such as 'model'`);
  }
  if (isHttpUri(getTrackingUri())) return logModelToServer(artifactPath, options, save);
  const store = new FileStore(trackingRoot());
  const runId = options.runId ?? activeRun()?.info.runId;
  let run: { runId: string; artifactDir: string; finish?: () => Promise<void> };
  if (runId) {
    const { artifactDir } = await runArtifactDir(runId, store.root);
    run = { runId, artifactDir };
  } else {
    run = await createRun(store, options);
  }
  const target = path.join(run.artifactDir, artifactPath);
  const info = await saveInto(target, (dir) => save(dir, { runId: run.runId, artifactPath }));
  await recordHistory(store, run.runId, info);
  await run.finish?.();
  return info;
}

/** `mlflow.pyfunc.log_model`: save into a run of the local file store; returns `runs:/` in `modelUri`. */
export async function logModel(artifactPath: string, options: SaveModelOptions & LogOptions): Promise<ModelInfo> {
  return logModelWith(artifactPath, options, (dir, log) => saveModelTo(dir, options, log));
}
