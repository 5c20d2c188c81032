import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyfunc, type ChatCompletion } from '../../src/mlflow/index.js';
import { fixtureModel, repoRoot } from '../helpers/fixtures.js';

// The examples run as users run them: a separate `tsx` process importing the built package
// ('ortgenai-node/mlflow' → dist/), on the generated tiny-random Phi-3 fixture.
const run = promisify(execFile);
const TSX = path.join(repoRoot, 'node_modules', '.bin', 'tsx');

let root: string;

beforeAll(async () => {
  if (!existsSync(path.join(repoRoot, 'dist', 'mlflow', 'index.js'))) {
    throw new Error('The examples import the built package: run `npm run build:ts` first (CI does).');
  }
  root = await mkdtemp(path.join(tmpdir(), 'ortgenai-examples-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function answerOf(stdout: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith('answer: '));
  expect(line).toBeDefined();
  return JSON.parse(line!.slice('answer: '.length)) as string;
}

describe('examples', () => {
  it('phi3-pyfunc: saves the custom model with an inferred signature, loads it and predicts', async () => {
    const out = path.join(root, 'phi3-pyfunc');
    const { stdout } = await run(TSX, [path.join(repoRoot, 'examples/phi3-pyfunc/main.ts'), '--model', fixtureModel('tiny-random'), '--out', out], { cwd: root });
    expect(stdout).toContain(`saved ${out}\n`);
    expect(stdout).toContain("signature:\ninputs: \n  ['prompt': string (required)]\noutputs: \n  [string (required)]\n");
    const answer = answerOf(stdout);
    expect(answer.length).toBeGreaterThan(0);
    // the folder the example wrote loads here too and answers the same (greedy decoding)
    const model = await pyfunc.loadModel(out);
    try {
      expect(await model.predict({ prompt: 'What is MLflow?' })).toEqual([answer]);
    } finally {
      await model.dispose();
    }
  });

  it('phi3-chat: logs the llm/v1/chat model to a run, loads it by runs:/ URI and chats', async () => {
    const env = { ...process.env, MLFLOW_TRACKING_URI: path.join(root, 'mlruns') };
    const { stdout } = await run(TSX, [path.join(repoRoot, 'examples/phi3-chat/main.ts'), '--model', fixtureModel('tiny-random')], { cwd: root, env });
    const uri = /^logged (runs:\/[0-9a-f]{32}\/phi3-chat)$/m.exec(stdout)?.[1];
    expect(uri).toBeDefined();
    const answer = answerOf(stdout);
    expect(JSON.parse(/^usage: (.*)$/m.exec(stdout)![1])).toMatchObject({ completion_tokens: 32 });
    process.env.MLFLOW_TRACKING_URI = env.MLFLOW_TRACKING_URI;
    const model = await pyfunc.loadModel(uri!).finally(() => delete process.env.MLFLOW_TRACKING_URI);
    try {
      const [response] = (await model.predict({
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: 'What is ONNX Runtime GenAI?' },
        ],
      })) as ChatCompletion[];
      expect(response.choices[0].message.content).toBe(answer);
    } finally {
      await model.dispose();
    }
  });
});
