// Node against a real MLflow 3.18 tracking server (SQLite backend, proxied local artifact store), and
// Python's own MlflowClient reading what Node wrote and writing what Node reads.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  activeRun,
  endRun,
  logArtifact,
  logArtifacts,
  logDict,
  logMetric,
  logMetrics,
  logParam,
  logParams,
  logText,
  MlflowClient,
  ortgenai,
  pyfunc,
  registerModel,
  setExperiment,
  setTag,
  setTrackingUri,
  startRun,
  withRun,
} from '../../../src/mlflow/index.js';
import { run as benchCommand } from '../../../src/cli/commands/bench.js';
import { fixtureModel, repoRoot } from '../../helpers/fixtures.js';
import { runPython, startMlflowServer, type MlflowServer } from './mlflow-server.js';
import { caught, expectMlflowSearch } from './shared-expectations.js';

let server: MlflowServer;
let client: MlflowClient;
let work: string;

beforeAll(async () => {
  server = await startMlflowServer({ backend: 'sqlite' });
  client = new MlflowClient(server.uri);
  setTrackingUri(server.uri);
  work = await mkdtemp(path.join(tmpdir(), 'tracking-test-'));
  // Python loaders of Node models run `node` children that find ortgenai-node as an installed package.
  const nodePath = path.join(work, 'node_path');
  await mkdir(nodePath);
  await symlink(repoRoot, path.join(nodePath, 'ortgenai-node'), 'dir');
  server.env.NODE_PATH = nodePath;
});

