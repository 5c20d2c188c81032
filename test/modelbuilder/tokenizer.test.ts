import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { encode as gpt2Encode } from 'gpt-tokenizer/encoding/r50k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BYTE_TO_UNICODE } from '../../src/modelbuilder/tokenizer/byte-unicode.js';
import { PHI3_CHAT_TEMPLATE, PHI3_CHAT_TOKENS, buildTokenizer } from '../../src/modelbuilder/tokenizer/index.js';
import { Model } from '../../src/index.js';
import { FIXTURE_PRESETS, fixtureModel, sharedModel } from '../helpers/fixtures.js';

const built = buildTokenizer();
const tokenizerJson = JSON.parse(built.files['tokenizer.json']);
const tokenizerConfig = JSON.parse(built.files['tokenizer_config.json']);

const SPECIAL_IDS: Record<string, number> = {
  '<|endoftext|>': 50256,
  '<|system|>': 50257,
  '<|user|>': 50258,
  '<|assistant|>': 50259,
  '<|end|>': 50260,
};

/** Text without special tokens: every tokenizer must give GPT-2's ids and decode back to the same text. */
const PLAIN_SAMPLES = [
  'Hello world',
  ' leading space',
  'trailing space ',
  'multiple   spaces   inside',
  'tabs\tand\nnewlines\r\n',
  '\n\n\n',
  '    indented code',
  ' '.repeat(20) + 'x',
  "It's we'll they're I'm you've he'd",
  'Café déjà vu naïve façade Ångström',
  'Ünïcödé \u00a0 nbsp and \u200b zero width',
  'ÿþ\u0001\u001f control bytes',
  '日本語のテキストと中文字符',
  '한국어 텍스트',
  'Здравствуй, мир',
  'مرحبا بالعالم',
  'नमस्ते दुनिया',
  '😀 emoji 👩‍👩‍👧‍👦 family 🇫🇷 flag 🤖🤖🤖',
  '€100 £50 ¥1000 and 3.14159, mixed123numbers4567',
  'function f(x) { return x * 2; } // code',
  'The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX!',
  'x'.repeat(300),
];

/** Text with special tokens: each must be one id, the text around it tokenized as GPT-2 does. */
const SPECIAL_SAMPLES = ['<|user|>\nHi<|end|>\n<|assistant|>\n', 'text<|endoftext|>more', 'a <|system|> b<|end|>'];

/** GPT-2's ids from gpt-tokenizer's own encoder, with our special tokens split out first. */
function gpt2Ids(text: string): number[] {
  const ids: number[] = [];
  let last = 0;
  for (const m of text.matchAll(/<\|(?:endoftext|system|user|assistant|end)\|>/g)) {
    ids.push(...gpt2Encode(text.slice(last, m.index)), SPECIAL_IDS[m[0]]);
    last = m.index + m[0].length;
  }
  ids.push(...gpt2Encode(text.slice(last)));
  return ids;
}

describe('buildTokenizer files', () => {
  it('is a byte-level BPE tokenizer.json with the GPT-2 regex pre-tokenizer and ByteLevel decoder', () => {
    expect(tokenizerJson.pre_tokenizer).toMatchObject({ type: 'ByteLevel', add_prefix_space: false, use_regex: true });
    expect(tokenizerJson.decoder).toMatchObject({ type: 'ByteLevel' });
    expect(tokenizerJson.normalizer).toBeNull();
    const { model } = tokenizerJson;
    expect(model).toMatchObject({ type: 'BPE', byte_fallback: false, continuing_subword_prefix: '', end_of_word_suffix: '' });
    expect(Object.keys(model.vocab)).toHaveLength(50257);
    expect(new Set(Object.values(model.vocab)).size).toBe(50257);
    expect(model.vocab['<|endoftext|>']).toBe(50256);
    expect(model.merges).toHaveLength(50000);
  });

  it('merges are ordered like GPT-2: merge i joins two earlier tokens into token 256 + i', () => {
    const { vocab, merges } = tokenizerJson.model as { vocab: Record<string, number>; merges: string[] };
    const wrong = merges.filter((merge, i) => {
      const [left, right, extra] = merge.split(' ');
      return extra !== undefined || !(vocab[left] < 256 + i) || !(vocab[right] < 256 + i) || vocab[left + right] !== 256 + i;
    });
    expect(wrong).toEqual([]);
  });

  it('spells bytes with GPT-2 bytes_to_unicode', () => {
    expect(new Set(BYTE_TO_UNICODE).size).toBe(256);
    expect(BYTE_TO_UNICODE[0x20]).toBe('Ġ');
    expect(BYTE_TO_UNICODE[0x0a]).toBe('Ċ');
    expect(BYTE_TO_UNICODE[0x41]).toBe('A');
    expect(BYTE_TO_UNICODE[0xff]).toBe('ÿ');
    expect(tokenizerJson.model.vocab['Ġthe']).toBe(262);
  });

  it('adds the Phi-3 chat tokens as special tokens right after the GPT-2 vocabulary', () => {
    expect(built.specialTokens).toEqual(SPECIAL_IDS);
    expect(built.vocabSize).toBe(50261);
    expect(built.bosTokenId).toBe(50256);
    expect(built.padTokenId).toBe(50256);
    expect(built.eosTokenIds).toEqual([50256, 50260]);
    expect(tokenizerJson.added_tokens).toEqual(
      Object.entries(SPECIAL_IDS).map(([content, id]) =>
        expect.objectContaining({ id, content, special: true, normalized: false, lstrip: false, rstrip: false }),
      ),
    );
    for (const [content, id] of Object.entries(SPECIAL_IDS)) {
      expect(tokenizerConfig.added_tokens_decoder[String(id)]).toMatchObject({ content, special: true });
    }
    expect(tokenizerConfig.additional_special_tokens).toEqual([...PHI3_CHAT_TOKENS]);
  });

  it('configures the tokenizer class, special token roles and the Phi-3 chat template', () => {
    expect(tokenizerConfig).toMatchObject({
      tokenizer_class: 'GPT2Tokenizer',
      add_bos_token: false,
      add_eos_token: false,
      bos_token: '<|endoftext|>',
      eos_token: '<|endoftext|>',
      pad_token: '<|endoftext|>',
      unk_token: '<|endoftext|>',
      chat_template: PHI3_CHAT_TEMPLATE,
    });
    expect(tokenizerConfig).not.toHaveProperty('model_max_length');
    const withContext = JSON.parse(buildTokenizer({ contextLength: 4096 }).files['tokenizer_config.json']);
    expect(withContext.model_max_length).toBe(4096);
    expect(JSON.parse(built.files['special_tokens_map.json'])).toMatchObject({ eos_token: '<|endoftext|>' });
  });

  it('hands each caller its own copy of the cached result', () => {
    const a = buildTokenizer();
    a.eosTokenIds.push(1);
    a.specialTokens['<|x|>'] = 1;
    a.files['extra.json'] = '{}';
    expect(buildTokenizer()).toEqual(built);
  });

  for (const rel of ['hf-internal-testing/tiny-random-gpt2-fp32']) {
    const dir = sharedModel(rel);
    if (!dir) continue;
    it(`vocab and merges are exactly GPT-2's own (${rel})`, () => {
      const reference = JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')).model;
      expect(tokenizerJson.model.vocab).toEqual(reference.vocab);
      expect(tokenizerJson.model.merges).toEqual(reference.merges);
    });
  }
});

