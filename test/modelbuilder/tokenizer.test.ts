import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import r50kRanks from 'gpt-tokenizer/bpeRanks/r50k_base';
import { encode as gpt2Encode } from 'gpt-tokenizer/encoding/r50k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/modelbuilder/index.js';
import { BYTE_TO_UNICODE } from '../../src/modelbuilder/tokenizer/byte-unicode.js';
import { PHI3_CHAT_TEMPLATE, PHI3_CHAT_TOKENS, type BuiltTokenizer, buildTokenizer } from '../../src/modelbuilder/tokenizer/index.js';
import { Model } from '../../src/index.js';
import { FIXTURE_PRESETS, FIXTURE_SEED, fixtureModel, sharedModel } from '../helpers/fixtures.js';

const built = buildTokenizer();
const tokenizerJson = JSON.parse(built.files['tokenizer.json']);
const tokenizerConfig = JSON.parse(built.files['tokenizer_config.json']);
const built32k = buildTokenizer({ kind: 'gpt2-phi3-32k' });
const tokenizerJson32k = JSON.parse(built32k.files['tokenizer.json']);
const tokenizerConfig32k = JSON.parse(built32k.files['tokenizer_config.json']);

const SPECIAL_IDS: Record<string, number> = {
  '<|endoftext|>': 50256,
  '<|system|>': 50257,
  '<|user|>': 50258,
  '<|assistant|>': 50259,
  '<|end|>': 50260,
};

/** Phi-3-mini's added tokens at its own ids (microsoft/Phi-3-mini-4k-instruct added_tokens.json). */
const PHI3_MINI_IDS: Record<string, number> = {
  '<|endoftext|>': 32000,
  '<|assistant|>': 32001,
  '<|placeholder1|>': 32002,
  '<|placeholder2|>': 32003,
  '<|placeholder3|>': 32004,
  '<|placeholder4|>': 32005,
  '<|system|>': 32006,
  '<|end|>': 32007,
  '<|placeholder5|>': 32008,
  '<|placeholder6|>': 32009,
  '<|user|>': 32010,
};

/** A model folder with the 32k tokenizer: tiny-random's graph, 32064 rows wide. */
let dir32k: string;
beforeAll(async () => {
  dir32k = await mkdtemp(path.join(os.tmpdir(), 'ortgenai-tokenizer-32k-'));
  await buildModel({ preset: 'tiny-random', outDir: dir32k, seed: FIXTURE_SEED, force: true, tokenizer: 'gpt2-phi3-32k' });
});
afterAll(() => rm(dir32k, { recursive: true, force: true }));

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
  // GPT-2 tokens of rank 32000 and up, which the 32k tokenizer splits.
  ' SolidGoldMagikarp',
  'Internationalization, photosynthesis and antidisestablishmentarianism',
];

/** Text with special tokens: each must be one id, the text around it tokenized as GPT-2 does. */
const SPECIAL_SAMPLES = ['<|user|>\nHi<|end|>\n<|assistant|>\n', 'text<|endoftext|>more', 'a <|system|> b<|end|>', 'x<|placeholder5|>y'];

/** Special tokens as their ids, the text between them encoded by `plain`. */
function withSpecials(text: string, specials: Record<string, number>, plain: (s: string) => number[]): number[] {
  const pattern = new RegExp(Object.keys(specials).map((t) => t.replace(/[|]/g, '\\|')).join('|'), 'g');
  const ids: number[] = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    ids.push(...plain(text.slice(last, m.index)), specials[m[0]]);
    last = m.index + m[0].length;
  }
  ids.push(...plain(text.slice(last)));
  return ids;
}

/** GPT-2's ids from gpt-tokenizer's own encoder, with our special tokens split out first. */
const gpt2Ids = (text: string) => withSpecials(text, SPECIAL_IDS, gpt2Encode);

