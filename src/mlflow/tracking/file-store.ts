import { randomInt, randomUUID } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MlflowException } from '../errors.js';
import { dumpYaml, loadYaml } from '../pycompat/yaml.js';
import { localArtifactPath } from './artifact-repo.js';
import {
  pagedList,
  RUN_STATUSES,
  type Experiment,
  type LoggedModel,
  type Metric,
  type PagedList,
  type Run,
  type RunInfo,
  type RunStatus,
} from './entities.js';
import { filterRuns, paginate, sortRuns } from './search-filter.js';
import type { CreateLoggedModelRequest, CreateRunRequest, SearchRunsRequest, TrackingStore } from './store.js';
import { validateRunId } from './validation.js';

/**
 * MLflow's tracking `FileStore` (`mlflow/store/tracking/file_store.py`) in exactly its layout:
 * `<root>/<experiment_id>/meta.yaml` and `tags/`, `<root>/<experiment_id>/<run_id>/meta.yaml` (status as
 * the RunStatus integer), `params/<key>` (the raw value), `metrics/<key>` (lines
 * `<timestamp> <value> <step>`), `tags/<key>`, `artifacts/`; deleted experiments move to `.trash`.
 *
 * MLflow 3.18 keeps this store "in maintenance mode": its own FileStore refuses to open unless
 * `MLFLOW_ALLOW_FILE_STORE=true` is set, and its default tracking URI is `sqlite:///mlflow.db` unless
 * `./mlruns` already holds experiments. Python reads what this writes with that variable set.
 * Logged-model records (MLflow 3) and the registry are the tracking server's: here `logModel` writes
 * the model into the run's artifacts (the layout every MLflow reads) and registry writes are refused.
 */

const META = 'meta.yaml';
const TRASH = '.trash';
export const DEFAULT_EXPERIMENT_ID = '0';
const STATUS_CODE: Record<RunStatus, number> = { RUNNING: 1, SCHEDULED: 2, FINISHED: 3, FAILED: 4, KILLED: 5 };
const RESERVED_DIRS = new Set([TRASH, 'models']);

type Yaml = Record<string, unknown>;

