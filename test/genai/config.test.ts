import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Config, DisposedError, GenAIError, Model, ValidationError } from '../../src/index.js';
import { PROMPT_IDS, testModels } from './models.js';

describe.each(testModels())('Config and model loading on $name', ({ dir }) => {
  it('loads from a Config with providers and an overlay, and reports type and device', async () => {
    using config = await Config.load(dir);
    config.clearProviders();
    config.overlay({ model: { decoder: { session_options: { intra_op_num_threads: 1 } } } });
    config.overlay('{"search": {"max_length": 16}}');
    using model = await Model.load(config);
    expect(model.type).toMatch(/^[a-z0-9_]+$/);
    expect(model.deviceType).toBe('CPU');
    expect(model.path).toBe(dir);
    const r = await model.generate(PROMPT_IDS, { maxTokens: 3 });
    expect(r.completionTokens).toBeGreaterThan(0);
  });

  it('applies the threads option and rejects a bad one', async () => {
    using model = await Model.load(dir, { threads: 1, provider: 'cpu' });
    expect((await model.generate(PROMPT_IDS, { maxTokens: 2 })).completionTokens).toBeGreaterThan(0);
    await expect(Model.load(dir, { threads: 0 })).rejects.toBeInstanceOf(ValidationError);
  });

  it('rejects invalid overlays with the library message', async () => {
    using config = await Config.load(dir);
    expect(() => config.overlay('{ not json')).toThrow(GenAIError);
    config.dispose();
    expect(() => config.clearProviders()).toThrow(DisposedError);
  });
});

describe('bad model folders', () => {
  it('rejects a missing folder with a message naming it', async () => {
    await expect(Model.load('/no/such/model')).rejects.toThrow('model folder not found: /no/such/model');
    await expect(Config.load('/no/such/model')).rejects.toThrow('model folder not found: /no/such/model');
  });

  it('rejects a folder without genai_config.json', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ortgenai-empty-'));
    await expect(Model.load(dir)).rejects.toThrow(/has no genai_config.json/);
  });

  it('turns a corrupt genai_config.json into a GenAIError with the parser message, and keeps running', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ortgenai-corrupt-'));
    writeFileSync(path.join(dir, 'genai_config.json'), '{"model": {"type": "gpt2", "decoder": ');
    const err = await Model.load(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenAIError);
    expect((err as Error).message.length).toBeGreaterThan(10);
    // Structurally valid JSON that is not a valid configuration.
    writeFileSync(path.join(dir, 'genai_config.json'), '{"model": {"type": 42}}');
    await expect(Model.load(dir)).rejects.toBeInstanceOf(GenAIError);
    // Nothing leaked into the process: a good model still loads.
    using model = await Model.load(testModels()[0].dir);
    expect(model.type.length).toBeGreaterThan(0);
  });
});
