import type { Tokenizer, TokenLogprob } from '../../genai/index.js';
import type { ChatCompletionRequest, ChatLogprobs, CompletionLogprobs, CompletionRequest } from './schemas.js';

/**
 * Token log-probabilities (computed in the native token loop) in OpenAI's two shapes: chat's
 * `{content: [{token, logprob, bytes, top_logprobs}]}` and legacy completions' `{tokens, token_logprobs,
 * top_logprobs, text_offset}`. A chosen token's text is the text it added to the answer, so the tokens
 * concatenate to the content; alternatives are decoded alone.
 */

/** How many alternatives a request wants per token, or undefined for no logprobs. */
export function requestedLogprobs(request: Partial<ChatCompletionRequest | CompletionRequest>): number | undefined {
  if (typeof request.logprobs === 'number') return request.logprobs;
  if (request.logprobs === true) return ('top_logprobs' in request ? request.top_logprobs : undefined) ?? 0;
  return undefined;
}

const bytes = (text: string) => Array.from(Buffer.from(text, 'utf8'));

/** Decodes token ids alone, each once per answer. */
export class TokenTexts {
  readonly #cache = new Map<number, string>();
  constructor(readonly tokenizer: Tokenizer) {}

  of(id: number): string {
    let text = this.#cache.get(id);
    if (text === undefined) {
      text = this.tokenizer.decode([id]);
      this.#cache.set(id, text);
    }
    return text;
  }
}

export function chatLogprobs(entries: readonly TokenLogprob[], texts: TokenTexts): ChatLogprobs {
  return {
    content: entries.map((e) => ({
      token: e.text,
      logprob: e.logprob,
      bytes: bytes(e.text),
      top_logprobs: e.top.map((t) => {
        const token = texts.of(t.token);
        return { token, logprob: t.logprob, bytes: bytes(token) };
      }),
    })),
    refusal: null,
  };
}

/** `offset` is where the first token's text starts in the choice's text (streams continue from it). */
export function completionLogprobs(entries: readonly TokenLogprob[], texts: TokenTexts, offset = 0): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  for (const e of entries) {
    out.tokens.push(e.text);
    out.token_logprobs.push(e.logprob);
    out.top_logprobs.push(Object.fromEntries(e.top.map((t) => [texts.of(t.token), t.logprob])));
    out.text_offset.push(offset);
    offset += e.text.length;
  }
  return out;
}
