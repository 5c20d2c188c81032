// Model loading edge cases and the Model's lifetime: what the library accepts loads, every use after dispose()
// throws DisposedError, and a generation already started survives dispose().
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Config, DisposedError, GenAIError, Generator, GeneratorParams, Model, ValidationError } from '../../src/index.js';
import { fixtureModel } from '../helpers/fixtures.js';
import { PROMPT_IDS, testModels } from './models.js';

/** A copy of `dir` (by symlinks) without its tokenizer files. */
function withoutTokenizer(dir: string): string {
  const copy = mkdtempSync(path.join(tmpdir(), 'ortgenai-no-tokenizer-'));
  for (const name of readdirSync(dir)) {
    if (!/tokenizer|special_tokens|vocab|merges/.test(name)) symlinkSync(path.join(dir, name), path.join(copy, name));
  }
  return copy;
}

describe.each(testModels())('Model on $name', ({ dir }) => {
  it('loads a folder without tokenizer files; asking for the tokenizer is then a clear error', async () => {
    using model = await Model.load(withoutTokenizer(dir), { threads: 1 });
    expect(() => model.tokenizer).toThrow(GenAIError);
    expect(() => model.tokenizer).toThrow(/has no tokenizer/);
    // The stepwise API needs no tokenizer, as in the library.
    using params = new GeneratorParams(model);
    params.setSearchOptions({ max_length: PROMPT_IDS.length + 2 });
    using gen = await Generator.create(model, params);
    await gen.appendTokens(PROMPT_IDS);
    await gen.generateNextToken();
    expect(gen.getSequence(0).length).toBe(PROMPT_IDS.length + 1);
    await expect(model.generate(PROMPT_IDS)).rejects.toThrow(/has no tokenizer/);
  });

  it('throws DisposedError for every use after dispose()', async () => {
    const model = await Model.load(dir, { threads: 1 });
    model.dispose();
    const uses = [
      () => model.type,
      () => model.deviceType,
      () => model.tokenizer,
      () => model.contextLength,
      () => model.vocabSize,
      () => model.maxLength,
      () => new GeneratorParams(model),
    ];
    for (const use of uses) expect(use).toThrow(DisposedError);
    await expect(model.generate(PROMPT_IDS)).rejects.toThrow(DisposedError);
  });

  it('lets generations started before dispose() end normally, then frees the tokenizer', async () => {
    const model = await Model.load(dir, { threads: 1 });
    const { tokenizer } = model;
    const running = model.generate(PROMPT_IDS, { maxTokens: 3 });
    const streamed = model.stream('The the', { maxTokens: 3 });
    model.dispose();
    expect((await running).completionTokens).toBeGreaterThan(0);
    let text = '';
    for await (const chunk of streamed) text += chunk;
    expect((await streamed.result).text).toBe(text);
    expect(() => tokenizer.encode('x')).toThrow(DisposedError);
  });

  it('reads contextLength and vocabSize as a Config overlay leaves them', async () => {
    using config = await Config.load(dir);
    config.overlay({ model: { context_length: 64 } });
    using model = await Model.load(config);
    expect(model.contextLength).toBe(64);
    using plain = await Model.load(dir);
    expect(model.vocabSize).toBe(plain.vocabSize);
    expect(plain.contextLength).not.toBe(64);
  });

  it('reads search.max_length, which a Config overlay or the maxLength option sets (the latter last)', async () => {
    using plain = await Model.load(dir);
    // undefined where the folder's genai_config.json has no search section (as in one of the shared models)
    const configured = (JSON.parse(readFileSync(path.join(dir, 'genai_config.json'), 'utf8')) as { search?: { max_length?: number } }).search?.max_length;
    expect(plain.maxLength).toBe(configured);
    using config = await Config.load(dir);
    config.overlay({ search: { max_length: 40 } });
    using overlaid = await Model.load(config);
    expect(overlaid.maxLength).toBe(40);
    using both = await Model.load(config, { maxLength: 24 });
    expect(both.maxLength).toBe(24);
    using option = await Model.load(dir, { maxLength: 32 });
    expect(option.maxLength).toBe(32);
  });
});

describe('Model.load arguments', () => {
  it('refuses what is not a model folder with a message that says why', async () => {
    await expect(Model.load(42 as unknown as string)).rejects.toThrow(ValidationError);
    await expect(Model.load('')).rejects.toThrow('the model folder path is empty');
    const dir = mkdtempSync(path.join(tmpdir(), 'ortgenai-bad-'));
    const file = path.join(dir, 'file');
    writeFileSync(file, '');
    await expect(Model.load(file)).rejects.toThrow(`${file} is a file, not a model folder`);
    mkdirSync(path.join(dir, 'genai_config.json'));
    await expect(Model.load(dir)).rejects.toThrow(`${path.join(dir, 'genai_config.json')} is not a file`);
    await expect(Config.load(dir)).rejects.toThrow(ValidationError);
  });

  it('refuses a maxLength beyond the model\'s context_length, which the library would take silently', async () => {
    const dir = fixtureModel('tiny-deterministic');
    const err = await Model.load(dir, { maxLength: 2049 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toBe("maxLength 2049 exceeds the model's context_length 2048");
    using config = await Config.load(dir);
    config.overlay({ model: { context_length: 64 } });
    await expect(Model.load(config, { maxLength: 65 })).rejects.toThrow("maxLength 65 exceeds the model's context_length 64");
    using fits = await Model.load(config, { maxLength: 64 });
    expect([fits.maxLength, fits.contextLength]).toEqual([64, 64]);
  });

  it('refuses threads and maxLength that are not positive integers', async () => {
    const dir = fixtureModel('tiny-deterministic');
    for (const bad of [0, -1, 1.5, Number.NaN, '8' as unknown as number]) {
      for (const key of ['maxLength', 'threads'] as const) {
        const err = await Model.load(dir, { [key]: bad }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as Error).message).toBe(`${key} must be a positive integer, got ${bad}`);
      }
    }
  });
});