afterAll(async () => {
  while (activeRun()) await endRun();
  setTrackingUri(undefined);
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

afterEach(async () => {
  while (activeRun()) await endRun('KILLED');
});

/** Python's MlflowClient on the same server; the script prints one JSON document. */
async function python<T = any>(body: string, ...args: string[]): Promise<T> {
  const code = `import json, math, sys\nimport mlflow\nfrom mlflow import MlflowClient\nc = MlflowClient()\n${body}`;
  return JSON.parse((await runPython(server, code, args)).trim().split('\n').at(-1)!) as T;
}

describe('experiments', () => {
  it('creates, gets by id and by name, and sets the active experiment (created when missing)', async () => {
    const id = await client.createExperiment('exp-a', { tags: { team: 'genai' } });
    expect((await client.getExperiment(id)).name).toBe('exp-a');
    expect((await client.getExperimentByName('exp-a'))?.experimentId).toBe(id);
    expect(await client.getExperimentByName('no-such-experiment')).toBeUndefined();
    const active = await setExperiment('exp-b');
    const run = await startRun();
    expect(run.info.experimentId).toBe(active.experimentId);
    await endRun();
    const seen = await python(`e = c.get_experiment_by_name("exp-a"); b = c.get_experiment_by_name("exp-b")\nprint(json.dumps([e.experiment_id, e.tags, b.experiment_id]))`);
    expect(seen).toEqual([id, { team: 'genai' }, active.experimentId]);
  });

  it('reports unknown and duplicate experiments with the server error code', async () => {
    const unknown = await caught(client.getExperiment('987654'));
    expect(unknown.errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(unknown.message).toContain('No Experiment with id=987654 exists');
    await client.createExperiment('exp-dup');
    expect((await caught(client.createExperiment('exp-dup'))).errorCode).toBe('RESOURCE_ALREADY_EXISTS');
    expect((await caught(client.createExperiment('  '))).message).toBe("Invalid experiment name: '  '");
  });
});

describe('runs, params, metrics and tags, read back by Python', () => {
  it('logs into the active run and nested runs; Python reads params, metric history and tags', async () => {
    await setExperiment('runs');
    const parent = await startRun({ runName: 'parent', description: 'a bench' });
    await logParam('lr', 0.01);
    await logParams({ layers: 4, name: 'tiny' });
    await logMetric('loss', 1.5, { step: 0, timestamp: 1_700_000_000_000 });
    await logMetric('loss', 0.75, { step: 1, timestamp: 1_700_000_001_000 });
    await logMetrics({ acc: 0.5, f1: 0.25 }, { step: 3 });
    await setTag('stage', 'dev');
    const child = await startRun({ runName: 'child', nested: true });
    await logMetric('inner', 2);
    await endRun(); // the child
    expect(activeRun()?.info.runId).toBe(parent.info.runId);
    await endRun();
    const seen = await python(
      `r = c.get_run(sys.argv[1]); ch = c.get_run(sys.argv[2])
h = [[m.value, m.step, m.timestamp] for m in c.get_metric_history(sys.argv[1], "loss")]
print(json.dumps({"params": r.data.params, "metrics": r.data.metrics, "stage": r.data.tags["stage"], "note": r.data.tags["mlflow.note.content"],
  "status": r.info.status, "name": r.info.run_name, "history": h, "parent": ch.data.tags["mlflow.parentRunId"], "child_status": ch.info.status}))`,
      parent.info.runId,
      child.info.runId,
    );
    expect(seen).toEqual({
      params: { lr: '0.01', layers: '4', name: 'tiny' },
      metrics: { loss: 0.75, acc: 0.5, f1: 0.25 },
      stage: 'dev',
      note: 'a bench',
      status: 'FINISHED',
      name: 'parent',
      history: [
        [1.5, 0, 1_700_000_000_000],
        [0.75, 1, 1_700_000_001_000],
      ],
      parent: parent.info.runId,
      child_status: 'FINISHED',
    });
  });

  it('ends a withRun scope FAILED on an exception and an `await using` scope FINISHED', async () => {
    let failedId = '';
    await expect(
      withRun({ runName: 'boom' }, async (run) => {
        failedId = run.info.runId;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    let usedId = '';
    {
      await using run = await startRun({ runName: 'scoped' });
      usedId = run.info.runId;
      await logMetric('x', 1);
    }
    expect(activeRun()).toBeUndefined();
    expect((await client.getRun(failedId)).info.status).toBe('FAILED');
    expect((await client.getRun(usedId)).info.status).toBe('FINISHED');
  });

  it('logs batches (split beyond MLflow\'s limits), NaN and infinite metrics as MLflow stores them', async () => {
    const exp = await client.createExperiment('batch');
    const run = await client.createRun(exp);
    const metrics = Array.from({ length: 1500 }, (_, i) => ({ key: 'seq', value: i, step: i, timestamp: 1000 + i }));
    await client.logBatch(run.info.runId, { metrics, params: [{ key: 'p', value: 'v' }], tags: [{ key: 't', value: 'u' }] });
    await client.logMetric(run.info.runId, 'odd', NaN, { step: 0 });
    await client.logMetric(run.info.runId, 'odd', Infinity, { step: 1 });
    await client.logMetric(run.info.runId, 'odd', -Infinity, { step: 2 });
    const history = await client.getMetricHistory(run.info.runId, 'seq');
    expect(history.map((m) => m.step)).toEqual(metrics.map((m) => m.step));
    const odd = (await client.getMetricHistory(run.info.runId, 'odd')).map((m) => m.value);
    // The SQL store keeps NaN and stores the infinities as the largest doubles.
    expect(odd).toEqual([NaN, Number.MAX_VALUE, -Number.MAX_VALUE]);
    const seen = await python(
      `h = c.get_metric_history(sys.argv[1], "odd"); print(json.dumps([len(c.get_metric_history(sys.argv[1], "seq")), math.isnan(h[0].value), h[1].value, h[2].value]))`,
      run.info.runId,
    );
    expect(seen).toEqual([1500, true, Number.MAX_VALUE, -Number.MAX_VALUE]);
  });

  it('8 Node writers logging metrics into one run lose nothing', async () => {
    const exp = await client.createExperiment('concurrency');
    const run = await client.createRun(exp);
    const writers = Array.from({ length: 8 }, (_, w) => new MlflowClient(server.uri));
    await Promise.all(
      writers.map(async (writer, w) => {
        for (let i = 0; i < 10; i++) await writer.logMetric(run.info.runId, 'shared', w * 100 + i, { step: w * 100 + i });
        await writer.logMetric(run.info.runId, `own-${w}`, w);
      }),
    );
    const history = await client.getMetricHistory(run.info.runId, 'shared');
    expect(history.map((m) => m.step).sort((a, b) => a - b)).toEqual(Array.from({ length: 8 }, (_, w) => Array.from({ length: 10 }, (_, i) => w * 100 + i)).flat());
    expect(Object.keys((await client.getRun(run.info.runId)).data.metrics).filter((k) => k.startsWith('own-'))).toHaveLength(8);
  });

  it('searches runs with MLflow filter strings, order and pages', async () => {
    const exp = await client.createExperiment('search');
    const ids: string[] = [];
    for (const [i, model] of ['a', 'b', 'c', 'd'].entries()) {
      const run = await client.createRun(exp, { runName: `r${i}`, tags: { family: i % 2 ? 'odd' : 'even' } });
      ids.push(run.info.runId);
      await client.logBatch(run.info.runId, { metrics: [{ key: 'tps', value: i * 10 }], params: [{ key: 'model', value: model }] });
      if (i < 3) await client.setTerminated(run.info.runId);
    }
    await expectMlflowSearch(client, exp, ids);
  });
});

describe('artifacts through the server (mlflow-artifacts:)', () => {
  it('uploads files, folders, text and dicts that Python downloads, and a large file streamed', async () => {
    const src = path.join(work, 'artifacts-src');
    await mkdir(path.join(src, 'folder', 'deep'), { recursive: true });
    await writeFile(path.join(src, 'folder', 'a.txt'), 'A');
    await writeFile(path.join(src, 'folder', 'deep', 'b.bin'), Buffer.from([0, 1, 2, 255]));
    const big = path.join(src, 'big.bin');
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7919) & 0xff;
    await writeFile(big, Buffer.concat(Array.from({ length: 48 }, () => chunk))); // 48 MiB
    const bigSha = createHash('sha256').update(await readFile(big)).digest('hex');
    await setExperiment('artifacts');
    const run = await startRun();
    await logArtifact(big);
    await logArtifacts(path.join(src, 'folder'), 'tree');
    await logText('hello\n', 'notes/readme.md');
    await logDict({ b: 1, a: [1, 2], s: 'é' }, 'config.json');
    await logDict({ b: 1, a: [1, 2] }, 'config.yaml');
    await endRun();
    const seen = await python(
      `import hashlib, os
d = mlflow.artifacts.download_artifacts(run_id=sys.argv[1], dst_path=sys.argv[2])
files = sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)
rd = lambda p: open(os.path.join(d, p), encoding="utf-8").read()
print(json.dumps({"files": files, "sha": hashlib.sha256(open(os.path.join(d, "big.bin"), "rb").read()).hexdigest(),
  "text": rd("notes/readme.md"), "json": json.loads(rd("config.json")), "json_text": rd("config.json"), "yaml": rd("config.yaml"),
  "listed": [(f.path, f.is_dir) for f in c.list_artifacts(sys.argv[1], "tree")]}))`,
      run.info.runId,
      path.join(work, 'py-download'),
    );
    expect(seen.files).toEqual(['big.bin', 'config.json', 'config.yaml', 'notes/readme.md', 'tree/a.txt', 'tree/deep/b.bin']);
    expect(seen.sha).toBe(bigSha);
    expect(seen.text).toBe('hello\n');
    expect(seen.json).toEqual({ b: 1, a: [1, 2], s: 'é' });
    expect(seen.json_text).toBe('{\n  "b": 1,\n  "a": [\n    1,\n    2\n  ],\n  "s": "\\u00e9"\n}');
    expect(seen.yaml).toBe('a:\n- 1\n- 2\nb: 1\n'); // yaml.dump sorts keys
    expect(seen.listed).toEqual([
      ['tree/a.txt', false],
      ['tree/deep', true],
    ]);
    const local = await client.downloadArtifacts(run.info.runId, 'tree', path.join(work, 'node-download'));
    expect(await readFile(path.join(local, 'deep', 'b.bin'))).toEqual(Buffer.from([0, 1, 2, 255]));
  });
});

describe('Node reads what Python wrote', () => {
  it('reads a Python run: params, metric history, tags and artifacts', async () => {
    const runId = await python<string>(
      `mlflow.set_experiment("from-python")
with mlflow.start_run(run_name="py") as run:
    mlflow.log_params({"alpha": 0.5, "mode": "fast"})
    for i in range(3): mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
    mlflow.set_tag("origin", "python")
    mlflow.log_text("from python", "out/msg.txt")
print(json.dumps(run.info.run_id))`,
    );
    const run = await client.getRun(runId);
    expect(run.data.params).toEqual({ alpha: '0.5', mode: 'fast' });
    expect(run.data.tags.origin).toBe('python');
    expect(run.info.status).toBe('FINISHED');
    expect((await client.getMetricHistory(runId, 'loss')).map((m) => [m.step, m.value])).toEqual([
      [0, 1],
      [1, 0.5],
      [2, 1 / 3],
    ]);
    const dir = await client.downloadArtifacts(runId, 'out', path.join(work, 'from-python'));
    expect(await readFile(path.join(dir, 'msg.txt'), 'utf8')).toBe('from python');
    const found = await client.searchRuns((await client.getExperimentByName('from-python'))!.experimentId, { filterString: "params.mode = 'fast'" });
    expect(found.map((r) => r.info.runId)).toEqual([runId]);
  });
});

describe('logged models and the registry', () => {
  it('logs a model into the active run as an MLflow 3 logged model, registers it, and loads models:/name@alias in Node and Python', async () => {
    await setExperiment('models');
    const run = await startRun({ runName: 'log-model' });
    await logParam('max_tokens', 4);
    const info = await ortgenai.logModel('llm', { model: fixtureModel('tiny-deterministic'), task: 'llm/v1/completions', modelConfig: { max_tokens: 4 } });
    await endRun();
    expect(info.modelUri).toMatch(/^models:\/m-[0-9a-f]{32}$/);
    const logged = await client.getLoggedModel(info.modelId!);
    expect(logged).toMatchObject({ name: 'llm', sourceRunId: run.info.runId, status: 'LOGGED_MODEL_READY', params: { max_tokens: '4' } });
    expect((await client.getRun(run.info.runId)).outputs.modelOutputs).toEqual([{ modelId: info.modelId, step: 0 }]);

    const v1 = await registerModel(`runs:/${run.info.runId}/llm`, 'tiny-llm');
    expect(v1).toMatchObject({ version: '1', source: `models:/${info.modelId}`, runId: run.info.runId });
    const v2 = await registerModel(info.modelUri, 'tiny-llm', { tags: { candidate: 'yes' } });
    expect(v2.version).toBe('2');
    await client.setRegisteredModelAlias('tiny-llm', 'champion', 1);
    await client.setModelVersionTag('tiny-llm', 1, 'validated', 'true');
    await client.setRegisteredModelTag('tiny-llm', 'owner', 'genai');
    await client.transitionModelVersionStage('tiny-llm', 2, 'Staging');
    expect((await client.getModelVersionByAlias('tiny-llm', 'champion')).version).toBe('1');
    expect((await client.getLatestVersions('tiny-llm', ['Staging'])).map((v) => v.version)).toEqual(['2']);
    expect((await client.getRegisteredModel('tiny-llm')).aliases).toEqual({ champion: '1' });
    expect((await caught(client.setRegisteredModelAlias('tiny-llm', 'v3', 1))).message).toBe("Version alias name 'v3' is reserved.");

    // Every form of models:/ and runs:/ URI resolves through the server to the same logged model's files.
    for (const uri of ['models:/tiny-llm/1', 'models:/tiny-llm/Staging', 'models:/tiny-llm/latest', info.modelUri, `runs:/${run.info.runId}/llm`]) {
      const local = await client.downloadUri(uri, path.join(work, 'uris', uri.replace(/[^a-z0-9]+/gi, '_')));
      expect(await readFile(path.join(local, 'MLmodel'), 'utf8'), uri).toContain(`model_id: ${info.modelId}`);
    }
    const prompt = { prompt: 'The the, and', max_tokens: 4 };
    const model = await pyfunc.loadModel('models:/tiny-llm@champion');
    let nodeOut: unknown;
    try {
      nodeOut = await model.predict(prompt);
    } finally {
      await model.dispose();
    }
    const seen = await python(
      `mv = c.get_model_version_by_alias("tiny-llm", "champion"); rm = c.get_registered_model("tiny-llm")
staging = [v.version for v in c.get_latest_versions("tiny-llm", stages=["Staging"])]
m = mlflow.pyfunc.load_model("models:/tiny-llm@champion")
out = m.predict(json.loads(sys.argv[1]))
print(json.dumps({"version": mv.version, "tags": mv.tags, "source": mv.source, "aliases": rm.aliases, "rm_tags": rm.tags, "staging": staging,
  "v2_tags": c.get_model_version("tiny-llm", "2").tags, "out": out}, default=str))`,
      JSON.stringify(prompt),
    );
    expect(seen).toMatchObject({ version: '1', tags: { validated: 'true' }, source: `models:/${info.modelId}`, aliases: { champion: '1' }, rm_tags: { owner: 'genai' }, staging: ['2'], v2_tags: { candidate: 'yes' } });
    // The same completion from the same registered version, whoever loads it (ids and times aside).
    const stable = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(stable) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'id' && k !== 'created').map(([k, x]) => [k, stable(x)])) : v;
    expect(stable(seen.out)).toEqual(stable(nodeOut));
  });
});

describe('bad input as MLflow treats it', () => {
  it("applies MLflow's key and value limits and name rules before sending", async () => {
    const run = await client.createRun('0');
    const id = run.info.runId;
    expect((await caught(client.logParam(id, 'a'.repeat(251), 'v'))).message).toBe("'Param key' exceeds the maximum length of 250 characters");
    expect((await caught(client.logParam(id, 'p', 'v'.repeat(6001)))).message).toBe("'Param value' exceeds the maximum length of 6000 characters");
    expect((await caught(client.setTag(id, 't', 'v'.repeat(8001)))).message).toBe("'value' exceeds the maximum length of 8000 characters");
    expect((await caught(client.logMetric(id, 'bad?name', 1))).message).toBe(
      "Invalid value \"bad?name\" for parameter 'name' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).",
    );
    expect((await caught(client.logMetric(id, 'a/../b', 1))).message).toContain('This name would resolve to');
    expect((await caught(client.logBatch(id, { params: [{ key: 'k', value: 1 }, { key: 'k', value: 2 }] }))).message).toBe(
      "Duplicate parameter keys have been submitted: ['k']. Please ensure the request contains only one param value per param key.",
    );
    expect((await caught(client.logMetric(id, 'm', 1, { step: 1.5 }))).errorCode).toBe('INVALID_PARAMETER_VALUE');
  });

  it('refuses a param logged again with another value (the same value is fine), and unknown runs', async () => {
    const run = await client.createRun('0');
    await client.logParam(run.info.runId, 'depth', 3);
    await client.logParam(run.info.runId, 'depth', 3);
    const changed = await caught(client.logParam(run.info.runId, 'depth', 5));
    expect(changed.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(changed.message).toContain("Changing param values is not allowed. Param with key='depth' was already logged with value='3'");
    const missing = await caught(client.getRun('0123456789abcdef0123456789abcdef'));
    expect(missing.errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(missing.httpStatus).toBe(404);
    expect((await caught(client.logMetric('0123456789abcdef0123456789abcdef', 'm', 1))).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await caught(client.getModelVersionByAlias('no-such-model', 'x'))).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});

describe('retries, auth and a server that is down', () => {
  interface Seen {
    method?: string;
    url?: string;
    headers: IncomingHttpHeaders;
  }
  /**
   * A proxy in front of the real server that answers the first `failures` requests with `status` (0: never
   * answers), records what it saw, and forwards the rest; over TLS with `tls` (a key and certificate).
   */
  async function faultyProxy(
    failures: number,
    status: number,
    retryAfter?: string,
    tls?: { key: Buffer; cert: Buffer },
  ): Promise<{ uri: string; seen: Seen[]; close(): Promise<void> }> {
    const seen: Seen[] = [];
    const target = new URL(server.uri);
    let left = failures;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      seen.push({ method: req.method, url: req.url, headers: req.headers });
      if (left-- > 0) {
        if (status === 0) return; // hang
        res.writeHead(status, { 'Content-Type': 'text/plain', ...(retryAfter ? { 'Retry-After': retryAfter } : {}) });
        res.end(`injected ${status}`);
        return;
      }
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    };
    const proxy: Server = tls ? createHttpsServer(tls, handler) : createServer(handler);
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const { port } = proxy.address() as { port: number };
    return {
      uri: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
      seen,
      close: () =>
        new Promise((r) => {
          proxy.close(() => r());
          proxy.closeAllConnections();
        }),
    };
  }

  function withEnv<T>(vars: Record<string, string>, make: () => T): T {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
      return make();
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const fast = { MLFLOW_HTTP_REQUEST_MAX_RETRIES: '3', MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0', MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0' };

  it('retries reads on 429 and 5xx and sends the token as a Bearer header', async () => {
    const proxy = await faultyProxy(2, 503);
    try {
      const c = withEnv({ ...fast, MLFLOW_TRACKING_TOKEN: 'secret-token' }, () => new MlflowClient(proxy.uri));
      expect((await c.getExperiment('0')).name).toBe('Default');
      expect(proxy.seen).toHaveLength(3);
      expect(proxy.seen.every((s) => s.headers.authorization === 'Bearer secret-token')).toBe(true);
    } finally {
      await proxy.close();
    }
    const limited = await faultyProxy(1, 429, '0');
    try {
      const c = withEnv({ ...fast, MLFLOW_TRACKING_USERNAME: 'ann', MLFLOW_TRACKING_PASSWORD: 'pw' }, () => new MlflowClient(limited.uri));
      const id = await c.createExperiment('after-429'); // a create is retried on 429: the server did not process it
      expect((await client.getExperiment(id)).name).toBe('after-429');
      expect(limited.seen.map((s) => s.headers.authorization)).toEqual([`Basic ${Buffer.from('ann:pw').toString('base64')}`, `Basic ${Buffer.from('ann:pw').toString('base64')}`]);
    } finally {
      await limited.close();
    }
  });

  it('does not resend a create after a 5xx (the server may have processed it) and reports the status', async () => {
    const proxy = await faultyProxy(1, 500);
    try {
      const c = withEnv(fast, () => new MlflowClient(proxy.uri));
      const err = await caught(c.createExperiment('never-resent'));
      expect(err.errorCode).toBe('INTERNAL_ERROR');
      expect(err.message).toContain('failed with error code 500 != 200');
      expect(proxy.seen).toHaveLength(1);
      expect(await client.getExperimentByName('never-resent')).toBeUndefined();
    } finally {
      await proxy.close();
    }
  });

  it('gives a clear error after the retries when the server is down, never a hang', async () => {
    const proxy = await faultyProxy(0, 200);
    const down = proxy.uri;
    await proxy.close(); // nothing listens there now
    const c = withEnv(fast, () => new MlflowClient(down));
    const err = await caught(c.getRun('0123456789abcdef0123456789abcdef'));
    expect(err.message).toMatch(new RegExp(`^API request to ${down}/api/2.0/mlflow/runs/get\\?run_id=0123456789abcdef0123456789abcdef failed with exception .*\\(after 3 retries\\)$`));
    expect(String((err.cause as Error & { cause?: { code?: string } })?.cause?.code)).toBe('ECONNREFUSED');
  });

  it('gives up on a server that never answers after MLFLOW_HTTP_REQUEST_TIMEOUT, with MLflow\'s advice', async () => {
    const proxy = await faultyProxy(100, 0);
    try {
      const c = withEnv({ ...fast, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '1', MLFLOW_HTTP_REQUEST_TIMEOUT: '1' }, () => new MlflowClient(proxy.uri));
      const err = await caught(c.getExperiment('0'));
      expect(err.message).toMatch(/^API request to http:\/\/127\.0\.0\.1:\d+\/api\/2\.0\/mlflow\/experiments\/get\?experiment_id=0 failed with timeout exception /);
      expect(err.message).toContain('To increase the timeout, set the environment variable MLFLOW_HTTP_REQUEST_TIMEOUT to a larger value.');
      expect(proxy.seen).toHaveLength(2); // the first attempt and one retry
    } finally {
      await proxy.close();
    }
  });

  it('verifies TLS certificates unless MLFLOW_TRACKING_INSECURE_TLS is set', async () => {
    const key = path.join(work, 'tls.key');
    const cert = path.join(work, 'tls.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const proxy = await faultyProxy(0, 200, undefined, { key: await readFile(key), cert: await readFile(cert) });
    try {
      const strict = withEnv({ ...fast, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' }, () => new MlflowClient(proxy.uri));
      const refused = await caught(strict.getExperiment('0'));
      expect(refused.message).toMatch(/self.signed certificate/);
      const insecure = withEnv({ ...fast, MLFLOW_TRACKING_INSECURE_TLS: 'true' }, () => new MlflowClient(proxy.uri));
      expect((await insecure.getExperiment('0')).name).toBe('Default');
    } finally {
      await proxy.close();
    }
  });

  it('tries a multipart upload when MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD asks, and streams the file in one request when the artifact store has none', async () => {
    const proxy = await faultyProxy(0, 200);
    try {
      const env = { ...fast, MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD: 'true', MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE: '1', MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE: '1024' };
      const c = withEnv(env, () => new MlflowClient(proxy.uri));
      const run = await c.createRun('0');
      const file = path.join(work, 'parts.bin');
      await writeFile(file, Buffer.alloc(5000, 7));
      const saved = { ...process.env };
      Object.assign(process.env, env); // read when the upload starts
      try {
        await c.logArtifact(run.info.runId, file, 'big');
      } finally {
        for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
      }
      const calls = proxy.seen.filter((s) => s.url?.includes('mlflow-artifacts')).map((s) => `${s.method} ${s.url!.replace(run.info.runId, '<run>')}`);
      expect(calls).toEqual(['POST /api/2.0/mlflow-artifacts/mpu/create/0/<run>/artifacts/big', 'PUT /api/2.0/mlflow-artifacts/artifacts/0/<run>/artifacts/big/parts.bin']);
      const back = await c.downloadArtifacts(run.info.runId, 'big/parts.bin', path.join(work, 'parts-dl'));
      expect(await readFile(back)).toEqual(Buffer.alloc(5000, 7));
    } finally {
      await proxy.close();
    }
  });
});

describe('ortgenai bench --mlflow', () => {
  it('logs the bench parameters and figures as a run, with the JSON report as an artifact', async () => {
    const saved = process.env.MLFLOW_TRACKING_URI;
    process.env.MLFLOW_TRACKING_URI = server.uri;
    try {
      await benchCommand([
        '-m', fixtureModel('tiny-random'), '--prompt-tokens', '8', '--gen-tokens', '4', '--repeat', '1', '--warmup', '0',
        '--threads', '1', '--runners', 'generate,stepwise', '--cache-dir', work, '--mlflow', '--experiment', 'bench-history',
      ]);
    } finally {
      if (saved === undefined) delete process.env.MLFLOW_TRACKING_URI;
      else process.env.MLFLOW_TRACKING_URI = saved;
    }
    const seen = await python(
      `import os
e = c.get_experiment_by_name("bench-history"); runs = c.search_runs([e.experiment_id])
r = runs[0]; d = c.download_artifacts(r.info.run_id, "bench-report.json", sys.argv[1])
print(json.dumps({"n": len(runs), "status": r.info.status, "params": r.data.params, "metrics": r.data.metrics, "report": json.load(open(d))}))`,
      path.join(work, 'bench-dl'),
    );
    expect(seen.n).toBe(1);
    expect(seen.status).toBe('FINISHED');
    expect(seen.params).toMatchObject({ prompt_tokens: '8', gen_tokens: '4', threads: '1', runners: 'generate,stepwise' });
    for (const runner of ['generate', 'stepwise']) {
      for (const figure of ['ttft_ms', 'decode_tps', 'prefill_tps', 'peak_rss_mb', 'model_rss_mb']) {
        expect(seen.metrics[`${runner}.t1.sequential.${figure}`], `${runner} ${figure}`).toBeGreaterThan(0);
      }
    }
    expect(seen.report.schema).toBe('ortgenai-bench/1');
    expect(seen.report.results.map((r: { runner: string }) => r.runner).sort()).toEqual(['generate', 'stepwise']);
    expect(seen.metrics['generate.t1.sequential.decode_tps']).toBe(seen.report.results.find((r: { runner: string }) => r.runner === 'generate').medians.decode_tps);
  });
});
