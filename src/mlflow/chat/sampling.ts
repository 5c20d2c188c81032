import type { GenerateOptions } from '../../genai/index.js';
import type { ChatCompletionRequest, CompletionRequest, GenerationConfig } from './schemas.js';

/**
 * What an OpenAI or MLflow chat/completions client means by its sampling fields, made explicit for
 * ORT-GenAI (whose model configs, Phi-3's among them, often ship `do_sample: false, top_k: 1`). Each field
 * is the request's, else the model config's (`modelConfig`):
 * - temperature 0: greedy search (`n` choices are then identical, as with OpenAI);
 * - temperature > 0, or any of top_p, top_k, seed, n > 1 without a temperature: sampling at that
 *   temperature (1, OpenAI's default, when none is given) from the whole distribution (top_k 0, top_p 1)
 *   unless top_k / top_p narrow it;
 * - none of them: the model's own search options (genai_config.json), unless the config sets do_sample.
 * `seed` makes sampling reproducible; with n choices, choice i uses seed + i.
 */
export function samplingOptions(request: Partial<ChatCompletionRequest | CompletionRequest>, config: GenerationConfig): Partial<GenerateOptions> {
  const temperature = request.temperature ?? config.temperature ?? undefined;
  const topP = request.top_p ?? config.top_p ?? undefined;
  const topK = request.top_k ?? config.top_k ?? undefined;
  const seed = request.seed ?? config.seed ?? undefined;
  const n = request.n ?? config.n ?? 1;
  if (temperature === 0) return { doSample: false, seed };
  const asked = temperature !== undefined || topP !== undefined || topK !== undefined || seed !== undefined || n > 1;
  if (!asked && config.do_sample !== true) return { doSample: config.do_sample ?? undefined };
  return { doSample: true, temperature: temperature ?? 1, topP: topP ?? 1, topK: topK ?? 0, seed };
}