const utf8 = new TextEncoder();
const bytesOf = (rank: number) => {
  const t = r50kRanks[rank];
  return String.fromCharCode(...(typeof t === 'string' ? utf8.encode(t) : t));
};
const RANK_BY_BYTES = new Map(r50kRanks.map((_, rank) => [bytesOf(rank), rank]));

/**
 * A GPT-2 token as the 32k tokenizer must give it: itself below rank 32000, otherwise the pieces GPT-2 built
 * it from — BPE over its bytes with only ranks below 32000 (tiktoken's rule, on gpt-tokenizer's rank table).
 */
function piecesBelow32k(id: number): number[] {
  if (id < 32000) return [id];
  const parts = Array.from(bytesOf(id));
  for (;;) {
    let best = -1;
    let bestRank = 32000;
    for (let i = 0; i + 1 < parts.length; i++) {
      const rank = RANK_BY_BYTES.get(parts[i] + parts[i + 1]);
      if (rank !== undefined && rank < bestRank) [best, bestRank] = [i, rank];
    }
    if (best < 0) return parts.map((p) => RANK_BY_BYTES.get(p)!);
    parts.splice(best, 2, parts[best] + parts[best + 1]);
  }
}

/** The 32k tokenizer's ids: GPT-2's, with tokens of rank 32000 and up split, Phi-3-mini's special ids. */
const ids32k = (text: string) => withSpecials(text, PHI3_MINI_IDS, (s) => gpt2Encode(s).flatMap(piecesBelow32k));

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

describe('gpt2-phi3-32k files: Phi-3-mini-shaped', () => {
  it("keeps GPT-2's first 32000 ranks and the merges that make them, in GPT-2's order", () => {
    const { vocab, merges } = tokenizerJson32k.model as { vocab: Record<string, number>; merges: string[] };
    expect(Object.keys(vocab)).toHaveLength(32000);
    expect(Object.entries(vocab).filter(([token, id]) => tokenizerJson.model.vocab[token] !== id || id >= 32000)).toEqual([]);
    expect(merges).toEqual(tokenizerJson.model.merges.slice(0, 32000 - 256));
    expect(tokenizerJson32k.pre_tokenizer).toEqual(tokenizerJson.pre_tokenizer);
    expect(tokenizerJson32k.decoder).toEqual(tokenizerJson.decoder);
  });

  it("adds Phi-3-mini's special tokens at Phi-3-mini's ids, for a 32064-row model", () => {
    expect(built32k.specialTokens).toEqual(PHI3_MINI_IDS);
    expect(tokenizerJson32k.added_tokens).toEqual(
      Object.entries(PHI3_MINI_IDS).map(([content, id]) => expect.objectContaining({ id, content, special: true, lstrip: false, rstrip: false })),
    );
    expect(Object.keys(tokenizerConfig32k.added_tokens_decoder)).toEqual(Object.values(PHI3_MINI_IDS).map(String));
    expect(built32k.vocabSize).toBe(32011);
    expect(built32k.modelVocabSize).toBe(32064);
    // Phi-3-mini's genai_config.json: eos [<|end|>, <|assistant|>, <|endoftext|>], pad <|endoftext|>.
    expect(built32k.eosTokenIds).toEqual([32007, 32001, 32000]);
    expect(built32k.padTokenId).toBe(32000);
    expect(built32k.bosTokenId).toBe(32000);
    expect(tokenizerConfig32k).toMatchObject({ chat_template: PHI3_CHAT_TEMPLATE, eos_token: '<|endoftext|>', tokenizer_class: 'GPT2Tokenizer' });
  });

  it('the samples hold tokens on both sides of rank 32000, and the rare ones split into what GPT-2 merged', () => {
    const rare = PLAIN_SAMPLES.flatMap((text) => gpt2Encode(text)).filter((id) => id >= 32000);
    expect(rare.length).toBeGreaterThanOrEqual(5);
    expect(PLAIN_SAMPLES.filter((text) => gpt2Encode(text).every((id) => id < 32000)).length).toBeGreaterThanOrEqual(10);
    for (const id of rare) {
      const pieces = piecesBelow32k(id);
      expect(pieces.length, String(id)).toBeGreaterThan(1);
      expect(pieces.every((p) => p < 32000)).toBe(true);
      expect(pieces.map(bytesOf).join('')).toBe(bytesOf(id));
    }
  });

  it('a model built with it is 32064 wide in genai_config.json', async () => {
    const config = JSON.parse(await readFile(path.join(dir32k, 'genai_config.json'), 'utf8'));
    expect(config.model).toMatchObject({ vocab_size: 32064, eos_token_id: [32007, 32001, 32000], pad_token_id: 32000, bos_token_id: 32000 });
  });
});

