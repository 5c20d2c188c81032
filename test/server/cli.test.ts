import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColSpec, DataType, ModelSignature, pyfunc, Schema } from '../../src/mlflow/index.js';
import { repoRoot } from '../helpers/fixtures.js';

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

describe('ortgenai serve', () => {
  it('serves a model, answers /ping and /invocations, and shuts down cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '-m', modelDir, '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = once(child, 'exit');
    try {
      await expect.poll(() => /at (http:\/\/\S+)/.exec(stdout)?.[1] ?? (child.exitCode !== null ? `exited: ${stderr}` : undefined), { timeout: 60_000 }).toMatch(/^http:/);
      const url = /at (http:\/\/\S+)/.exec(stdout)![1];
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
    expect({ code, signal, stderr }).toMatchObject({ code: 0, signal: null });
    expect(stderr).toContain('POST /invocations 200');
    expect(stderr).toContain('SIGTERM, shutting down');
    expect(stdout).toContain('ortgenai serve: stopped');
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
