/** Phi-3's chat markers, added after GPT-2's vocabulary as special tokens (each encodes to one id). */
export const PHI3_CHAT_TOKENS = ['<|system|>', '<|user|>', '<|assistant|>', '<|end|>'] as const;

/**
 * Phi-3-mini's added tokens at its own ids, in its order (microsoft/Phi-3-mini-4k-instruct added_tokens.json;
 * torchtune's PHI3_SPECIAL_TOKENS lists the same). They follow its 32000-token base vocabulary.
 */
export const PHI3_MINI_ADDED_TOKENS: Readonly<Record<string, number>> = {
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

/** Phi-3-mini's embedding and lm_head rows: its 32011 token ids padded to a multiple of 64. */
export const PHI3_MINI_VOCAB = 32064;

/**
 * Phi-3-mini's chat format: `<|role|>\ncontent<|end|>\n` per message, then `<|assistant|>\n` when a reply
 * is wanted. Plain Jinja that ORT-GenAI's template engine (minja) and HF transformers both render.
 */
export const PHI3_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";
