/** Phi-3's chat markers, added after GPT-2's vocabulary as special tokens (each encodes to one id). */
export const PHI3_CHAT_TOKENS = ['<|system|>', '<|user|>', '<|assistant|>', '<|end|>'] as const;

/**
 * Phi-3-mini's chat format: `<|role|>\ncontent<|end|>\n` per message, then `<|assistant|>\n` when a reply
 * is wanted. Plain Jinja that ORT-GenAI's template engine (minja) and HF transformers both render.
 */
export const PHI3_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";
