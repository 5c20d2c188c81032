import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisposedError, GenAIError, Generator, GeneratorParams, GuidanceError, Model, ValidationError } from '../../src/index.js';
import { binding, runtimeLibraries } from '../../src/native.js';
import { fixtureModel } from '../helpers/fixtures.js';
import { STEPWISE_REFERENCE } from '../helpers/reference-programs.js';
import { PROMPT_IDS, testModels } from './models.js';

/** Greedy ids of a padded batch from the plain C++ stepwise loop over the same library, loaded the same way. */
async function cppStepwise(dir: string, threads: number, prompts: number[][], maxLength: number): Promise<number[][]> {
  const { ort, genai } = runtimeLibraries();
  const args = [ort, genai, dir, String(threads), String(maxLength), ...prompts.map((p) => p.join(','))];
  const { stdout } = await promisify(execFile)(STEPWISE_REFERENCE, args);
  return stdout.trimEnd().split('\n').map((line) => line.split(',').map(Number));
}

async function stepwise(model: Model, prompts: number[][], newTokens: number): Promise<Int32Array[]> {
  using params = new GeneratorParams(model);
  const longest = Math.max(...prompts.map((p) => p.length));
  params.setSearchOptions({ batch_size: prompts.length, max_length: longest + newTokens });
  using gen = await Generator.create(model, params);
  await gen.appendTokenSequences(prompts);
  while (!gen.isDone()) {
    await gen.generateNextToken();
    expect(gen.getNextTokens().length).toBe(prompts.length);
  }
  return prompts.map((_, i) => gen.getSequence(i));
}

