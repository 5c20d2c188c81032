import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adapters, DisposedError, Engine, GenAIError, Generator, GeneratorParams, Model, ValidationError } from '../../src/index.js';
import { buildModel, deterministicShiftAdapter, encodeAdapter, writeAdapter } from '../../src/modelbuilder/index.js';
import { fixtureModel } from '../helpers/fixtures.js';

// tiny-deterministic continues a prompt starting with x₀ at position p with x₀ + p + 1; its lora variant adds the
// adapter's A·B. "plus2" (rank 1, A·B = 1) makes it x₀ + p + 2, "plus5" (rank 2, A·B = 4) x₀ + p + 5.
const PROMPT = [7, 8, 9];
const NEW_TOKENS = 5;
const continuation = (prompt: number[], plus: number) => Array.from({ length: NEW_TOKENS }, (_, i) => prompt[0] + prompt.length - 1 + i + plus);
const BASE = continuation(PROMPT, 1);
const PLUS2 = continuation(PROMPT, 2);
const PLUS5 = continuation(PROMPT, 5);

let dir: string;
let model: Model;
let adapters: Adapters;
const file = (name: string) => path.join(dir, `${name}.onnx_adapter`);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ortgenai-lora-'));
  await buildModel({ preset: 'tiny-deterministic', outDir: path.join(dir, 'model'), lora: true });
  await writeAdapter(file('plus2'), deterministicShiftAdapter(1));
  await writeAdapter(file('plus5'), deterministicShiftAdapter(4, 2));
  model = await Model.load(path.join(dir, 'model'), { threads: 1 });
  adapters = new Adapters(model);
  await adapters.loadAdapter(file('plus2'), 'plus2');
  await adapters.loadAdapter(file('plus5'), 'plus5');
});
afterAll(async () => {
  adapters?.dispose();
  model?.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** Greedy new tokens through the stepwise API, with `name` active (or none). */
async function stepwise(m: Model, prompts: number[][], active?: { adapters: Adapters; name: string }): Promise<number[][]> {
  using params = new GeneratorParams(m);
  const longest = Math.max(...prompts.map((p) => p.length));
  params.setSearchOptions({ batch_size: prompts.length, max_length: longest + NEW_TOKENS });
  using gen = await Generator.create(m, params);
  if (active) gen.setActiveAdapter(active.adapters, active.name);
  await gen.appendTokenSequences(prompts);
  while (!gen.isDone()) await gen.generateNextToken();
  return prompts.map((_, i) => Array.from(gen.getSequence(i).subarray(longest)));
}

const ids = async (r: Promise<{ tokens: Int32Array }>) => Array.from((await r).tokens);

describe('LoRA adapters on tiny-deterministic', () => {
  it('greedy generation gives the designed ids with each adapter active and the base ids with none', async () => {
    expect(await stepwise(model, [PROMPT])).toEqual([BASE]);
    expect(await stepwise(model, [PROMPT], { adapters, name: 'plus2' })).toEqual([PLUS2]);
    expect(await stepwise(model, [PROMPT], { adapters, name: 'plus5' })).toEqual([PLUS5]);
    // The adapter applies to every sequence of a padded batch; activation is per Generator, not sticky.
    expect(await stepwise(model, [PROMPT, [20, 21]], { adapters, name: 'plus2' })).toEqual([PLUS2, continuation([20, 21], 2)]);
    expect(await stepwise(model, [PROMPT])).toEqual([BASE]);
    // The lora variant without an adapter is the plain preset.
    using plain = await Model.load(fixtureModel('tiny-deterministic'), { threads: 1 });
    expect(await stepwise(plain, [PROMPT])).toEqual([BASE]);
  });

  it('model.generate and model.stream take { adapter }, concurrently with different adapters', async () => {
    const opts = (name?: string) => ({ maxTokens: NEW_TOKENS, ...(name ? { adapter: { adapters, name } } : {}) });
    const [base, plus2, plus5] = await Promise.all([
      ids(model.generate(PROMPT, opts())),
      ids(model.generate(PROMPT, opts('plus2'))),
      ids(model.generate(PROMPT, opts('plus5'))),
    ]);
    expect({ base, plus2, plus5 }).toEqual({ base: BASE, plus2: PLUS2, plus5: PLUS5 });
    const stream = model.stream(PROMPT, opts('plus5'));
    let text = '';
    for await (const chunk of stream) text += chunk;
    const result = await stream.result;
    expect(Array.from(result.tokens)).toEqual(PLUS5);
    expect(text).toBe(model.tokenizer.decode(PLUS5));
  });

  it('an unloaded adapter can no longer be activated, and can be loaded again', async () => {
    const extra = new Adapters(model);
    await extra.loadAdapter(file('plus2'), 'plus2');
    extra.unloadAdapter('plus2');
    await expect(model.generate(PROMPT, { maxTokens: 2, adapter: { adapters: extra, name: 'plus2' } })).rejects.toThrow(
      new GenAIError('Adapter not found: plus2'),
    );
    expect(() => extra.unloadAdapter('plus2')).toThrow(new GenAIError('Adapter not found: plus2'));
    await extra.loadAdapter(file('plus2'), 'plus2');
    expect(await ids(model.generate(PROMPT, { maxTokens: NEW_TOKENS, adapter: { adapters: extra, name: 'plus2' } }))).toEqual(PLUS2);
    extra.dispose();
  });

  it('missing, corrupt and truncated files and a taken name are GenAIErrors that lose nothing already loaded', async () => {
    const bytes = encodeAdapter(deterministicShiftAdapter(1));
    await writeFile(file('corrupt'), 'plain text, not a flatbuffer');
    await writeFile(file('truncated'), bytes.subarray(0, bytes.length - 12));
    const attempts: [string, string, RegExp][] = [
      [file('missing'), 'x', /^cannot load adapter 'x' from .*missing\.onnx_adapter: no such file$/],
      [file('corrupt'), 'x', /corrupt\.onnx_adapter: .*does not appear to be a valid lora parameter format/],
      [file('truncated'), 'x', /truncated\.onnx_adapter: .*fails lora adapter format verification/],
      [file('plus5'), 'plus2', /plus5\.onnx_adapter: Adapter already loaded: plus2$/],
      [dir, 'x', /^cannot load adapter 'x' from /],
    ];
    for (const [f, name, message] of attempts) {
      const err = await adapters.loadAdapter(f, name).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GenAIError);
      expect((err as Error).message).toMatch(message);
    }
    await expect(adapters.loadAdapter(file('plus2'), '')).rejects.toThrow(ValidationError);
    expect(await stepwise(model, [PROMPT], { adapters, name: 'plus2' })).toEqual([PLUS2]);
  });

  it('refuses to unload an adapter a live generator has active, until that generator is disposed', async () => {
    const extra = new Adapters(model);
    await extra.loadAdapter(file('plus5'), 'plus5');
    const params = new GeneratorParams(model);
    params.setSearchOptions({ max_length: PROMPT.length + NEW_TOKENS });
    const gen = await Generator.create(model, params);
    gen.setActiveAdapter(extra, 'plus5');
    await gen.appendTokens(PROMPT);
    expect(() => extra.unloadAdapter('plus5')).toThrow(new GenAIError('Adapter still in use: plus5'));
    while (!gen.isDone()) await gen.generateNextToken();
    expect(Array.from(gen.getSequence(0).subarray(PROMPT.length))).toEqual(PLUS5);
    gen.dispose();
    params.dispose();
    extra.unloadAdapter('plus5');

    // The same for the generator behind a running stream (long enough to be still running at its first chunk).
    await extra.loadAdapter(file('plus5'), 'plus5');
    const stream = model.stream(PROMPT, { maxTokens: 2000, adapter: { adapters: extra, name: 'plus5' } });
    for await (const _ of stream) {
      expect(() => extra.unloadAdapter('plus5')).toThrow(new GenAIError('Adapter still in use: plus5'));
      break;
    }
    expect((await stream.result).finishReason).toBe('abort');
    extra.unloadAdapter('plus5');
    extra.dispose();
  });

  it('a generator takes adapters from one Adapters container only', async () => {
    using other = new Adapters(model);
    await other.loadAdapter(file('plus2'), 'plus2');
    using params = new GeneratorParams(model);
    using gen = await Generator.create(model, params);
    gen.setActiveAdapter(adapters, 'plus2');
    expect(() => gen.setActiveAdapter(other, 'plus2')).toThrow(
      new GenAIError('Generator state can only register a single Adapters container.'),
    );
  });

  it('an adapter for inputs the model lacks fails at generation with the input named', async () => {
    using plain = await Model.load(fixtureModel('tiny-deterministic'), { threads: 1 });
    using foreign = new Adapters(plain);
    await foreign.loadAdapter(file('plus2'), 'plus2');
    await expect(plain.generate(PROMPT, { maxTokens: 2, adapter: { adapters: foreign, name: 'plus2' } })).rejects.toThrow(
      /^Invalid input name: lm_head\.lora_[AB]\.MatMul\.weight$/,
    );
    expect(await ids(plain.generate(PROMPT, { maxTokens: NEW_TOKENS }))).toEqual(BASE);
  });

  it('checks the adapter option and refuses it on the Engine', async () => {
    const bad = [{ adapters: {}, name: 'plus2' }, { adapters, name: '' }, { adapters, name: 'plus2', scale: 2 }];
    for (const adapter of bad) {
      await expect(model.generate(PROMPT, { adapter } as never)).rejects.toThrow(ValidationError);
    }
    using engine = await Engine.create(model);
    await expect(engine.generate(PROMPT, { adapter: { adapters, name: 'plus2' } })).rejects.toThrow(
      /the Engine does not support LoRA adapters/,
    );
  });

  it('use after dispose throws DisposedError; generators already using an adapter keep it', async () => {
    const extra = new Adapters(model);
    await extra.loadAdapter(file('plus2'), 'plus2');
    using params = new GeneratorParams(model);
    params.setSearchOptions({ max_length: PROMPT.length + NEW_TOKENS });
    using gen = await Generator.create(model, params);
    gen.setActiveAdapter(extra, 'plus2');
    extra.dispose();
    extra.dispose(); // idempotent
    await expect(extra.loadAdapter(file('plus5'), 'plus5')).rejects.toThrow(DisposedError);
    expect(() => extra.unloadAdapter('plus2')).toThrow(DisposedError);
    await expect(model.generate(PROMPT, { adapter: { adapters: extra, name: 'plus2' } })).rejects.toThrow(DisposedError);
    using fresh = new GeneratorParams(model);
    using other = await Generator.create(model, fresh);
    expect(() => other.setActiveAdapter(extra, 'plus2')).toThrow(DisposedError);

    await gen.appendTokens(PROMPT);
    while (!gen.isDone()) await gen.generateNextToken();
    expect(Array.from(gen.getSequence(0).subarray(PROMPT.length))).toEqual(PLUS2);

    const gone = await Model.load(path.join(dir, 'model'), { threads: 1 });
    gone.dispose();
    expect(() => new Adapters(gone)).toThrow(DisposedError);
  });
});
