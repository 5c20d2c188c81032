// tiny-deterministic through ORT-GenAI and our binding: exact designed ids, alone, batched with
// padding, after rewinds, and as text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, GeneratorParams, Model } from '../../src/index.js';
import { fixtureModel } from '../helpers/fixtures.js';

/** The design, restated independently of the graph: after position p comes (x₀ + p + 1) mod vocab. */
function designed(prompt: readonly number[], count: number, vocab: number, pad: number): number[] {
  const real = prompt.filter((t) => t !== pad);
  return Array.from({ length: count }, (_, i) => (real[0] + real.length + i) % vocab);
}

let model: Model;
let vocab: number;
let pad: number;

beforeAll(async () => {
  model = await Model.load(fixtureModel('tiny-deterministic'));
  vocab = model.vocabSize!;
  pad = model.tokenizer.padTokenId;
});
afterAll(() => model.dispose());

async function run(prompts: number[][], maxLength: number, step?: (g: Generator, steps: number) => Promise<void>): Promise<number[][]> {
  using params = new GeneratorParams(model);
  params.setSearchOptions({ max_length: maxLength, batch_size: prompts.length });
  using gen = await Generator.create(model, params);
  await gen.appendTokenSequences(prompts);
  let steps = 0;
  while (!gen.isDone()) {
    await gen.generateNextToken();
    await step?.(gen, ++steps);
  }
  return prompts.map((_, i) => [...gen.getSequence(i)]);
}

describe('tiny-deterministic', () => {
  it('is a llama-type decoder with the tokenizer vocabulary', () => {
    expect(model.type).toBe('llama');
    expect(vocab).toBe(model.tokenizer.toTokenId('<|end|>') + 1);
  });

  it('continues a single prompt with the designed ids', async () => {
    const [seq] = await run([[1000, 42, 7]], 10);
    expect(seq).toEqual([1000, 42, 7, ...designed([1000, 42, 7], 7, vocab, pad)]);
    expect(seq.slice(3)).toEqual([1003, 1004, 1005, 1006, 1007, 1008, 1009]);
  });

  it('gives every sequence of a padded batch its own designed ids', async () => {
    const prompts = [[500, 1, 2, 3, 4], [9000], [20, 21, 22], [77, 13]];
    const maxLength = 12;
    const width = Math.max(...prompts.map((p) => p.length)); // max_length counts the padded prompt
    const batched = await run(prompts, maxLength);
    for (const [i, prompt] of prompts.entries()) {
      expect(batched[i]).toHaveLength(maxLength);
      expect(batched[i].filter((t) => t !== pad)).toEqual([...prompt, ...designed(prompt, maxLength - width, vocab, pad)]);
    }
    // Shorter prompts really were padded (the cache and mask had to ignore pad entries).
    expect(batched[1].filter((t) => t === pad)).toHaveLength(4);
  });

  it('continues from the cache that rewindTo leaves', async () => {
    const [seq] = await run([[300, 301]], 12, async (g, steps) => {
      if (steps !== 4) return;
      expect([...g.getSequence(0)]).toEqual([300, 301, 302, 303, 304, 305]);
      g.rewindTo(3); // keep 300 301 302
      await g.appendTokens([9999]); // position 3: ignored by the rule, but it must enter the cache
    });
    expect(seq).toEqual([300, 301, 302, 9999, 304, 305, 306, 307, 308, 309, 310, 311]);
  });

  it('starts over after rewindTo(0)', async () => {
    const [seq] = await run([[10, 11]], 8, async (g, steps) => {
      if (steps !== 2) return;
      g.rewindTo(0);
      await g.appendTokens([4000, 1, 1]);
    });
    expect(seq).toEqual([4000, 1, 1, 4003, 4004, 4005, 4006, 4007]);
  });

  it('stops at the end-of-sequence id', async () => {
    const eos = model.tokenizer.eosTokenIds[0];
    // eos - 1 follows; the next designed id is eos itself, which ends the sequence (and is not kept).
    const [seq] = await run([[eos - 3, 0]], 20);
    expect(seq).toEqual([eos - 3, 0, eos - 1]);
  });

  it('generates the designed text through generate()', async () => {
    const prompt = model.tokenizer.encode(' a b');
    const result = await model.generate(prompt, { maxTokens: 5 });
    const ids = designed([...prompt], 5, vocab, pad);
    expect([...result.tokens]).toEqual(ids);
    expect(result.text).toBe(model.tokenizer.decode(ids));
    expect(result.finishReason).toBe('length');
  });
});
