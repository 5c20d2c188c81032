import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/index.js';
import { runtimeLibraries } from '../../src/native.js';
import { repoRoot } from '../helpers/fixtures.js';
import { PROMPT_IDS, testModels } from './models.js';
import { expectCleanTerminationMidRun } from './terminate-worker.js';

interface Output {
  tokens: number[];
  text: string;
}

function runWorker(modelDir: string): Promise<Output[]> {
  const { ort, genai } = runtimeLibraries();
  const worker = new Worker(path.join(import.meta.dirname, 'worker.mjs'), {
    workerData: { packageRoot: repoRoot, ort, genai, modelDir, prompt: PROMPT_IDS, newTokens: 24, rounds: 3 },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

describe.each(testModels())('worker_threads on $name', ({ dir }) => {
  it('two workers load the addon and generate concurrently, matching the main thread', async () => {
    using model = await Model.load(dir);
    const expected = await model.generate(PROMPT_IDS, { maxTokens: 24 });
    const [a, b] = await Promise.all([runWorker(dir), runWorker(dir)]);
    for (const outputs of [a, b]) {
      expect(outputs).toHaveLength(3);
      for (const out of outputs) {
        const eos = model.tokenizer.eosTokenIds;
        const tokens = eos.includes(out.tokens.at(-1)!) ? out.tokens.slice(0, -1) : out.tokens;
        expect(tokens).toEqual(Array.from(expected.tokens));
      }
    }
  });

  it('a worker terminated mid-generation neither crashes the process nor its exit', async () => {
    // In a child process where only the worker uses the addon: its teardown then also unloads the addon, while the
    // native token loop is still running (this used to segfault).
    expectCleanTerminationMidRun(dir);
  });

  it('a worker terminated in a stepwise loop (async calls in flight) neither crashes the process nor its exit', () => {
    expectCleanTerminationMidRun(dir, { stepwise: true });
  });
});
