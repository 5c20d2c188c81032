import { gpt2Bpe } from './gpt2-bpe.js';
import { PHI3_CHAT_TEMPLATE, PHI3_CHAT_TOKENS } from './phi3-chat.js';

export { PHI3_CHAT_TEMPLATE, PHI3_CHAT_TOKENS } from './phi3-chat.js';

export type TokenizerKind = 'gpt2-phi3';

export interface TokenizerOptions {
  /** `gpt2-phi3` (the only kind so far): GPT-2's byte-level BPE plus Phi-3's chat tokens and template. */
  kind?: TokenizerKind;
  /** Written as `model_max_length`; the model's context length. */
  contextLength?: number;
}

export interface BuiltTokenizer {
  /** File name -> contents, to write into the model folder next to genai_config.json. */
  files: Record<string, string>;
  /** Number of token ids (the largest id + 1); the model's vocab_size must be at least this. */
  vocabSize: number;
  bosTokenId: number;
  /** End-of-sequence ids for genai_config's `eos_token_id`: `<|endoftext|>`, then `<|end|>`. */
  eosTokenIds: number[];
  padTokenId: number;
  /** Every special token's id, GPT-2's `<|endoftext|>` included. */
  specialTokens: Record<string, number>;
}

const END_OF_TEXT = '<|endoftext|>';
const cache = new Map<string, BuiltTokenizer>();
let cachedTokenizerJson: string | undefined;

/**
 * HF `tokenizers` files (tokenizer.json, tokenizer_config.json, special_tokens_map.json) that ORT-GenAI's
 * tokenizer (onnxruntime-extensions) and HF transformers load. The vocabulary is GPT-2's real one, so text
 * tokenizes as it does for GPT-2. Built once per process and option set: the fixtures need it fast.
 */
export function buildTokenizer(opts: TokenizerOptions = {}): BuiltTokenizer {
  const kind = opts.kind ?? 'gpt2-phi3';
  const key = `${kind}:${opts.contextLength ?? ''}`;
  let built = cache.get(key);
  if (!built) {
    built = buildGpt2Phi3(opts.contextLength);
    cache.set(key, built);
  }
  // Callers may edit what they get back; the cached files are immutable strings.
  return { ...built, files: { ...built.files }, eosTokenIds: [...built.eosTokenIds], specialTokens: { ...built.specialTokens } };
}

function buildGpt2Phi3(contextLength: number | undefined): BuiltTokenizer {
  const bpe = gpt2Bpe();
  const specialTokens: Record<string, number> = { [END_OF_TEXT]: bpe.endOfTextId };
  PHI3_CHAT_TOKENS.forEach((token, i) => (specialTokens[token] = bpe.endOfTextId + 1 + i));
  const specials = Object.entries(specialTokens).map(([content, id]) => ({ id, ...addedTokenFlags(content) }));
  const endOfText = specialTokens[END_OF_TEXT];

  const tokenizerConfig = {
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(specials.map(({ id, ...token }) => [String(id), token])),
    additional_special_tokens: [...PHI3_CHAT_TOKENS],
    bos_token: END_OF_TEXT,
    chat_template: PHI3_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: END_OF_TEXT,
    ...(contextLength === undefined ? {} : { model_max_length: contextLength }),
    pad_token: END_OF_TEXT,
    // GPT2: onnxruntime-extensions then adds no BOS/EOS of its own, like GPT-2.
    tokenizer_class: 'GPT2Tokenizer',
    unk_token: END_OF_TEXT,
  };

  const specialTokensMap = {
    additional_special_tokens: [...PHI3_CHAT_TOKENS],
    bos_token: END_OF_TEXT,
    eos_token: END_OF_TEXT,
    pad_token: END_OF_TEXT,
    unk_token: END_OF_TEXT,
  };

  return {
    files: {
      'tokenizer.json': tokenizerJson(specials),
      'tokenizer_config.json': JSON.stringify(tokenizerConfig, null, 2),
      'special_tokens_map.json': JSON.stringify(specialTokensMap, null, 2),
    },
    vocabSize: Math.max(...Object.values(specialTokens)) + 1,
    bosTokenId: endOfText,
    eosTokenIds: [endOfText, specialTokens['<|end|>']],
    padTokenId: endOfText,
    specialTokens,
  };
}

/** tokenizer.json does not depend on the options: serialized once (1.3 MB). */
function tokenizerJson(specials: object[]): string {
  if (cachedTokenizerJson) return cachedTokenizerJson;
  const bpe = gpt2Bpe();
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials,
    normalizer: null,
    // GPT-2's pre-tokenization: its regex split, then bytes -> printable characters.
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(bpe.vocab),
      merges: bpe.merges,
    },
  };
  cachedTokenizerJson = JSON.stringify(json);
  return cachedTokenizerJson;
}

/** Special tokens match verbatim: no stripping of neighbouring spaces, no normalization. */
function addedTokenFlags(content: string) {
  return { content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}
