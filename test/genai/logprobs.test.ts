import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, Generator, GeneratorParams, Model, ValidationError } from '../../src/index.js';
import { fixtureModel } from '../helpers/fixtures.js';
import { PROMPT_IDS, testModels } from './models.js';

// logprobs come from the native token loop; the reference is the stepwise API: getLogits() before each
// generateNextToken(), log-softmaxed here in float64.

function logSoftmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  let sum = 0;
  for (const x of logits) sum += Math.exp(x - max);
  const logZ = max + Math.log(sum);
  return Float64Array.from(logits, (x) => x - logZ);
}

/** Greedy tokens and each step's log-softmax, stepwise. */
async function reference(model: Model, newTokens: number): Promise<{ tokens: number[]; steps: Float64Array[] }> {
  using params = new GeneratorParams(model);
  params.setSearchOptions({ max_length: PROMPT_IDS.length + newTokens, do_sample: false });
  using gen = await Generator.create(model, params);
  await gen.appendTokens(PROMPT_IDS);
  const tokens: number[] = [];
  const steps: Float64Array[] = [];
  while (!gen.isDone()) {
    steps.push(logSoftmax(gen.getLogits().data));
    await gen.generateNextToken();
    tokens.push(gen.getNextTokens()[0]);
  }
  return { tokens, steps };
}

describe.each(testModels())('logprobs on $name', ({ dir }) => {
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(dir, { threads: 1 });
  });
  afterAll(() => model.dispose());

  it('equal a log-softmax of getLogits() for each token and its top alternatives', async () => {
    const expected = await reference(model, 8);
    const result = await model.generate(PROMPT_IDS, { maxTokens: 8, searchOptions: { do_sample: false }, logprobs: 5 });
    expect(Array.from(result.tokens)).toEqual(expected.tokens.slice(0, result.tokens.length));
    expect(result.logprobs).toHaveLength(result.tokens.length);
    result.logprobs!.forEach((entry, i) => {
      const step = expected.steps[i];
      expect(entry.token).toBe(result.tokens[i]);
      expect(entry.logprob).toBeCloseTo(step[entry.token], 4);
      expect(entry.top).toHaveLength(5);
      const ranked = Array.from(step.keys()).sort((a, b) => step[b] - step[a] || a - b).slice(0, 5);
      expect(entry.top.map((t) => t.token)).toEqual(ranked);
      entry.top.forEach((t) => expect(t.logprob).toBeCloseTo(step[t.token], 4));
    });
  });

  it('stream the same entries, filled as the text arrives', async () => {
    const whole = await model.generate(PROMPT_IDS, { maxTokens: 6, temperature: 1, seed: 5, logprobs: 2 });
    const stream = model.stream(PROMPT_IDS, { maxTokens: 6, temperature: 1, seed: 5, logprobs: 2 });
    for await (const _ of stream) expect(stream.logprobs!.length).toBeGreaterThan(0);
    expect((await stream.result).logprobs).toEqual(whole.logprobs);
    expect(stream.logprobs).toEqual(whole.logprobs);
  });

  it('are refused with beam search, and cost nothing when not asked for', async () => {
    await expect(model.generate(PROMPT_IDS, { maxTokens: 2, searchOptions: { num_beams: 2 }, logprobs: 1 })).rejects.toThrow(ValidationError);
    expect((await model.generate(PROMPT_IDS, { maxTokens: 2 })).logprobs).toBeUndefined();
  });
});

describe.each(['tiny-random'])('logprobs with the Engine on %s', () => {
  it('are refused (its requests run in the Engine\'s own step loop)', async () => {
    using model = await Model.load(fixtureModel('tiny-random'), { threads: 1 });
    const engine = await Engine.create(model);
    try {
      await expect(engine.generate(PROMPT_IDS, { maxTokens: 2, logprobs: 1 })).rejects.toThrow(/not with beam search or the Engine/);
    } finally {
      engine.dispose();
    }
  });
});
