import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
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
async function startServe(model: string) {
  const child = spawn(process.execPath, [CLI, 'serve', '-m', model, '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
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

  it('refuses bad flags with the usage text', async () => {
    const err = (await run(process.execPath, [CLI, 'serve', '-m', modelDir, '--port', 'eighty'], { cwd: repoRoot }).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(err.code).toBe(1);
    expect(err.stderr).toContain("--port must be an integer, got 'eighty'");
    const missing = (await run(process.execPath, [CLI, 'serve'], { cwd: repoRoot }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(missing.code).toBe(1);
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
