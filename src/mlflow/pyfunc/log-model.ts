import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MlflowException } from '../errors.js';
import { pyJsonDumps } from '../signature/python.js';
import { activeRun, currentClient, endRun, startRun } from '../tracking/fluent.js';
import { getTrackingUri, isHttpUri } from '../tracking/tracking-uri.js';
import { runArtifactDir, trackingRoot } from '../uri.js';
import { dumpYaml } from '../yaml.js';
import { saveInto, type LogTarget, type ModelInfo } from './model-dir.js';
import { saveModelTo, type SaveModelOptions } from './save-model.js';

/**
 * `log_model` against a local MLflow file store (mlflow-format.md §8.2), in the 2.x layout every MLflow
 * version reads: the model is saved under `<experiment>/<run_id>/artifacts/<artifact_path>`, the run gets
 * a `meta.yaml` and the `mlflow.log-model.history` tag, and `runs:/<run_id>/<artifact_path>` resolves to
 * it. Tracking servers are out of scope here.
 */

export interface LogOptions {
  /** Log into this existing run; by default a new run is created and finished. */
  runId?: string;
  /** Experiment of a new run (default `MLFLOW_EXPERIMENT_ID` or `'0'`, "Default"). */
  experimentId?: string;
  runName?: string;
}

const RUN_STATUS_FINISHED = 3; // RunStatus.FINISHED; meta.yaml stores the enum's integer

async function writeTag(dir: string, key: string, value: string): Promise<void> {
  const file = path.join(dir, 'tags', ...key.split('/'));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, value); // raw value, no newline
}

async function ensureExperiment(root: string, experimentId: string): Promise<string> {
  const dir = path.join(root, experimentId);
  if (await stat(path.join(dir, 'meta.yaml')).then(() => true, () => false)) return dir;
  if (experimentId !== '0') throw new MlflowException(`Experiment '${experimentId}' does not exist in '${root}'`, 'RESOURCE_DOES_NOT_EXIST');
  const now = Date.now();
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'meta.yaml'),
    dumpYaml({
      artifact_location: pathToFileURL(dir).href,
      creation_time: now,
      experiment_id: '0',
      last_update_time: now,
      lifecycle_stage: 'active',
      name: 'Default',
    }),
  );
  return dir;
}

function runMeta(experimentDir: string, experimentId: string, runId: string, runName: string, start: number, end: number | null) {
  return {
    artifact_uri: pathToFileURL(path.join(experimentDir, runId, 'artifacts')).href,
    deleted_time: null,
    end_time: end,
    entry_point_name: '',
    experiment_id: experimentId,
    lifecycle_stage: 'active',
    run_id: runId,
    run_name: runName,
    run_uuid: runId,
    source_name: '',
    source_type: 4,
    source_version: '',
    start_time: start,
    status: end === null ? 1 : RUN_STATUS_FINISHED,
    tags: [],
    user_id: userInfo().username,
  };
}

async function createRun(root: string, options: LogOptions): Promise<{ runId: string; runDir: string; artifactDir: string; finish(): Promise<void> }> {
  const experimentId = options.experimentId ?? process.env.MLFLOW_EXPERIMENT_ID ?? '0';
  const experimentDir = await ensureExperiment(root, experimentId);
  const runId = randomUUID().replaceAll('-', '');
  const runName = options.runName ?? `ortgenai-node-${runId.slice(0, 8)}`;
  const runDir = path.join(experimentDir, runId);
  const start = Date.now();
  const write = (end: number | null) => writeFile(path.join(runDir, 'meta.yaml'), dumpYaml(runMeta(experimentDir, experimentId, runId, runName, start, end)));
  await mkdir(path.join(runDir, 'artifacts'), { recursive: true });
  await Promise.all(['metrics', 'params'].map((d) => mkdir(path.join(runDir, d), { recursive: true })));
  await write(null);
  await writeTag(runDir, 'mlflow.runName', runName);
  await writeTag(runDir, 'mlflow.user', userInfo().username);
  await writeTag(runDir, 'mlflow.source.type', 'LOCAL');
  return { runId, runDir, artifactDir: path.join(runDir, 'artifacts'), finish: () => write(Date.now()) };
}

/** `Model.get_tags_dict` appended to the run's `mlflow.log-model.history` tag (flavors without `config`). */
async function recordHistory(runDir: string, info: ModelInfo): Promise<void> {
  const file = path.join(runDir, 'tags', 'mlflow.log-model.history');
  const history = JSON.parse(await readFile(file, 'utf8').catch(() => '[]')) as unknown[];
  const flavors = Object.fromEntries(
    Object.entries(info.flavors).map(([name, conf]) => [name, Object.fromEntries(Object.entries(conf).filter(([k]) => k !== 'config'))]),
  );
  history.push({ run_id: info.runId, artifact_path: info.artifactPath, utc_time_created: info.utcTimeCreated, model_uuid: info.modelUuid, flavors });
  await writeTag(runDir, 'mlflow.log-model.history', pyJsonDumps(history));
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
  const root = trackingRoot();
  const runId = options.runId ?? activeRun()?.info.runId;
  let run: { runId: string; runDir: string; artifactDir: string; finish?: () => Promise<void> };
  if (runId) {
    const { experimentDir, artifactDir } = await runArtifactDir(runId, root);
    run = { runId, runDir: path.join(experimentDir, runId), artifactDir };
  } else {
    run = await createRun(root, options);
  }
  const target = path.join(run.artifactDir, artifactPath);
  const info = await saveInto(target, (dir) => save(dir, { runId: run.runId, artifactPath }));
  await recordHistory(run.runDir, info);
  await run.finish?.();
  return info;
}

/** `mlflow.pyfunc.log_model`: save into a run of the local file store; returns `runs:/` in `modelUri`. */
export async function logModel(artifactPath: string, options: SaveModelOptions & LogOptions): Promise<ModelInfo> {
  return logModelWith(artifactPath, options, (dir, log) => saveModelTo(dir, options, log));
}
