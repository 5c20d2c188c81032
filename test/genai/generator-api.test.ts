// The official Generator/GeneratorParams calls with the library's semantics (as ORT-GenAI's own C, C++ and Python
// tests use them), and the stepwise API refusing what the library would silently get wrong.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenAIError, Generator, GeneratorParams, Model, ValidationError } from '../../src/index.js';
import { PROMPT_IDS, testModels } from './models.js';

/** Logits that make `token` the only choice, for `rows` rows. */
function forcing(token: number, rows: number, vocab: number): Float32Array {
  const logits = new Float32Array(rows * vocab).fill(-1e9);
  for (let r = 0; r < rows; r++) logits[r * vocab + token] = 0;
  return logits;
}

describe.each(testModels())('Generator API on $name', ({ dir }) => {
  let model: Model;
  let vocab: number;
  beforeAll(async () => {
    model = await Model.load(dir, { threads: 1 });
    vocab = model.vocabSize!;
  });
  afterAll(() => model.dispose());

  async function generator(options: Parameters<GeneratorParams['setSearchOptions']>[0]) {
    const params = new GeneratorParams(model);
    params.setSearchOptions(options);
    const gen = await Generator.create(model, params);
    return { params, gen, [Symbol.dispose]: () => (gen.dispose(), params.dispose()) };
  }

  it('takes setLogits on a new generator and right after appendTokens, as the official sampling tests do', async () => {
    {
      using g = await generator({ max_length: 8 });
      g.gen.setLogits(forcing(42, 1, vocab));
      await g.gen.generateNextToken();
      expect(Array.from(g.gen.getNextTokens())).toEqual([42]);
    }
    using g = await generator({ max_length: PROMPT_IDS.length + 4 });
    await g.gen.appendTokens(PROMPT_IDS);
    g.gen.setLogits(forcing(7, 1, vocab));
    await g.gen.generateNextToken();
    expect(Array.from(g.gen.getNextTokens())).toEqual([7]);
  });

  it('refuses logits of the wrong size: ours before the library has logits, the library\'s own message after', async () => {
    using g = await generator({ max_length: PROMPT_IDS.length + 4 });
    expect(() => g.gen.setLogits(new Float32Array(3))).toThrow(ValidationError);
    await g.gen.appendTokens(PROMPT_IDS);
    g.gen.getLogits();
    // Our size check stands in front; the raw call shows what the library says itself.
    expect(() => g.gen.native.setLogits(new Float32Array(3))).toThrow(GenAIError);
    expect(() => g.gen.native.setLogits(new Float32Array(3))).toThrow(/SetLogits passed an array of size 3/);
    expect(() => g.gen.setLogits(new Float64Array(vocab) as unknown as Float32Array)).toThrow(ValidationError);
  });

  it('getOutput("logits") is the model output of the last run, its last row the logits', async () => {
    using g = await generator({ max_length: PROMPT_IDS.length + 4 });
    await g.gen.appendTokens(PROMPT_IDS);
    const out = g.gen.getOutput('logits');
    expect(out.type).toBe('float32');
    expect(out.shape).toEqual([1, PROMPT_IDS.length, vocab]);
    const last = (out.data as Float32Array).subarray((PROMPT_IDS.length - 1) * vocab);
    expect(Array.from(last)).toEqual(Array.from(g.gen.getLogits().data));
  });

  it('setModelInput passes a tensor to the model, and refuses what is not a tensor', async () => {
    {
      using g = await generator({ max_length: PROMPT_IDS.length + 4 });
      // Every model declares an integer attention_mask: a float tensor reaches ONNX Runtime and is refused there.
      g.gen.setModelInput('attention_mask', { data: new Float32Array(PROMPT_IDS.length).fill(1), shape: [1, PROMPT_IDS.length], type: 'float32' });
      await expect(g.gen.appendTokens(PROMPT_IDS)).rejects.toThrow(/tensor\(float\)/);
    }
    using g = await generator({ max_length: PROMPT_IDS.length + 4 });
    expect(() => g.gen.setModelInput('x', { data: new Int32Array(3), shape: [2, 2] })).toThrow(ValidationError);
    expect(() => g.gen.setModelInput('x', { data: [1, 2] as unknown as Int32Array, shape: [2] })).toThrow(ValidationError);
    expect(() => g.gen.setModelInput('x', { data: new Int32Array(2), shape: [2], type: 'float16' })).toThrow(ValidationError);
    g.gen.setModelInput('x', { data: new Uint16Array(2), shape: [2], type: 'float16' });
  });

  it('reads search options back, like get_search_options(), and skips undefined values', async () => {
    using params = new GeneratorParams(model);
    params.setSearchOptions({ max_length: 9, do_sample: true, top_k: 5, temperature: undefined });
    expect(params.getSearchOption('max_length')).toBe(9);
    expect(params.getSearchOption('do_sample')).toBe(true);
    const all = params.getSearchOptions();
    expect(all).toMatchObject({ max_length: 9, top_k: 5, do_sample: true, num_beams: 1, batch_size: 1 });
    expect(typeof all.early_stopping).toBe('boolean');
    params.setSearchOptions({ max_length: undefined });
    expect(params.getSearchOption('max_length')).toBe(9);
    expect(() => params.getSearchOption('max_lenght' as 'max_length')).toThrow(/did you mean 'max_length'/);
  });

  it('refuses token ids it would drop or embed wrongly in the stepwise API', async () => {
    using g = await generator({ batch_size: 2, max_length: 8 });
    await expect(g.gen.appendTokens([1, 2, 3])).rejects.toThrow(ValidationError);
    await expect(g.gen.appendTokens([1, 2, 3])).rejects.toThrow(/not a multiple of batch_size 2/);
    await expect(g.gen.appendTokens([1, -1])).rejects.toThrow(/outside the vocabulary/);
    await expect(g.gen.appendTokens([1, vocab])).rejects.toThrow(/outside the vocabulary/);
    await expect(g.gen.appendTokens([1.5, 2])).rejects.toThrow(ValidationError);
    await expect(g.gen.appendTokenSequences([[1], [-1]])).rejects.toThrow(/outside the vocabulary/);
    expect(g.gen.tokenCount()).toBe(0);
    await g.gen.appendTokens([1, 2, 3, 4]);
    expect(g.gen.tokenCount()).toBe(2);
  });

  it('getSequence() is refused during a beam search (it would change the search) and answers once done', async () => {
    const beams = { max_length: PROMPT_IDS.length + 6, num_beams: 3, num_return_sequences: 2, early_stopping: false };
    using g = await generator(beams);
    await g.gen.appendTokens(PROMPT_IDS);
    await g.gen.generateNextToken();
    expect(() => g.gen.getSequence(0)).toThrow(GenAIError);
    expect(() => g.gen.getSequence(0)).toThrow(/during a beam search/);
    while (!g.gen.isDone()) await g.gen.generateNextToken();
    const first = g.gen.getSequence(0);
    expect(first.length).toBe(PROMPT_IDS.length + 6);
    // The same search untouched gives the same winner: refusing kept the search intact.
    using again = await generator(beams);
    await again.gen.appendTokens(PROMPT_IDS);
    while (!again.gen.isDone()) await again.gen.generateNextToken();
    expect(Array.from(again.gen.getSequence(0))).toEqual(Array.from(first));
  });
});