/** A YAML mapping from a file; undefined when the file does not exist. */
export async function readYaml(file: string): Promise<Yaml | undefined> {
  try {
    const parsed = loadYaml(await readFile(file, 'utf8'), file);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Yaml) : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeYaml(file: string, data: Yaml): Promise<void> {
  // Write-then-rename: a concurrent reader never sees half a meta.yaml.
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(tmp, dumpYaml(data));
  await rename(tmp, file);
}

const exists = (p: string) => stat(p).then(() => true, () => false);

/** Python's `str(float)`: `1.0`, `0.5`, `nan`, `inf`, `-inf`. */
export function pythonFloat(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.0`;
  return String(v).replace(/e([+-])(\d)$/, 'e$10$2');
}

function parsePythonFloat(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'nan') return NaN;
  if (t === 'inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return Number(t);
}

/** A key that may hold `/` as a relative path below a folder, refusing anything that leaves it. */
function keyPath(dir: string, key: string): string {
  const p = path.join(dir, ...key.split('/'));
  if (path.relative(dir, p).startsWith('..') || path.isAbsolute(path.relative(dir, p))) throw MlflowException.invalidParameterValue(`Invalid key '${key}'`);
  return p;
}

async function readKeyed(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    out[path.relative(dir, file).split(path.sep).join('/')] = await readFile(file, 'utf8');
  }
  return out;
}

export class FileStore implements TrackingStore {
  readonly root: string;
  readonly artifactRootUri: string;

  constructor(rootUri: string, artifactRootUri?: string) {
    this.root = localArtifactPath(rootUri);
    this.artifactRootUri = artifactRootUri ?? pathToFileURL(this.root).href;
  }

  // ---- experiments ------------------------------------------------------------------------------

  private async ensureRoot(): Promise<void> {
    if (!(await exists(path.join(this.root, DEFAULT_EXPERIMENT_ID, META)))) {
      await mkdir(this.root, { recursive: true });
      if (!(await exists(path.join(this.root, DEFAULT_EXPERIMENT_ID)))) await this.writeExperiment(DEFAULT_EXPERIMENT_ID, 'Default');
    }
    await mkdir(path.join(this.root, TRASH), { recursive: true });
  }

  private async writeExperiment(experimentId: string, name: string, artifactLocation?: string): Promise<void> {
    const dir = path.join(this.root, experimentId);
    await mkdir(dir, { recursive: true });
    const now = Date.now();
    await writeYaml(path.join(dir, META), {
      artifact_location: artifactLocation ?? `${this.artifactRootUri.replace(/\/+$/, '')}/${experimentId}`,
      creation_time: now,
      experiment_id: experimentId,
      last_update_time: now,
      lifecycle_stage: 'active',
      name,
    });
  }

  /** The experiment's folder (active, or in `.trash` when deleted). */
  private async experimentDir(experimentId: string): Promise<string | undefined> {
    await this.ensureRoot();
    for (const dir of [path.join(this.root, experimentId), path.join(this.root, TRASH, experimentId)]) {
      if (await exists(path.join(dir, META))) return dir;
    }
    return undefined;
  }

  private async readExperiment(dir: string): Promise<Experiment> {
    const meta = (await readYaml(path.join(dir, META))) ?? {};
    return {
      experimentId: String(meta.experiment_id),
      name: String(meta.name ?? ''),
      artifactLocation: String(meta.artifact_location ?? ''),
      lifecycleStage: meta.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
      tags: await readKeyed(path.join(dir, 'tags')),
      creationTime: typeof meta.creation_time === 'number' ? meta.creation_time : undefined,
      lastUpdateTime: typeof meta.last_update_time === 'number' ? meta.last_update_time : undefined,
    };
  }

  private async allExperimentDirs(): Promise<string[]> {
    await this.ensureRoot();
    const dirs: string[] = [];
    for (const base of [this.root, path.join(this.root, TRASH)]) {
      for (const e of await readdir(base, { withFileTypes: true }).catch(() => [])) {
        if (e.isDirectory() && !RESERVED_DIRS.has(e.name) && (await exists(path.join(base, e.name, META)))) dirs.push(path.join(base, e.name));
      }
    }
    return dirs;
  }

  async createExperiment(name: string, artifactLocation?: string, tags?: Record<string, string>): Promise<string> {
    const existing = await this.getExperimentByName(name);
    if (existing) {
      throw new MlflowException(
        existing.lifecycleStage === 'deleted'
          ? `Experiment '${name}' already exists in deleted state. You can restore the experiment, or permanently delete the experiment from the .trash folder (under tracking server's root folder) in order to use this experiment name again.`
          : `Experiment '${name}' already exists.`,
        'RESOURCE_ALREADY_EXISTS',
      );
    }
    // `_generate_unique_integer_id`: a random positive 63-bit integer.
    const id = String(BigInt(randomInt(1, 2 ** 31)) * BigInt(2 ** 31) + BigInt(randomInt(0, 2 ** 31)));
    await this.writeExperiment(id, name, artifactLocation);
    for (const [k, v] of Object.entries(tags ?? {})) await this.setExperimentTag(id, k, v);
    return id;
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const dir = await this.experimentDir(experimentId);
    if (!dir) throw new MlflowException(`Could not find experiment with ID ${experimentId}`, 'RESOURCE_DOES_NOT_EXIST');
    return this.readExperiment(dir);
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    for (const dir of await this.allExperimentDirs()) {
      const exp = await this.readExperiment(dir);
      if (exp.name === name) return exp;
    }
    return undefined;
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    const exp = await this.getExperiment(experimentId);
    if (exp.lifecycleStage !== 'active') {
      throw MlflowException.invalidParameterValue(`The experiment ${experimentId} must be in the 'active' lifecycle_stage to set tags`);
    }
    const file = keyPath(path.join(this.root, experimentId, 'tags'), key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, value);
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    if (experimentId === DEFAULT_EXPERIMENT_ID) throw MlflowException.invalidParameterValue('Cannot delete the default experiment \'0\'. This is an internally reserved experiment.');
    const dir = path.join(this.root, experimentId);
    const meta = await readYaml(path.join(dir, META));
    if (!meta) throw new MlflowException(`Could not find experiment with ID ${experimentId}`, 'RESOURCE_DOES_NOT_EXIST');
    await writeYaml(path.join(dir, META), { ...meta, lifecycle_stage: 'deleted', last_update_time: Date.now() });
    await rename(dir, path.join(this.root, TRASH, experimentId));
  }

  // ---- runs -------------------------------------------------------------------------------------

  /** The run's folder and its experiment id (`_find_run_root`). */
  async findRun(runId: string): Promise<{ dir: string; experimentId: string }> {
    validateRunId(runId);
    for (const expDir of await this.allExperimentDirs()) {
      const dir = path.join(expDir, runId);
      if (await exists(path.join(dir, META))) return { dir, experimentId: path.basename(expDir) };
    }
    throw new MlflowException(`Run '${runId}' not found`, 'RESOURCE_DOES_NOT_EXIST');
  }

  private async readInfo(dir: string, tags?: Record<string, string>): Promise<RunInfo> {
    const meta = (await readYaml(path.join(dir, META))) ?? {};
    const status = typeof meta.status === 'number' ? RUN_STATUSES[meta.status - 1] : (meta.status as RunStatus | undefined);
    return {
      runId: String(meta.run_id ?? meta.run_uuid),
      runName: String(meta.run_name || tags?.['mlflow.runName'] || ''),
      experimentId: String(meta.experiment_id),
      userId: String(meta.user_id ?? ''),
      status: status ?? 'RUNNING',
      startTime: Number(meta.start_time ?? 0),
      endTime: meta.end_time === null || meta.end_time === undefined ? undefined : Number(meta.end_time),
      artifactUri: String(meta.artifact_uri ?? ''),
      lifecycleStage: meta.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
    };
  }

  private async writeInfo(dir: string, info: RunInfo, deletedTime: number | null = null): Promise<void> {
    await writeYaml(path.join(dir, META), {
      artifact_uri: info.artifactUri,
      deleted_time: deletedTime,
      end_time: info.endTime ?? null,
      entry_point_name: '',
      experiment_id: info.experimentId,
      lifecycle_stage: info.lifecycleStage,
      run_id: info.runId,
      run_name: info.runName,
      run_uuid: info.runId,
      source_name: '',
      source_type: 4, // SourceType.LOCAL
      source_version: '',
      start_time: info.startTime,
      status: STATUS_CODE[info.status],
      tags: [],
      user_id: info.userId,
    });
  }

  private async activeRunDir(runId: string): Promise<{ dir: string; info: RunInfo }> {
    const { dir } = await this.findRun(runId);
    const info = await this.readInfo(dir);
    if (info.lifecycleStage !== 'active') throw new MlflowException(`The run ${runId} must be in the 'active' state. Current state is deleted.`, 'INVALID_PARAMETER_VALUE');
    return { dir, info };
  }

  async createRun(request: CreateRunRequest): Promise<Run> {
    const experiment = await this.getExperiment(request.experimentId);
    if (experiment.lifecycleStage !== 'active') {
      throw new MlflowException(`Could not create run under non-active experiment with ID ${request.experimentId}.`, 'INVALID_STATE');
    }
    const tagName = request.tags['mlflow.runName'];
    if (request.runName && tagName && request.runName !== tagName) {
      throw MlflowException.invalidParameterValue(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${request.runName}', mlflow.runName='${tagName}').`,
      );
    }
    const runId = randomUUID().replaceAll('-', '');
    const runName = request.runName || tagName || `run-${runId.slice(0, 8)}`;
    const dir = path.join(this.root, request.experimentId, runId);
    await Promise.all(['metrics', 'params', 'artifacts', 'tags'].map((d) => mkdir(path.join(dir, d), { recursive: true })));
    const info: RunInfo = {
      runId,
      runName,
      experimentId: request.experimentId,
      userId: request.userId,
      status: 'RUNNING',
      startTime: request.startTime,
      endTime: undefined,
      artifactUri: `${experiment.artifactLocation.replace(/\/+$/, '')}/${runId}/artifacts`,
      lifecycleStage: 'active',
    };
    await this.writeInfo(dir, info);
    for (const [k, v] of Object.entries({ ...request.tags, 'mlflow.runName': runName })) await this.writeKeyed(dir, 'tags', k, v);
    return this.getRun(runId);
  }

  private async writeKeyed(runDir: string, folder: 'tags' | 'params', key: string, value: string): Promise<void> {
    const file = keyPath(path.join(runDir, folder), key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, value);
  }

  async getRun(runId: string): Promise<Run> {
    const { dir } = await this.findRun(runId);
    const tags = await readKeyed(path.join(dir, 'tags'));
    const metrics: Record<string, number> = {};
    for (const [key, text] of Object.entries(await readKeyed(path.join(dir, 'metrics')))) {
      // The latest value: the largest (step, timestamp, value), as `_get_metric_from_file`.
      const latest = this.parseMetricLines(key, text).reduce<Metric | undefined>(
        (best, m) => (!best || m.step > best.step || (m.step === best.step && (m.timestamp > best.timestamp || (m.timestamp === best.timestamp && m.value > best.value))) ? m : best),
        undefined,
      );
      if (latest) metrics[key] = latest.value;
    }
    const outputs = await readdir(path.join(dir, 'outputs')).catch(() => [] as string[]);
    const modelOutputs = [];
    for (const modelId of outputs) {
      const meta = await readYaml(path.join(dir, 'outputs', modelId, META));
      modelOutputs.push({ modelId, step: Number(meta?.step ?? 0) });
    }
    return { info: await this.readInfo(dir, tags), data: { metrics, params: await readKeyed(path.join(dir, 'params')), tags }, outputs: { modelOutputs } };
  }

  async updateRunInfo(runId: string, status: RunStatus, endTime: number | undefined, runName?: string): Promise<RunInfo> {
    const { dir, info } = await this.activeRunDir(runId);
    const updated: RunInfo = { ...info, status, endTime: endTime ?? info.endTime, runName: runName || info.runName };
    if (runName) await this.writeKeyed(dir, 'tags', 'mlflow.runName', runName);
    await this.writeInfo(dir, updated);
    return updated;
  }

  async deleteRun(runId: string): Promise<void> {
    const { dir, info } = await this.activeRunDir(runId);
    await this.writeInfo(dir, { ...info, lifecycleStage: 'deleted' }, Date.now());
  }

  async logMetric(runId: string, metric: Metric): Promise<void> {
    const { dir } = await this.activeRunDir(runId);
    await this.appendMetric(dir, metric);
  }

  private async appendMetric(dir: string, m: Metric): Promise<void> {
    const file = keyPath(path.join(dir, 'metrics'), m.key);
    await mkdir(path.dirname(file), { recursive: true });
    // One append per line (O_APPEND): concurrent writers interleave whole lines, as Python's `append_to`.
    await appendFile(file, `${m.timestamp} ${pythonFloat(m.value)} ${m.step}\n`);
  }

  async logParam(runId: string, key: string, value: string): Promise<void> {
    const { dir } = await this.activeRunDir(runId);
    await this.writeParam(dir, runId, key, value);
  }

  private async writeParam(dir: string, runId: string, key: string, value: string): Promise<void> {
    const file = keyPath(path.join(dir, 'params'), key);
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current !== undefined && current !== value) {
      throw MlflowException.invalidParameterValue(
        `Changing param values is not allowed. Param with key='${key}' was already logged with value='${current}' for run ID='${runId}'. Attempted logging new value '${value}'.`,
      );
    }
    if (current === undefined) await this.writeKeyed(dir, 'params', key, value);
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    const { dir, info } = await this.activeRunDir(runId);
    await this.writeKeyed(dir, 'tags', key, value);
    if (key === 'mlflow.runName') await this.writeInfo(dir, { ...info, runName: value });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    const { dir } = await this.activeRunDir(runId);
    const file = keyPath(path.join(dir, 'tags'), key);
    if (!(await exists(file))) throw new MlflowException(`No tag with name: ${key} in run with id ${runId}`, 'RESOURCE_DOES_NOT_EXIST');
    await rm(file);
  }

  async logBatch(runId: string, metrics: Metric[], params: { key: string; value: string }[], tags: { key: string; value: string }[]): Promise<void> {
    const { dir } = await this.activeRunDir(runId);
    for (const p of params) await this.writeParam(dir, runId, p.key, p.value);
    for (const m of metrics) await this.appendMetric(dir, m);
    for (const t of tags) await this.writeKeyed(dir, 'tags', t.key, t.value);
  }

  private parseMetricLines(key: string, text: string): Metric[] {
    return text
      .split('\n')
      .filter((l) => l.trim())
      .map((line) => {
        const parts = line.trim().split(' ');
        if (![2, 3, 5].includes(parts.length)) {
          throw new MlflowException(`Metric '${key}' is malformed; persisted metric data contained ${parts.length} fields. Expected 2, 3, or 5 fields.`, 'INTERNAL_ERROR');
        }
        return { key, timestamp: Number(parts[0]), value: parsePythonFloat(parts[1]), step: parts.length >= 3 ? Number(parts[2]) : 0 };
      });
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const { dir } = await this.findRun(runId);
    const text = await readFile(keyPath(path.join(dir, 'metrics'), key), 'utf8').catch(() => '');
    return this.parseMetricLines(key, text);
  }

  async searchRuns(request: SearchRunsRequest): Promise<PagedList<Run>> {
    const view = request.runViewType ?? 'ACTIVE_ONLY';
    const runs: Run[] = [];
    for (const experimentId of request.experimentIds) {
      const expDir = await this.experimentDir(experimentId);
      if (!expDir) continue;
      for (const e of await readdir(expDir, { withFileTypes: true })) {
        if (!e.isDirectory() || e.name === 'tags' || e.name === 'models' || !(await exists(path.join(expDir, e.name, META)))) continue;
        const run = await this.getRun(e.name);
        const stage = run.info.lifecycleStage;
        if (view === 'ALL' || (view === 'ACTIVE_ONLY' && stage === 'active') || (view === 'DELETED_ONLY' && stage === 'deleted')) runs.push(run);
      }
    }
    const sorted = sortRuns(filterRuns(runs, request.filter), request.orderBy);
    const { page, next } = paginate(sorted, request.pageToken, request.maxResults ?? 1000);
    return pagedList(page, next);
  }

  // ---- logged models: the tracking server's ------------------------------------------------------

  private notOnFileStore(what: string): never {
    throw new MlflowException(`${what} needs a tracking server (MLFLOW_TRACKING_URI=http(s)://...); the file store at '${this.root}' does not support it from Node`, 'NOT_IMPLEMENTED');
  }

  createLoggedModel(_request: CreateLoggedModelRequest): Promise<LoggedModel> {
    this.notOnFileStore('Creating a logged model');
  }

  getLoggedModel(_modelId: string): Promise<LoggedModel> {
    this.notOnFileStore('Reading a logged model');
  }

  finalizeLoggedModel(_modelId: string): Promise<LoggedModel> {
    this.notOnFileStore('Finalizing a logged model');
  }

  logOutputs(_runId: string, _models: { modelId: string; step: number }[]): Promise<void> {
    this.notOnFileStore('Logging run outputs');
  }
}