describe.each(testModels())('Generator on $name', ({ dir }) => {
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(dir, { threads: 1 });
  });
  afterAll(() => model.dispose());

  // The reference is the C++ stepwise loop (test/native/stepwise_reference.cc); the candidates are our stepwise API
  // driven from JS (one generateNextToken per step) and the native token loop behind generate/stream
  // (native/token_loop.cc), all on the same padded batch of 2.
  it('greedy batch of 2 padded prompts gives the same ids as the stepwise C++ API', async () => {
    const prompts = [PROMPT_IDS, PROMPT_IDS.slice(1)];
    const reference = await cppStepwise(dir, 1, prompts, PROMPT_IDS.length + 10);
    expect(reference).toHaveLength(2);
    expect(reference[0].length).toBeGreaterThan(PROMPT_IDS.length);
    const expected = await stepwise(model, prompts, 10);
    expect(expected.map((s) => Array.from(s))).toEqual(reference);
    const b = binding();
    const params = b.GeneratorParams.create(model.native);
    params.setSearchNumber('batch_size', 2);
    params.setSearchNumber('max_length', PROMPT_IDS.length + 10);
    const gen = await b.Generator.create(model.native, params);
    await gen.appendTokenSequences(prompts);
    const streamed: number[] = [];
    expect(await gen.run(null, null, (ids) => streamed.push(...ids))).toBe('done');
    const got = [gen.getSequence(0), gen.getSequence(1)];
    expect(got.map((s) => Array.from(s))).toEqual(expected.map((s) => Array.from(s)));
    // Tokens arrive interleaved per step: [row0, row1, row0, row1, ...].
    const generated = expected[0].length - PROMPT_IDS.length;
    expect(streamed.filter((_, i) => i % 2 === 0)).toEqual(Array.from(expected[0].subarray(PROMPT_IDS.length)));
    expect(streamed.length).toBe(2 * generated);
    gen.dispose();
    params.dispose();
    // The unpadded row matches a single-prompt generate of the same prompt.
    const single = await model.generate(PROMPT_IDS, { maxTokens: 10 });
    expect(Array.from(expected[0].subarray(PROMPT_IDS.length, PROMPT_IDS.length + single.tokens.length))).toEqual(
      Array.from(single.tokens),
    );
  });

  it('guards the C library traps with clear errors', async () => {
    using params = new GeneratorParams(model);
    params.setSearchOptions({ max_length: PROMPT_IDS.length + 2 });
    using gen = await Generator.create(model, params);
    expect(() => gen.getLogits()).toThrow(/needs a prompt first: call appendTokens/);
    expect(() => gen.setLogits(new Float32Array(4))).toThrow(ValidationError);
    await gen.appendTokens(PROMPT_IDS);
    expect(gen.tokenCount()).toBe(PROMPT_IDS.length);
    const { data, shape } = gen.getLogits();
    expect(shape[0]).toBe(1);
    expect(data.length).toBe(shape.reduce((a, b) => a * b, 1));
    expect(() => gen.setLogits(new Float32Array(3))).toThrow(ValidationError);
    // Force a token through the logits.
    const forced = 42;
    const edited = new Float32Array(data.length).fill(-1e9);
    edited[forced] = 0;
    gen.setLogits(edited);
    await gen.generateNextToken();
    expect(Array.from(gen.getNextTokens())).toEqual([forced]);
    await gen.generateNextToken();
    expect(gen.isDone()).toBe(true);
    await expect(gen.generateNextToken()).rejects.toThrow(/after the generator finished/);
    await expect(gen.generateNextToken()).rejects.toBeInstanceOf(GenAIError);
    expect(() => gen.getSequence(1)).toThrow(ValidationError);
    expect(() => gen.getSequence(-1)).toThrow(ValidationError);
    expect(() => gen.rewindTo(999)).toThrow(ValidationError);
    await expect(gen.appendTokens([])).rejects.toThrow(/at least one token/);
    expect(() => params.setSearchOptions({ batch_size: 33 })).toThrow(ValidationError);
    expect(() => binding().GeneratorParams.create(model.native).setSearchNumber('num_beams', 40)).toThrow(ValidationError);
  });

  it('rewinds and continues from a shorter sequence', async () => {
    using params = new GeneratorParams(model);
    params.setSearchOptions({ max_length: 20 });
    using gen = await Generator.create(model, params);
    await gen.appendTokens(PROMPT_IDS);
    await gen.generateNextToken();
    const first = gen.getNextTokens()[0];
    await gen.generateNextToken();
    gen.rewindTo(PROMPT_IDS.length);
    expect(gen.tokenCount()).toBe(PROMPT_IDS.length);
    await gen.appendTokens([first]);
    expect(Array.from(gen.getSequence(0))).toEqual([...PROMPT_IDS, first]);
  });

  it('serialises calls: a sync call while an async one runs is a clear error, not a crash', async () => {
    using params = new GeneratorParams(model);
    params.setSearchOptions({ max_length: 64 });
    using gen = await Generator.create(model, params);
    const pending = gen.appendTokens(PROMPT_IDS);
    let busy: unknown;
    try {
      gen.tokenCount();
    } catch (err) {
      busy = err;
    }
    await pending;
    // Either the prefill was already done, or we were told the generator is busy.
    if (busy) expect(busy).toBeInstanceOf(GenAIError);
    expect(gen.tokenCount()).toBe(PROMPT_IDS.length);
  });

  it('throws DisposedError after dispose, and keeps the model alive for a generator that outlives it', async () => {
    const own = await Model.load(dir);
    const params = new GeneratorParams(own);
    params.setSearchOptions({ max_length: PROMPT_IDS.length + 3 });
    const gen = await Generator.create(own, params);
    own.dispose();
    params.dispose();
    expect(() => new GeneratorParams(own)).toThrow(DisposedError);
    await expect(own.generate(PROMPT_IDS)).rejects.toBeInstanceOf(DisposedError);
    expect(() => params.setSearchOptions({ max_length: 3 })).toThrow(DisposedError);
    // The generator still owns the model it was made from.
    await gen.appendTokens(PROMPT_IDS);
    while (!gen.isDone()) await gen.generateNextToken();
    expect(gen.getSequence(0).length).toBe(PROMPT_IDS.length + 3);
    gen.dispose();
    gen.dispose(); // idempotent
    expect(() => gen.isDone()).toThrow(DisposedError);
    await expect(gen.generateNextToken()).rejects.toBeInstanceOf(DisposedError);
  });
});