describe('HF transformers.js reading the files', () => {
  const hf = new PreTrainedTokenizer(tokenizerJson, tokenizerConfig);

  it("encodes to gpt-tokenizer's GPT-2 ids and decodes back", () => {
    for (const text of [...PLAIN_SAMPLES, ...SPECIAL_SAMPLES]) {
      expect(hf.encode(text, { add_special_tokens: false }), text).toEqual(gpt2Ids(text));
    }
    for (const text of PLAIN_SAMPLES) expect(hf.decode(gpt2Ids(text)), text).toBe(text);
  });

  it('renders the Phi-3 chat format', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ];
    expect(hf.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true })).toBe(
      '<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n',
    );
  });
});

describe.each(FIXTURE_PRESETS)('ORT-GenAI tokenizer of the %s fixture', (preset) => {
  let model: Model;
  let tokenizer: Model['tokenizer'];

  beforeAll(async () => {
    model = await Model.load(fixtureModel(preset));
    tokenizer = model.tokenizer;
  });
  afterAll(() => model?.dispose());

  it("encodes to gpt-tokenizer's GPT-2 ids, special tokens as single ids", () => {
    for (const text of [...PLAIN_SAMPLES, ...SPECIAL_SAMPLES]) {
      expect(Array.from(tokenizer.encode(text)), text).toEqual(gpt2Ids(text));
    }
    for (const [content, id] of Object.entries(SPECIAL_IDS)) {
      expect(tokenizer.toTokenId(content)).toBe(id);
      expect(Array.from(tokenizer.encode(content))).toEqual([id]);
    }
  });

  it('round-trips text; decoding leaves special tokens out', () => {
    for (const text of PLAIN_SAMPLES) expect(tokenizer.decode(tokenizer.encode(text)), text).toBe(text);
    expect(tokenizer.decode(tokenizer.encode('<|user|>\nHi<|end|>\n'))).toBe('\nHi\n');
  });

  it('streams multi-byte characters whole, even when a token ends mid-character', () => {
    const text = '😀 Café 日本語 🇫🇷';
    const ids = tokenizer.encode(text);
    const stream = tokenizer.createStream();
    try {
      let out = '';
      for (const id of ids) out += stream.decode(id);
      expect(out).toBe(text);
    } finally {
      stream.dispose();
    }
  });

  it('applies the Phi-3 chat template', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'Bye' },
    ];
    const rendered = '<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n<|user|>\nBye<|end|>\n';
    expect(tokenizer.applyChatTemplate(messages)).toBe(`${rendered}<|assistant|>\n`);
    expect(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: false })).toBe(rendered);
    expect(tokenizer.applyChatTemplate(JSON.stringify(messages), { addGenerationPrompt: false })).toBe(rendered);
  });

  it('agrees with genai_config on bos, eos and pad ids', () => {
    expect(tokenizer.bosTokenId).toBe(built.bosTokenId);
    expect(tokenizer.padTokenId).toBe(built.padTokenId);
    expect(tokenizer.eosTokenIds).toEqual(built.eosTokenIds);
  });
});
