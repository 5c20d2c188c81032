import { type BuiltTokenizer, PHI3_CHAT_TEMPLATE, tokenizerBpe } from '../tokenizer/index.js';
import type { GgufValue } from './container.js';

/** llama_token_type as llama.cpp reads `tokenizer.ggml.token_type`. */
const TOKEN_TYPE = { normal: 1, control: 3, unused: 5 } as const;

/**
 * The `tokenizer.*` metadata llama.cpp needs for our byte-level BPE: model `gpt2` with GPT-2's pre-tokenizer
 * (`gpt-2`: the same split regex), the tokens in their byte-level form by id, the merges in priority order, and
 * the special ids. Rows the tokenizer never produces (Phi-3-mini's 32011..32063) become `[PAD<id>]` unused
 * tokens, as llama.cpp's own converter writes them, so the vocabulary has one entry per embedding row.
 */
export function tokenizerMetadata(tokenizer: BuiltTokenizer): Record<string, GgufValue> {
  const bpe = tokenizerBpe(tokenizer.kind);
  const tokens = Array.from({ length: tokenizer.modelVocabSize }, (_, id) => `[PAD${id}]`);
  const types = new Int32Array(tokenizer.modelVocabSize).fill(TOKEN_TYPE.unused);
  for (const [token, id] of bpe.vocab) {
    tokens[id] = token;
    types[id] = TOKEN_TYPE.normal;
  }
  for (const [token, id] of Object.entries(tokenizer.specialTokens)) {
    tokens[id] = token;
    types[id] = TOKEN_TYPE.control;
  }
  const id = (value: number): GgufValue => ({ type: 'uint32', value });
  const end = tokenizer.specialTokens['<|end|>'];
  return {
    'tokenizer.ggml.model': { type: 'string', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'string', value: 'gpt-2' },
    'tokenizer.ggml.tokens': { type: 'array', itemType: 'string', values: tokens },
    'tokenizer.ggml.token_type': { type: 'array', itemType: 'int32', values: types },
    'tokenizer.ggml.merges': { type: 'array', itemType: 'string', values: bpe.merges },
    'tokenizer.ggml.bos_token_id': id(tokenizer.bosTokenId),
    'tokenizer.ggml.eos_token_id': id(tokenizer.eosTokenIds[0]),
    ...(end === undefined ? {} : { 'tokenizer.ggml.eot_token_id': id(end) }),
    'tokenizer.ggml.padding_token_id': id(tokenizer.padTokenId),
    // Like the tokenizer files (add_bos_token false): prompts are tokenized alike by both runtimes.
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: false },
    'tokenizer.ggml.add_eos_token': { type: 'bool', value: false },
    'tokenizer.chat_template': { type: 'string', value: PHI3_CHAT_TEMPLATE },
  };
}
