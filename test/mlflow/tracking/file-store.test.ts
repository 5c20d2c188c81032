// The local file store (a folder or file: URI) in MLflow's FileStore layout, read and written by MLflow
// 3.18 itself, which opens it only with MLFLOW_ALLOW_FILE_STORE=true.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endRun, logMetric, logParam, MlflowClient, setExperiment, setTrackingUri, startRun, withRun } from '../../../src/mlflow/index.js';
import { venvPython } from './mlflow-server.js';
import { caught, expectMlflowSearch } from './shared-expectations.js';

const execFileAsync = promisify(execFile);
let root: string;
let uri: string;
let client: MlflowClient;
let python: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'file-store-'));
  uri = pathToFileURL(path.join(root, 'mlruns')).href;
  client = new MlflowClient(uri);
  python = venvPython();
});

afterAll(async () => {
  setTrackingUri(undefined);
  await rm(root, { recursive: true, force: true });
});

async function py<T = any>(body: string, env: Record<string, string> = { MLFLOW_ALLOW_FILE_STORE: 'true' }, ...args: string[]): Promise<T> {
  const code = `import json, math, sys\nimport mlflow\nfrom mlflow import MlflowClient\n${body}`;
  const { stdout } = await execFileAsync(python, ['-c', code, ...args], { env: { ...process.env, MLFLOW_TRACKING_URI: uri, ...env }, cwd: root });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}

describe('the file store', () => {
  it('writes experiments, runs, params, metrics, tags and artifacts that MLflow 3.18 reads (with MLFLOW_ALLOW_FILE_STORE)', async () => {
    const id = await client.createExperiment('files', { tags: { kind: 'local' } });
    const run = await client.createRun(id, { runName: 'r', tags: { origin: 'node' } });
    const runId = run.info.runId;
    await client.logParam(runId, 'lr', 0.5);
    await client.logBatch(runId, { params: [{ key: 'nested/key', value: 'x' }], metrics: [0, 1, 2].map((step) => ({ key: 'loss', value: 1 / (step + 1), step, timestamp: 10 + step })) });
    await client.logMetric(runId, 'odd', NaN);
    await client.logMetric(runId, 'odd', Infinity, { step: 1 });
    await client.logText(runId, 'hi', 'notes/a.txt');
    await client.setTerminated(runId, 'KILLED');
    expect(await readFile(path.join(root, 'mlruns', id, runId, 'metrics', 'loss'), 'utf8')).toBe('10 1.0 0\n11 0.5 1\n12 0.3333333333333333 2\n');
    const seen = await py(
      `c = MlflowClient(); r = c.get_run(sys.argv[1]); e = c.get_experiment_by_name("files")
h = c.get_metric_history(sys.argv[1], "odd")
print(json.dumps({"params": r.data.params, "tags": {k: v for k, v in r.data.tags.items()}, "status": r.info.status, "name": r.info.run_name,
  "loss": [[m.step, m.value, m.timestamp] for m in c.get_metric_history(sys.argv[1], "loss")], "odd": [math.isnan(h[0].value), h[1].value == float("inf")],
  "exp": [e.experiment_id, e.tags], "art": open(mlflow.artifacts.download_artifacts(run_id=sys.argv[1], artifact_path="notes/a.txt")).read()}))`,
      undefined,
      runId,
    );
    expect(seen).toEqual({
      params: { lr: '0.5', 'nested/key': 'x' },
      tags: { origin: 'node', 'mlflow.runName': 'r' },
      status: 'KILLED',
      name: 'r',
      loss: [
        [0, 1, 10],
        [1, 0.5, 11],
        [2, 1 / 3, 12],
      ],
      odd: [true, true],
      exp: [id, { kind: 'local' }],
      art: 'hi',
    });
  });

  it('is refused by MLflow 3.18 without MLFLOW_ALLOW_FILE_STORE, as MLflow does', async () => {
    const out = await py(
      `try:
    MlflowClient().search_experiments(); print(json.dumps("opened"))
except Exception as e:
    print(json.dumps(str(e)[:80]))`,
      {},
    );
    expect(out).toBe('The filesystem tracking backend (e.g., \'./mlruns\') is in maintenance mode and wi');
  });

  it('reads runs MLflow wrote, and searches with the filter-string subset, order and pages', async () => {
    const ids = await py<string[]>(
      `mlflow.set_experiment("py-files")
ids = []
for i, model in enumerate(["a", "b", "c", "d"]):
    with mlflow.start_run(run_name=f"r{i}") as run:
        mlflow.log_param("model", model); mlflow.log_metric("tps", i * 10); mlflow.set_tag("family", "odd" if i % 2 else "even")
        ids.append(run.info.run_id)
print(json.dumps(ids))`,
    );
    const exp = (await client.getExperimentByName('py-files'))!.experimentId;
    await expectMlflowSearch(client, exp, ids);
    const history = await client.getMetricHistory(ids[2], 'tps');
    expect(history.map((m) => m.value)).toEqual([20]);
  });

  it('runs the fluent API (nested runs, FAILED on an exception) and refuses a changed param, as the FileStore does', async () => {
    setTrackingUri(uri);
    await setExperiment('fluent-files');
    const parent = await startRun({ runName: 'parent' });
    await logParam('depth', 3);
    await logParam('depth', 3);
    expect((await caught(logParam('depth', 5))).message).toBe(
      `Changing param values is not allowed. Param with key='depth' was already logged with value='3' for run ID='${parent.info.runId}'. Attempted logging new value '5'.`,
    );
    await expect(withRun({ nested: true, runName: 'child' }, async () => Promise.reject(new Error('child failed')))).rejects.toThrow('child failed');
    await logMetric('m', 1);
    await endRun();
    const seen = await py(
      `c = MlflowClient(); e = c.get_experiment_by_name("fluent-files")
runs = {r.info.run_name: r for r in c.search_runs([e.experiment_id])}
print(json.dumps([runs["parent"].info.status, runs["child"].info.status, runs["child"].data.tags["mlflow.parentRunId"], runs["parent"].data.params]))`,
    );
    expect(seen).toEqual(['FINISHED', 'FAILED', parent.info.runId, { depth: '3' }]);
    expect((await caught(client.getRun('0123456789abcdef0123456789abcdef'))).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await caught(client.getExperiment('424242'))).message).toBe('Could not find experiment with ID 424242');
    expect((await caught(client.createRegisteredModel('m'))).errorCode).toBe('NOT_IMPLEMENTED');
  });

  it('is where pyfunc.logModel writes, through the same store', async () => {
    const model = path.join(root, 'echo.mjs');
    await writeFile(model, "import { PythonModel, setModel } from 'ortgenai-node/mlflow';\nsetModel(new (class extends PythonModel { predict(_c, x) { return x; } })());\n");
    setTrackingUri(uri);
    const { pyfunc } = await import('../../../src/mlflow/index.js');
    const run = await startRun({ runName: 'with-model' });
    const info = await pyfunc.logModel('model', { pythonModel: model });
    await endRun();
    expect(info.runId).toBe(run.info.runId);
    const listed = (await client.listArtifacts(run.info.runId, 'model')).map((f) => f.path);
    expect(listed).toContain('model/MLmodel');
    expect(JSON.parse((await client.getRun(run.info.runId)).data.tags['mlflow.log-model.history'])[0].artifact_path).toBe('model');
  });
});
