import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { ortgenai } from '../../src/mlflow/index.js';
import { fixtureModel, repoRoot } from '../helpers/fixtures.js';

// `ortgenai pyfunc-worker`, as Python MLflow's loader of Node models drives it: requests on stdin, replies on fd 3.
const CLI = path.join(repoRoot, 'dist', 'cli', 'index.js');
let modelDir: string;

beforeAll(async () => {
  modelDir = path.join(mkdtempSync(path.join(tmpdir(), 'ortgenai-worker-')), 'plain');
  await ortgenai.saveModel(modelDir, { model: fixtureModel('tiny-deterministic'), modelConfig: { max_tokens: 3 } });
});

describe('ortgenai pyfunc-worker', () => {
  it('answers malformed requests with an error and stays up for the next one', async () => {
    const child = spawn(process.execPath, [CLI, 'pyfunc-worker', '-m', modelDir, '--reply-fd', '3'], { cwd: repoRoot, stdio: ['pipe', 'inherit', 'inherit', 'pipe'] });
    const replies = createInterface({ input: child.stdio[3] as Readable })[Symbol.asyncIterator]();
    const next = async () => JSON.parse((await replies.next()).value as string) as Record<string, unknown>;
    expect(await next()).toEqual({ ready: true, streamable: true });
    for (const line of ['null', '"text"', '{"method": "predict"}', 'not json']) child.stdin.write(`${line}\n`);
    for (let i = 0; i < 3; i++) {
      expect(await next()).toEqual({ error: { error_code: 'INVALID_PARAMETER_VALUE', message: 'pyfunc-worker: a request must be an object with a numeric id' } });
    }
    expect(((await next()).error as { message: string }).message).toMatch(/^pyfunc-worker: a request is not JSON/);
    child.stdin.write(`${JSON.stringify({ id: 7, method: 'nope' })}\n`);
    expect(await next()).toEqual({ id: 7, error: { error_code: 'INVALID_PARAMETER_VALUE', message: "Unknown pyfunc-worker method 'nope'" } });
    child.stdin.write(`${JSON.stringify({ id: 8, method: 'predict', data: [{ prompt: 'The the, and' }] })}\n`);
    const answer = await next();
    expect(answer.id).toBe(8);
    expect(answer.result).toHaveLength(1);
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
  });
});
