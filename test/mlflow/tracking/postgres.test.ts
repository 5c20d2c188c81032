// The multi-user case: a real MLflow 3.18 tracking server with a PostgreSQL backend (scripts/postgres.sh,
// Debian's postgresql) that several Node writers and Python share.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowClient } from '../../../src/mlflow/index.js';
import { runPython, startMlflowServer, type MlflowServer } from './mlflow-server.js';

let server: MlflowServer;

beforeAll(async () => {
  server = await startMlflowServer({ backend: 'postgresql' });
});

afterAll(async () => {
  await server?.stop();
});

describe('a tracking server on PostgreSQL', () => {
  it('runs on the PostgreSQL backend', () => {
    expect(server.backendUri).toMatch(/^postgresql\+psycopg2:\/\/postgres@127\.0\.0\.1:\d+\/mlflow_test_[0-9a-f]+$/);
  });

  it('8 Node writers (one client each, as 8 users) log params, tags and metrics into one run and lose nothing; Python reads them all', async () => {
    const admin = new MlflowClient(server.uri);
    const experimentId = await admin.createExperiment('shared');
    const run = await admin.createRun(experimentId, { runName: 'shared-run' });
    const runId = run.info.runId;
    const writers = Array.from({ length: 8 }, () => new MlflowClient(server.uri));
    await Promise.all(
      writers.map(async (writer, w) => {
        await writer.logParam(runId, `writer-${w}`, w);
        await writer.setTag(runId, `tag-${w}`, `user-${w}`);
        for (let i = 0; i < 10; i++) await writer.logMetric(runId, 'throughput', w * 10 + i, { step: w * 10 + i, timestamp: 1_000 + i });
        await writer.logBatch(runId, { metrics: Array.from({ length: 50 }, (_, i) => ({ key: `batch-${w}`, value: i, step: i })) });
      }),
    );
    const history = await admin.getMetricHistory(runId, 'throughput');
    expect(history.map((m) => m.step).sort((a, b) => a - b)).toEqual(Array.from({ length: 80 }, (_, i) => i));
    const out = await runPython(
      server,
      `import json, sys
from mlflow import MlflowClient
c = MlflowClient(); r = c.get_run(sys.argv[1])
print(json.dumps({"params": r.data.params, "tags": {k: v for k, v in r.data.tags.items() if k.startswith("tag-")},
  "throughput": sorted(m.step for m in c.get_metric_history(sys.argv[1], "throughput")),
  "batches": [len(c.get_metric_history(sys.argv[1], f"batch-{w}")) for w in range(8)]}))`,
      [runId],
    );
    const seen = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(seen.params).toEqual(Object.fromEntries(Array.from({ length: 8 }, (_, w) => [`writer-${w}`, String(w)])));
    expect(seen.tags).toEqual(Object.fromEntries(Array.from({ length: 8 }, (_, w) => [`tag-${w}`, `user-${w}`])));
    expect(seen.throughput).toEqual(Array.from({ length: 80 }, (_, i) => i));
    expect(seen.batches).toEqual(Array(8).fill(50));
  });

  it('keeps registry versions and aliases that Python and Node both see, and reports conflicts with the server error code', async () => {
    const node = new MlflowClient(server.uri);
    await node.createRegisteredModel('pg-model', { tags: { team: 'a' } });
    const run = await node.createRun('0');
    await node.logText(run.info.runId, 'weights', 'model/MLmodel');
    const source = `${run.info.artifactUri}/model`;
    const v1 = await node.createModelVersion('pg-model', source, { runId: run.info.runId });
    await runPython(
      server,
      `import sys
from mlflow import MlflowClient
c = MlflowClient(); v = c.create_model_version("pg-model", sys.argv[1], run_id=sys.argv[2]); c.set_registered_model_alias("pg-model", "prod", v.version)`,
      [source, run.info.runId],
    );
    expect((await node.getModelVersionByAlias('pg-model', 'prod')).version).toBe('2');
    expect(v1.version).toBe('1');
    await expect(node.createRegisteredModel('pg-model')).rejects.toMatchObject({ errorCode: 'RESOURCE_ALREADY_EXISTS' });
    await expect(node.getModelVersion('pg-model', 9)).rejects.toMatchObject({ errorCode: 'RESOURCE_DOES_NOT_EXIST' });
  });
});