// Generator.start (native/generator.cc): creation and the first run in one native job, behind model.generate().
describe('Generator.start: a generator created by its first run', () => {
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(fixtureModel('tiny-deterministic'), { threads: 1 });
  });
  afterAll(() => model.dispose());

  function params(of: Model, newTokens: number, grammar?: string) {
    const p = binding().GeneratorParams.create(of.native);
    p.setSearchNumber('max_length', PROMPT_IDS.length + newTokens);
    if (grammar !== undefined) p.setGuidance('lark_grammar', grammar);
    return p;
  }

  it('streams like create() + run(), is busy from the first moment, and serves stepwise calls afterwards', async () => {
    // 1000 new tokens keep the run going for tens of milliseconds after the synchronous calls below.
    const p = params(model, 1000);
    const ids: number[] = [];
    const { generator, done } = binding().Generator.start(p, PROMPT_IDS, model.tokenizer.native, (t) => ids.push(...t));
    // Being created or running on the worker: busy, never a crash on a handle that does not exist yet.
    expect(() => generator.getSequence(0)).toThrow(/busy/);
    await expect(generator.appendTokens([1])).rejects.toThrow(/busy/);
    expect(await done).toBe('done');
    // tiny-deterministic: the token at position p is the first token + p.
    const expected = PROMPT_IDS.concat(Array.from({ length: 1000 }, (_, i) => PROMPT_IDS[0] + PROMPT_IDS.length + i));
    expect(Array.from(generator.getSequence(0))).toEqual(expected);
    expect(ids).toEqual(expected.slice(PROMPT_IDS.length));
    generator.rewindTo(PROMPT_IDS.length);
    expect(generator.tokenCount()).toBe(PROMPT_IDS.length);
    generator.dispose();
    p.dispose();
  });

  it('stops at once when stop() comes right after start(), whether or not the generator exists yet; it goes on after', async () => {
    const p = params(model, 1000);
    const { generator, done } = binding().Generator.start(p, PROMPT_IDS, null, () => {});
    generator.stop();
    expect(await done).toBe('stopped');
    // A stop may interrupt the prefill: clear ONNX Runtime's terminate flag and start over from nothing.
    generator.setRuntimeOption('terminate_session', '0');
    generator.rewindTo(0);
    expect(await generator.run(PROMPT_IDS, null, () => {})).toBe('done');
    expect(generator.getSequence(0).length).toBe(PROMPT_IDS.length + 1000);
    generator.dispose();
    p.dispose();
  });

  it('runs on the params\' model even when that model was disposed in JS first', async () => {
    const own = await Model.load(fixtureModel('tiny-deterministic'), { threads: 1 });
    const p = params(own, 2);
    own.dispose();
    const { generator, done } = binding().Generator.start(p, PROMPT_IDS, null, () => {});
    expect(await done).toBe('done');
    expect(generator.getSequence(0).length).toBe(PROMPT_IDS.length + 2);
    generator.dispose();
    p.dispose();
  });

  it('rejects `done` with the library\'s error when creation fails, and the never-created generator refuses calls', async () => {
    const p = params(model, 4, 'start: (');
    const { generator, done } = binding().Generator.start(p, PROMPT_IDS, null, () => {});
    const err = await done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenAIError);
    expect((err as Error).message).toMatch(/grammar/i);
    expect(() => generator.getSequence(0)).toThrow(/never created/);
    expect(() => generator.setRuntimeOption('terminate_session', '0')).toThrow(/never created/);
    await expect(generator.generateNextToken()).rejects.toThrow(/never created/);
    generator.stop();
    generator.dispose();
    p.dispose();
    // Through model.generate() the same failure is the caller's GuidanceError.
    await expect(model.generate(PROMPT_IDS, { guidance: { type: 'lark_grammar', data: 'start: (' } })).rejects.toBeInstanceOf(GuidanceError);
  });
});
