import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelReport } from '../../src/cli/model-report.js';
import { fixtureModel, repoRoot } from '../helpers/fixtures.js';
import { runPython, startMlflowServer, type MlflowServer } from '../mlflow/tracking/mlflow-server.js';

// `ortgenai save --log` against a real `mlflow server` (SQLite backend, proxied artifacts), read back by
// Python MLflow and by `ortgenai inspect` through the server.

const CLI = path.join(repoRoot, 'dist', 'cli', 'index.js');
const run = promisify(execFile);

let server: MlflowServer;
beforeAll(async () => {
  server = await startMlflowServer();
}, 300_000);
afterAll(async () => {
  await server?.stop();
});

const ortgenai = (...args: string[]) => run(process.execPath, [CLI, ...args], { cwd: repoRoot, env: server.env, encoding: 'utf8' });

describe('ortgenai save --log against a tracking server', () => {
  it('logs the model into a new named run as MLflow 3 does, and inspect reads it back through the server', async () => {
    const { stdout, stderr } = await ortgenai('save', fixtureModel('tiny-deterministic'), '--log', 'chat-model', '--run-name', 'from-the-cli', '--task', 'llm/v1/completions');
    expect(stderr).toBe('');
    const [, runId, modelId] = /into run ([0-9a-f]{32}) as models:\/(m-[0-9a-f]+) \(task llm\/v1\/completions\)$/m.exec(stdout) ?? [];
    expect(runId, stdout).toBeDefined();

    const seen = JSON.parse(await runPython(server, `
import json, mlflow
run = mlflow.get_run(${JSON.stringify(runId)})
model = mlflow.get_logged_model(${JSON.stringify(modelId)})
print(json.dumps({"name": run.info.run_name, "status": run.info.status, "model": model.name, "state": str(model.status), "source_run": model.source_run_id}))
`)) as Record<string, string>;
    expect(seen).toEqual({ name: 'from-the-cli', status: 'FINISHED', model: 'chat-model', state: 'READY', source_run: runId });

    const report = JSON.parse((await ortgenai('inspect', `models:/${modelId}`, '--json')).stdout) as ModelReport;
    expect(report.kind).toBe('mlflow');
    expect(report.mlflow).toMatchObject({ task: 'llm/v1/completions', model_id: modelId, run_id: runId });
    expect(report.ortgenai).toMatchObject({ path: 'model', model_type: 'llama' });
  }, 120_000);
});
