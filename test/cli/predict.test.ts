import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ortgenai, pyfunc } from '../../src/mlflow/index.js';
import { createServer } from '../../src/server/index.js';
import { fixtureModel, repoRoot } from '../helpers/fixtures.js';

// `ortgenai predict` (mlflow models predict) in real processes, against the served answer of the same request.
const CLI = path.join(repoRoot, 'dist', 'cli', 'index.js');
let root: string;

function predict(args: string[], stdin = '') {
  const r = spawnSync(process.execPath, [CLI, 'predict', ...args], { cwd: repoRoot, input: stdin, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What `ortgenai serve` answers for the same body, with ids and timestamps dropped. */
async function served(dir: string, body: string, type = 'application/json'): Promise<unknown> {
  const model = await pyfunc.loadModel(dir);
  const server = createServer(model);
  try {
    await server.listen(0);
    const response = await fetch(`${server.url}/invocations`, { method: 'POST', headers: { 'Content-Type': type }, body });
    return stable(await response.json());
  } finally {
    await server.close();
    await model.dispose();
  }
}

const stable = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (k, v) => (k === 'id' || k === 'created' ? undefined : v)));

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ortgenai-predict-'));
  await ortgenai.saveModel(path.join(root, 'plain'), { model: fixtureModel('tiny-deterministic'), modelConfig: { max_tokens: 4 } });
  await ortgenai.saveModel(path.join(root, 'chat'), { model: fixtureModel('tiny-deterministic'), task: 'llm/v1/chat', modelConfig: { max_tokens: 4 } });
});

describe('ortgenai predict', () => {
  it('answers a request from stdin, a file or CSV exactly as the server answers it', async () => {
    const plain = path.join(root, 'plain');
    const records = JSON.stringify({ dataframe_records: [{ prompt: 'The the, and' }, { prompt: 'Hello' }] });
    const fromStdin = predict(['-m', plain, '-i', '-'], records);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toEqual(await served(plain, records));
    const csv = predict(['-m', plain, '-i', '-', '-t', 'csv'], 'prompt\nHello\n');
    expect(JSON.parse(csv.stdout)).toEqual(await served(plain, 'prompt\nHello\n', 'text/csv'));

    const chat = path.join(root, 'chat');
    const request = path.join(root, 'chat.json');
    const out = path.join(root, 'answer.json');
    const unified = JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3 });
    writeFileSync(request, unified);
    expect(predict(['-m', chat, '-i', request, '-o', out])).toMatchObject({ code: 0, stdout: '' });
    // A unified LLM request gets the bare list, as from the server.
    expect(stable(JSON.parse(readFileSync(out, 'utf8')))).toEqual(await served(chat, unified));
  });

  it('fails with the reason and exit code 1, never a stack', () => {
    const plain = path.join(root, 'plain');
    const bad = predict(['-m', plain, '-i', '-'], JSON.stringify({ dataframe_records: [{ nope: 1 }] }));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^ortgenai predict: Failed to predict data: .*Model is missing inputs \['prompt'\]/);
    expect(predict(['-m', plain, '-i', '-'], '{"inputs": ').stderr).toMatch(/^ortgenai predict: Invalid input\. Ensure that input is a valid JSON formatted string/);
    expect(predict(['-m', plain, '-i', '-', '-t', 'xml']).stderr).toMatch(/--content-type must be json or csv, got 'xml'/);
    // Invalid UTF-8 is refused as /invocations refuses it, not decoded into U+FFFD and answered.
    const latin1 = spawnSync(process.execPath, [CLI, 'predict', '-m', plain, '-i', '-'], {
      cwd: repoRoot, input: Buffer.from('{"inputs": {"prompt": "caf\xe9"}}', 'latin1'), encoding: 'utf8', timeout: 120_000,
    });
    expect(latin1.status).toBe(1);
    expect(latin1.stderr).toBe('ortgenai predict: Invalid input. The request body is not valid UTF-8.\n');
    expect(predict(['-m', plain]).stderr).toMatch(/-m\/--model and -i\/--input are required/);
  });
});
