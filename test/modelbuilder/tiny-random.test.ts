// tiny-random through ORT-GenAI and our binding: its first-step logits equal a plain TypeScript forward
// pass over the weights in the written file, and greedy decoding repeats exactly.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, GeneratorParams, Model } from '../../src/index.js';
import { PRESETS } from '../../src/modelbuilder/index.js';
import { readOnnxModel } from '../../src/modelbuilder/onnx/reader.js';
import { referenceForward } from '../../src/modelbuilder/reference.js';
import { fixtureModel } from '../helpers/fixtures.js';

const dir = fixtureModel('tiny-random');
let model: Model;

beforeAll(async () => {
  model = await Model.load(dir);
});
afterAll(() => model.dispose());

async function firstStepLogits(prompt: number[]): Promise<{ data: Float32Array; shape: number[] }> {
  using params = new GeneratorParams(model);
  params.setSearchOptions({ max_length: prompt.length + 1 });
  using gen = await Generator.create(model, params);
  await gen.appendTokens(prompt);
  return gen.getLogits();
}

describe('tiny-random', () => {
  it('is a Phi-3 model', () => {
    expect(model.type).toBe('phi3');
  });

  it('computes what a TypeScript reference pass computes from the same weights', async () => {
    const preset = PRESETS['tiny-random'];
    if (preset.kind !== 'decoder') throw new Error('tiny-random is a decoder preset');
    const weights = await readOnnxModel(path.join(dir, 'model.onnx'));
    const vocabSize = model.vocabSize!;
    for (const prompt of [[464], model.tokenizer.encode('The quick brown fox jumps over the lazy dog.').map(Number)]) {
      const { data, shape } = await firstStepLogits(prompt);
      expect(shape).toEqual([1, 1, vocabSize]);
      const reference = referenceForward(weights, { ...preset.dims, vocabSize }, prompt).subarray((prompt.length - 1) * vocabSize);
      let maxDiff = 0;
      for (let i = 0; i < vocabSize; i++) maxDiff = Math.max(maxDiff, Math.abs(data[i] - reference[i]));
      expect(maxDiff).toBeLessThan(1e-3);
      // Not trivially equal: the logits spread out, so a wrong graph could not pass by being flat.
      expect(Math.max(...reference) - Math.min(...reference)).toBeGreaterThan(2);
    }
  });

  it('decodes greedily the same way every time, across model loads', async () => {
    const prompt = model.tokenizer.encode('<|user|>\nHello<|end|>\n<|assistant|>\n');
    const first = await model.generate(prompt, { maxTokens: 24 });
    const second = await model.generate(prompt, { maxTokens: 24 });
    using reloaded = await Model.load(dir);
    const third = await reloaded.generate(prompt, { maxTokens: 24 });
    expect(first.tokens.length).toBeGreaterThan(0);
    expect([...second.tokens]).toEqual([...first.tokens]);
    expect([...third.tokens]).toEqual([...first.tokens]);
    expect(third.text).toBe(first.text);
  });

  it('gives each sequence of a padded batch the ids it gets alone', async () => {
    const prompts = [[464, 2068, 7586], [40]];
    using params = new GeneratorParams(model);
    params.setSearchOptions({ max_length: 10, batch_size: 2 });
    using gen = await Generator.create(model, params);
    await gen.appendTokenSequences(prompts);
    while (!gen.isDone()) await gen.generateNextToken();
    const pad = model.tokenizer.padTokenId;
    for (const [i, prompt] of prompts.entries()) {
      const alone = await model.generate(prompt, { maxTokens: 7 }); // max_length counts the padded prompt
      expect([...gen.getSequence(i)].filter((t) => t !== pad)).toEqual([...prompt, ...alone.tokens]);
    }
  });
});
