import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisposedError, Model, ValidationError } from '../../src/index.js';
import { testModels } from './models.js';

const SAMPLES = {
  ascii: 'Hello world, this is a test.',
  accented: 'Crème brûlée à la façon de Zoë, señor',
  cjk: '你好，世界。日本語のテキスト',
  emoji: 'Launch 🚀 party 🎉 with family 👨‍👩‍👧',
};

describe.each(testModels())('Tokenizer on $name', ({ dir }) => {
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(dir);
  });
  afterAll(() => model.dispose());

  it.each(Object.entries(SAMPLES))('round-trips %s text', (_kind, text) => {
    const ids = model.tokenizer.encode(text);
    expect(ids).toBeInstanceOf(Int32Array);
    expect(ids.length).toBeGreaterThan(0);
    expect(model.tokenizer.decode(ids)).toBe(text);
    expect(model.tokenizer.decode(Array.from(ids))).toBe(text);
  });

  it.each(Object.entries(SAMPLES))('TokenizerStream yields the same %s text as decode, never half a character', (_k, text) => {
    const ids = model.tokenizer.encode(text);
    using stream = model.tokenizer.createStream();
    const pieces = Array.from(ids, (id) => stream.decode(id));
    for (const piece of pieces) expect(piece).not.toMatch(/\uFFFD/);
    expect(pieces.join('')).toBe(model.tokenizer.decode(ids));
  });

  it('decodes an empty list to an empty string instead of crashing', () => {
    expect(model.tokenizer.decode([])).toBe('');
    expect(model.tokenizer.decodeBatch([[], new Int32Array(0)])).toEqual(['', '']);
  });

  it('encodes a batch off the JS thread, unpadded, and decodes a batch', async () => {
    const texts = Object.values(SAMPLES);
    const batch = await model.tokenizer.encodeBatch(texts);
    expect(batch.map((ids) => Array.from(ids))).toEqual(texts.map((t) => Array.from(model.tokenizer.encode(t))));
    expect(model.tokenizer.decodeBatch(batch)).toEqual(texts);
  });

  it('maps single tokens to ids and rejects strings that are not one token', () => {
    const id = model.tokenizer.encode('the')[0];
    expect(model.tokenizer.toTokenId('the')).toBe(id);
    expect(() => model.tokenizer.toTokenId('definitely not a single token')).toThrow(ValidationError);
  });

  it('exposes special token ids', () => {
    expect(Number.isInteger(model.tokenizer.bosTokenId)).toBe(true);
    expect(Number.isInteger(model.tokenizer.padTokenId)).toBe(true);
    expect(model.tokenizer.eosTokenIds.length).toBeGreaterThan(0);
  });

  it('rejects non-integer token ids with a TypeError', () => {
    expect(() => model.tokenizer.decode([1.5])).toThrow(TypeError);
    expect(() => model.tokenizer.decode('abc' as unknown as number[])).toThrow(TypeError);
  });
});

describe('Tokenizer chat template (own fixture, Phi-3 style)', () => {
  it('renders messages with the model template, a custom template and without the generation prompt', async () => {
    using model = await Model.load(testModels()[0].dir);
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ];
    const withPrompt = model.tokenizer.applyChatTemplate(messages);
    expect(withPrompt).toContain('<|user|>');
    expect(withPrompt).toContain('Hi');
    expect(withPrompt.trimEnd().endsWith('<|assistant|>')).toBe(true);
    const without = model.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: false });
    expect(without).not.toContain('<|assistant|>');
    const custom = model.tokenizer.applyChatTemplate(messages, {
      template: '{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}',
    });
    expect(custom).toBe('[system]Be brief.[user]Hi');
    expect(model.tokenizer.applyChatTemplate(JSON.stringify(messages))).toBe(withPrompt);
  });

  it('throws DisposedError after the model (and its tokenizer) is disposed', async () => {
    const model = await Model.load(testModels()[0].dir);
    const { tokenizer } = model;
    model.dispose();
    expect(() => tokenizer.encode('x')).toThrow(DisposedError);
    expect(() => tokenizer.createStream()).toThrow(DisposedError);
  });
});
