import { type BpeModel, gpt2Bpe, gpt2BpePrefix } from './gpt2-bpe.js';
import { PHI3_CHAT_TEMPLATE, PHI3_CHAT_TOKENS, PHI3_MINI_ADDED_TOKENS, PHI3_MINI_VOCAB } from './phi3-chat.js';

export { PHI3_CHAT_TEMPLATE, PHI3_CHAT_TOKENS, PHI3_MINI_ADDED_TOKENS, PHI3_MINI_VOCAB } from './phi3-chat.js';

export const TOKENIZER_KINDS = ['gpt2-phi3', 'gpt2-phi3-32k'] as const;
export type TokenizerKind = (typeof TOKENIZER_KINDS)[number];

export interface TokenizerOptions {
  /**
   * `gpt2-phi3` (default): GPT-2's whole byte-level BPE (50257 ids), then Phi-3's chat tokens.
   * `gpt2-phi3-32k`: Phi-3-mini's shape — GPT-2's first 32000 ranks, then Phi-3-mini's added tokens at
   * Phi-3-mini's own ids (32000..32010), for models 32064 wide like Phi-3-mini.
   * Both carry Phi-3's chat template.
   */
  kind?: TokenizerKind;
  /** Written as `model_max_length`; the model's context length. */
  contextLength?: number;
}

export interface BuiltTokenizer {
  kind: TokenizerKind;
  /** File name -> contents, to write into the model folder next to genai_config.json. */
  files: Record<string, string>;
  /** Number of token ids (the largest id + 1). */
  vocabSize: number;
  /**
   * Embedding and lm_head rows of a model using this tokenizer: `vocabSize`, or more where the original model
   * pads (Phi-3-mini: 32011 ids in 32064 rows; the extra rows are ids the tokenizer never produces).
   */
  modelVocabSize: number;
  bosTokenId: number;
  /** End-of-sequence ids for genai_config's `eos_token_id`, in the order that file lists them. */
  eosTokenIds: number[];
  padTokenId: number;
  /** Every added (special) token's id. */
  specialTokens: Record<string, number>;
}

const END_OF_TEXT = '<|endoftext|>';

/** What distinguishes the kinds; everything else about the files is shared. */
interface KindSpec {
  bpe: () => BpeModel;
  specialTokens: () => Record<string, number>;
  /** By content; `<|endoftext|>` is bos, pad and unk in both kinds (GPT-2 has no other). */
  eosTokens: string[];
  modelVocabSize?: number;
}

const KINDS: Record<TokenizerKind, KindSpec> = {
  'gpt2-phi3': {
    // GPT-2's tokenizer.json keeps <|endoftext|> in the BPE vocab too, at 50256.
    bpe: gpt2Bpe,
    specialTokens: () => {
      const { endOfTextId } = gpt2Bpe();
      const tokens: Record<string, number> = { [END_OF_TEXT]: endOfTextId };
      PHI3_CHAT_TOKENS.forEach((token, i) => (tokens[token] = endOfTextId + 1 + i));
      return tokens;
    },
    eosTokens: [END_OF_TEXT, '<|end|>'],
  },
  'gpt2-phi3-32k': {
    bpe: () => gpt2BpePrefix(32000),
    specialTokens: () => ({ ...PHI3_MINI_ADDED_TOKENS }),
    // Phi-3-mini's genai_config.json: stop at <|end|>, at a new <|assistant|> turn, or at <|endoftext|>.
    eosTokens: ['<|end|>', '<|assistant|>', END_OF_TEXT],
    modelVocabSize: PHI3_MINI_VOCAB,
  },
};

/** A kind's byte-level BPE (vocab and merges), for writers of other formats (GGUF). */
export function tokenizerBpe(kind: TokenizerKind): BpeModel {
  return KINDS[kind].bpe();
}

const cache = new Map<string, BuiltTokenizer>();
const tokenizerJsonCache = new Map<TokenizerKind, string>();

/**
 * HF `tokenizers` files (tokenizer.json, tokenizer_config.json, special_tokens_map.json) that ORT-GenAI's
 * tokenizer (onnxruntime-extensions) and HF transformers load. The vocabulary is GPT-2's real one (whole or
 * its first 32000 ranks), so text tokenizes as it does for GPT-2. Built once per process and option set:
 * the fixtures need it fast.
 */
export function buildTokenizer(opts: TokenizerOptions = {}): BuiltTokenizer {
  const kind = opts.kind ?? 'gpt2-phi3';
  const key = `${kind}:${opts.contextLength ?? ''}`;
  let built = cache.get(key);
  if (!built) {
    built = build(kind, opts.contextLength);
    cache.set(key, built);
  }
  // Callers may edit what they get back; the cached files are immutable strings.
  return { ...built, files: { ...built.files }, eosTokenIds: [...built.eosTokenIds], specialTokens: { ...built.specialTokens } };
}

function build(kind: TokenizerKind, contextLength: number | undefined): BuiltTokenizer {
  const spec = KINDS[kind];
  const specialTokens = spec.specialTokens();
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

  const vocabSize = Math.max(...Object.values(specialTokens)) + 1;
  return {
    kind,
    files: {
      'tokenizer.json': tokenizerJson(kind, specials),
      'tokenizer_config.json': JSON.stringify(tokenizerConfig, null, 2),
      'special_tokens_map.json': JSON.stringify(specialTokensMap, null, 2),
    },
    vocabSize,
    modelVocabSize: spec.modelVocabSize ?? vocabSize,
    bosTokenId: endOfText,
    eosTokenIds: spec.eosTokens.map((token) => specialTokens[token]),
    padTokenId: endOfText,
    specialTokens,
  };
}

/** tokenizer.json depends only on the kind: serialized once per kind (up to 1.3 MB). */
function tokenizerJson(kind: TokenizerKind, specials: object[]): string {
  const cached = tokenizerJsonCache.get(kind);
  if (cached) return cached;
  const bpe = KINDS[kind].bpe();
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
  const text = JSON.stringify(json);
  tokenizerJsonCache.set(kind, text);
  return text;
}

/** Special tokens match verbatim: no stripping of neighbouring spaces, no normalization. */
function addedTokenFlags(content: string) {
  return { content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}
