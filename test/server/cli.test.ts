import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColSpec, DataType, ModelSignature, ortgenai, pyfunc, Schema } from '../../src/mlflow/index.js';
import { fixtureModel, repoRoot } from '../helpers/fixtures.js';

// `ortgenai serve` as users run it: the built CLI (dist/, built by `npm test`'s pretest) in its own process.

const CLI = path.join(repoRoot, 'dist', 'cli', 'index.js');
const UPPER_MODEL_FILE = fileURLToPath(new URL('./models/upper-model.mjs', import.meta.url));
const run = promisify(execFile);

let root: string;
let modelDir: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ortgenai-serve-cli-'));
  modelDir = path.join(root, 'upper');
  const signature = new ModelSignature({ inputs: new Schema([new ColSpec(DataType.string, 'prompt')]), outputs: new Schema([new ColSpec(DataType.string)]) });
  await pyfunc.saveModel(modelDir, { pythonModel: UPPER_MODEL_FILE, signature });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** `ortgenai serve` in its own process; resolves once it prints the URL it serves at. */
async function startServe(model: string, ...args: string[]) {
  const child = spawn(process.execPath, [CLI, 'serve', '-m', model, '--port', '0', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d));
  const exited = once(child, 'exit');
  try {
    await expect.poll(() => /at (http:\/\/\S+)/.exec(out.stdout)?.[1] ?? (child.exitCode !== null ? `exited: ${out.stderr}` : undefined), { timeout: 60_000 }).toMatch(/^http:/);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { child, out, exited, url: /at (http:\/\/\S+)/.exec(out.stdout)![1] };
}

describe('ortgenai serve', () => {
  it('serves a model, answers /ping and /invocations, and shuts down cleanly on SIGTERM', async () => {
    const { child, out, exited, url } = await startServe(modelDir);
    try {
      const ping = await fetch(`${url}/ping`);
      expect(ping.status).toBe(200);
      expect(await ping.text()).toBe('\n');
      const predicted = await fetch(`${url}/invocations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ dataframe_records: [{ prompt: 'over http' }] }),
      });
      expect(await predicted.json()).toEqual({ predictions: ['OVER HTTP'] });
    } finally {
      child.kill('SIGTERM');
    }
    const [code, signal] = await exited;
    expect({ code, signal, stderr: out.stderr }).toMatchObject({ code: 0, signal: null });
    expect(out.stderr).toContain('POST /invocations 200');
    expect(out.stderr).toContain('SIGTERM, shutting down');
    expect(out.stdout).toContain('ortgenai serve: stopped');
  });

  it('a second SIGTERM stops running generations before it exits, so ONNX Runtime does not crash', async () => {
    const chatDir = path.join(root, 'chat');
    await ortgenai.saveModel(chatDir, { model: fixtureModel('tiny-random'), task: 'llm/v1/chat' });
    const { child, out, exited, url } = await startServe(chatDir);
    const request = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 500, temperature: 1, stream: true };
    const streams = await Promise.all(
      [1, 2, 3].map(() => fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request) })),
    );
    const readers = streams.map((res) => res.body!.getReader());
    await Promise.all(readers.map((r) => r.read())); // every generation is running
    child.kill('SIGTERM');
    await expect.poll(() => out.stderr).toContain('SIGTERM, shutting down');
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    expect(out.stderr).toContain('SIGTERM again, stopping generations');
    expect(out.stderr).not.toMatch(/onnxruntime|\[E:|Segmentation|terminate called/i);
    await Promise.all(readers.map((r) => r.cancel().catch(() => undefined)));
  });

  it('refuses bad flags with the usage text and exit code 2', async () => {
    const err = (await run(process.execPath, [CLI, 'serve', '-m', modelDir, '--port', 'eighty'], { cwd: repoRoot }).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain("--port must be an integer, got 'eighty'");
    const missing = (await run(process.execPath, [CLI, 'serve'], { cwd: repoRoot }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('-m/--model is required');
    expect(missing.stderr).toContain('usage: ortgenai serve -m <model uri>');
  });

  it('reports a port in use in one line, without a stack, and exits 1', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as { port: number };
    try {
      const err = (await run(process.execPath, [CLI, 'serve', '-m', modelDir, '--port', String(port)], { cwd: repoRoot }).catch((e: unknown) => e)) as {
        code: number;
        stdout: string;
        stderr: string;
      };
      expect({ code: err.code, stdout: err.stdout, stderr: err.stderr }).toEqual({
        code: 1,
        stdout: '',
        stderr: `ortgenai serve: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`,
      });
    } finally {
      blocker.close();
    }
  });
});

describe('ortgenai serve -m <ORT-GenAI model folder>', () => {
  const post = (url: string, route: string, body: unknown) =>
    fetch(`${url}${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const messages = [{ role: 'user', content: 'hi' }];

  it('serves the plain folder as the llm/v1/chat model save would make of it, writing nothing', async () => {
    const folder = fixtureModel('tiny-deterministic');
    const { child, out, exited, url } = await startServe(folder);
    let saved: Awaited<ReturnType<typeof pyfunc.loadModel>> | undefined;
    try {
      expect(out.stdout).toContain(`serving ${folder} as 'tiny-deterministic'`);
      expect(out.stdout).toContain('/v1/* for llm/v1/chat');
      const chat = await post(url, '/v1/chat/completions', { messages, max_tokens: 3 });
      expect(chat.status).toBe(200);
      const answer = (await chat.json()) as { model: string; choices: { message: { content: string } }[] };
      expect(answer.model).toBe('tiny-deterministic');
      // The same answer the saved MLflow model gives: packaging on the fly changes nothing.
      const savedDir = path.join(root, 'saved-chat');
      await ortgenai.saveModel(savedDir, { model: folder, task: 'llm/v1/chat' });
      saved = await pyfunc.loadModel(savedDir);
      const expected = (await saved.predict({ messages, max_tokens: 3 })) as { choices: { message: { content: string } }[] }[];
      expect(answer.choices[0].message.content).toBe(expected[0].choices[0].message.content);
      const invocations = await post(url, '/invocations', { messages, max_tokens: 3 });
      expect(invocations.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await saved?.dispose();
    }
    expect((await exited)[0]).toBe(0);
    expect(readdirSync(folder)).not.toContain('MLmodel');
  });

  it('--task llm/v1/completions and none choose the routes and the signature', async () => {
    const folder = fixtureModel('tiny-deterministic');
    const completions = await startServe(folder, '--task', 'llm/v1/completions');
    try {
      const res = await post(completions.url, '/v1/completions', { prompt: 'hi', max_tokens: 2 });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { object: string }).object).toBe('text_completion');
      // The chat route is for chat models only, as on a saved completions model.
      expect((await post(completions.url, '/v1/chat/completions', { messages, max_tokens: 2 })).status).toBe(404);
    } finally {
      completions.child.kill('SIGTERM');
    }
    const plain = await startServe(folder, '--task', 'none');
    try {
      expect(plain.out.stdout).not.toContain('/v1/*');
      const res = await post(plain.url, '/invocations', { dataframe_records: [{ prompt: 'hi' }], params: { max_tokens: 2 } });
      expect(res.status).toBe(200);
      const { predictions } = (await res.json()) as { predictions: unknown[] };
      expect(predictions).toHaveLength(1);
      expect(typeof predictions[0]).toBe('string');
    } finally {
      plain.child.kill('SIGTERM');
    }
    await Promise.all([completions.exited, plain.exited]);
  });

  it('refuses an unknown --task, and a folder that is neither kind of model', async () => {
    const bad = (await run(process.execPath, [CLI, 'serve', '-m', fixtureModel('tiny-random'), '--task', 'chat'], { cwd: repoRoot }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--task must be one of llm/v1/chat, llm/v1/completions, none, got 'chat'");
    const empty = await mkdtemp(path.join(tmpdir(), 'ortgenai-serve-empty-'));
    const none = (await run(process.execPath, [CLI, 'serve', '-m', empty], { cwd: repoRoot }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/Could not find an "MLmodel"/);
    await rm(empty, { recursive: true });
  });
});
