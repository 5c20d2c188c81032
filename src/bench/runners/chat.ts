// ChatSession: the TTFT of a conversation's second turn (the prompt sent again after the first answer), with the
// first turn's KV cache reused ('chat') or the whole conversation prefilled again ('chat-fresh': reuseCache
// false). The first turn is what the generate runner measures. promptTokens is the whole templated conversation
// (what a fresh generation prefills), so prefill_tps shows what reuse saves.
import { ChatSession } from '../../index.js';
import { GenerationClock } from '../clock.js';
import type { ConcurrencyMode, Generation } from '../protocol.js';
import { unsupported, type LoadRunner } from '../runner.js';
import { loadModel } from './stepwise.js';

export function chatRunner(reuseCache: boolean): LoadRunner {
  const name = reuseCache ? 'chat' : 'chat-fresh';
  return async (spec) => {
    if (spec.batch !== 1) throw new Error(`the ${name} runner holds one conversation; run it with --batch 1`);
    const model = await loadModel(spec);
    // A message of about the prompt's length in tokens (the synthetic prompt ids need not decode to text).
    const message = Array.from(spec.promptIds, () => 'the').join(' ');

    async function generate(mode: ConcurrencyMode): Promise<Generation> {
      if (mode !== 'sequential') return unsupported(name, mode);
      using session = await ChatSession.create(model, { maxTokens: spec.genTokens, reuseCache });
      await session.generate(message);
      const clock = new GenerationClock();
      const stream = session.stream(message);
      for await (const chunk of stream) if (chunk) clock.step();
      const result = await stream.result;
      // Other prompts than the C++ loop's (the chat template's), so no token comparison with it.
      return { timing: clock.finish(session.lastTurn!.promptTokens, 1, result.completionTokens), tokens: [] };
    }

    return { generate, dispose: () => model.dispose() };
  };
}

export const load = chatRunner(true);