interface Case {
  name: string;
  built: BuiltTokenizer;
  specials: Record<string, number>;
  /** The ids the tokenizer must produce, from gpt-tokenizer's GPT-2 encoder. */
  ids: (text: string) => number[];
}
const GPT2_CASE: Case = { name: 'gpt2-phi3', built, specials: SPECIAL_IDS, ids: gpt2Ids };
const CASE_32K: Case = { name: 'gpt2-phi3-32k', built: built32k, specials: PHI3_MINI_IDS, ids: ids32k };

describe.each([GPT2_CASE, CASE_32K])('HF transformers.js reading the $name files', ({ built, ids }) => {
  const hf = new PreTrainedTokenizer(JSON.parse(built.files['tokenizer.json']), JSON.parse(built.files['tokenizer_config.json']));

  it("encodes to gpt-tokenizer's GPT-2 ids (split below rank 32000 for 32k) and decodes back", () => {
    for (const text of [...PLAIN_SAMPLES, ...SPECIAL_SAMPLES]) {
      expect(hf.encode(text, { add_special_tokens: false }), text).toEqual(ids(text));
    }
    for (const text of PLAIN_SAMPLES) expect(hf.decode(ids(text)), text).toBe(text);
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

const ORT_CASES = [
  ...FIXTURE_PRESETS.map((preset) => ({ ...GPT2_CASE, name: `the ${preset} fixture`, dir: () => fixtureModel(preset) })),
  { ...CASE_32K, name: 'a tiny-random model with the gpt2-phi3-32k tokenizer', dir: () => dir32k },
];

describe.each(ORT_CASES)('ORT-GenAI tokenizer of $name', ({ built, specials, ids, dir }) => {
  let model: Model;
  let tokenizer: Model['tokenizer'];

  beforeAll(async () => {
    model = await Model.load(dir());
    tokenizer = model.tokenizer;
  });
  afterAll(() => model?.dispose());

  it("encodes to gpt-tokenizer's GPT-2 ids (split below rank 32000 for 32k), special tokens as single ids", () => {
    for (const text of [...PLAIN_SAMPLES, ...SPECIAL_SAMPLES]) {
      expect(Array.from(tokenizer.encode(text)), text).toEqual(ids(text));
    }
    for (const [content, id] of Object.entries(specials)) {
      expect(tokenizer.toTokenId(content)).toBe(id);
      expect(Array.from(tokenizer.encode(content))).toEqual([id]);
    }
  });

  it('round-trips text; decoding leaves special tokens out', () => {
    for (const text of PLAIN_SAMPLES) expect(tokenizer.decode(tokenizer.encode(text)), text).toBe(text);
    expect(tokenizer.decode(tokenizer.encode('<|user|>\nHi<|end|>\n'))).toBe('\nHi\n');
  });

  it("decodes the model's highest id (for 32k a padding row, which a random model may pick) without failing", () => {
    const [hello, world] = Array.from(tokenizer.encode('Hello world'));
    const stream = tokenizer.createStream();
    try {
      const padding = built.modelVocabSize - 1;
      expect(tokenizer.decode([hello, padding, world])).toBe('Hello world');
      expect([hello, padding, world].map((id) => stream.decode(id)).join('')).toBe('Hello world');
    } finally {
      stream.dispose();
    }
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
