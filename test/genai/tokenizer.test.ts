import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisposedError, GenAIError, Model, ValidationError } from '../../src/index.js';
import { SHARED_GPT2, testModels } from './models.js';

const SAMPLES = {
  ascii: 'Hello world, this is a test.',
  accented: 'Crème brûlée à la façon de Zoë, señor',
  cjk: '你好，世界。日本語のテキスト',
  emoji: 'Launch 🚀 party 🎉 with family 👨‍👩‍👧',
};

describe.each(testModels())('Tokenizer on $name', ({ name, dir }) => {
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

  it('encodes a batch off the JS thread into one matrix padded with pad_token_id, and decodes it', async () => {
    const texts = Object.values(SAMPLES);
    const rows = texts.map((t) => Array.from(model.tokenizer.encode(t)));
    const columns = Math.max(...rows.map((r) => r.length));
    const { data, shape } = await model.tokenizer.encodeBatch(texts);
    expect(shape).toEqual([texts.length, columns]);
    const pad = model.tokenizer.padTokenId;
    const padded = rows.map((r) => [...Array(columns - r.length).fill(pad), ...r]);
    const got = rows.map((_, i) => Array.from(data.subarray(i * columns, (i + 1) * columns)));
    // The library pads on the left or the right depending on the tokenizer's padding_side.
    const right = rows.map((r) => [...r, ...Array(columns - r.length).fill(pad)]);
    expect([padded, right]).toContainEqual(got);
    // Padding decodes as whatever the pad token is (nothing when it is a skipped special token).
    expect(model.tokenizer.decodeBatch({ data, shape })).toEqual(got.map((row) => model.tokenizer.decode(row)));
    expect(model.tokenizer.decodeBatch(rows)).toEqual(texts);
  });

  it('refuses an empty batch with the library\'s own message', async () => {
    await expect(model.tokenizer.encodeBatch([])).rejects.toThrow(GenAIError);
    await expect(model.tokenizer.encodeBatch([])).rejects.toThrow('EncodeBatch: input strings must not be empty');
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

  it('refuses text with a NUL character instead of encoding what precedes it', async () => {
    expect(() => model.tokenizer.encode('ab\u0000cd')).toThrow(ValidationError);
    expect(() => model.tokenizer.encode('ab\u0000cd')).toThrow(/NUL/);
    await expect(model.tokenizer.encodeBatch(['ok', 'ab\u0000cd'])).rejects.toThrow(ValidationError);
  });

  it('refuses arguments of the wrong type with ValidationError, not TypeError', async () => {
    expect(() => model.tokenizer.encode(Buffer.from('abc') as unknown as string)).toThrow(ValidationError);
    await expect(model.tokenizer.encodeBatch('abc' as unknown as string[])).rejects.toThrow(ValidationError);
    expect(() => model.tokenizer.toTokenId(42 as unknown as string)).toThrow(ValidationError);
  });

  it('TokenizerStream refuses ids that are not 32-bit integers instead of decoding token 0', () => {
    using stream = model.tokenizer.createStream();
    for (const bad of [Number.NaN, 1.5, 2 ** 31, '1' as unknown as number]) {
      expect(() => stream.decode(bad)).toThrow(ValidationError);
    }
    expect(stream.decode(model.tokenizer.encode('the')[0])).toBe('the');
  });

  it('updateOptions changes decoding; unknown keys get the library\'s message', () => {
    const eos = model.tokenizer.eosTokenIds[0];
    const skipped = model.tokenizer.decode([eos]);
    try {
      model.tokenizer.updateOptions({ skip_special_tokens: false });
      // Our fixtures' end-of-text is a special token; the shared GPT-2's (id 98 of 1000) is a plain one.
      expect(model.tokenizer.decode([eos])).toBe(name === SHARED_GPT2 ? skipped : '<|endoftext|>');
    } finally {
      model.tokenizer.updateOptions({ skip_special_tokens: 'true' });
    }
    expect(model.tokenizer.decode([eos])).toBe(skipped);
    expect(() => model.tokenizer.updateOptions({ nope: true })).toThrow(GenAIError);
    expect(() => model.tokenizer.updateOptions({ nope: true })).toThrow('Invalid tokenizer option key: nope');
    expect(() => model.tokenizer.updateOptions({ skip_special_tokens: 1 as unknown as boolean })).toThrow(ValidationError);
  });

  it('answers the tool-call token ids with the library\'s own error when the model defines none', () => {
    // Which markers a model has depends on its type and vocabulary (the tiny-random phi3 fixture has bot/eot).
    for (const name of ['bot', 'eot', 'bor', 'eor'] as const) {
      let answer: number | Error;
      try {
        answer = model.tokenizer[`${name}TokenId`];
      } catch (err) {
        answer = err as Error;
      }
      if (typeof answer === 'number') expect(Number.isInteger(answer)).toBe(true);
      else expect(answer).toEqual(new GenAIError(`${name}_token_id is not defined for this model`));
    }
    expect(() => model.tokenizer.borTokenId).toThrow(GenAIError);
  });

  it('rejects non-integer token ids with a ValidationError', () => {
    expect(() => model.tokenizer.decode([1.5])).toThrow(ValidationError);
    expect(() => model.tokenizer.decode('abc' as unknown as number[])).toThrow(ValidationError);
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
    for (const get of [() => tokenizer.bosTokenId, () => tokenizer.padTokenId, () => tokenizer.eosTokenIds, () => tokenizer.botTokenId]) {
      expect(get).toThrow(DisposedError);
    }
  });
});
