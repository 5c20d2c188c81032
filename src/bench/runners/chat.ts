// ChatSession turns, on a conversation of one message of about --prompt-tokens tokens sent twice: 'chat-first'
// times the first turn; 'chat' the second with the first turn's KV cache reused; 'chat-fresh' the second with
// the whole conversation prefilled again (reuseCache false). promptTokens is the whole templated conversation
// (what a fresh generation prefills), so prefill_tps shows what reuse saves.
import { ChatSession } from '../../index.js';
import { GenerationClock } from '../clock.js';
import type { ConcurrencyMode, Generation } from '../protocol.js';
import { unsupported, type LoadRunner } from '../runner.js';
import { loadModel } from './stepwise.js';

export type ChatTurn = 'first' | 'reused' | 'fresh';

const NAMES: Record<ChatTurn, string> = { first: 'chat-first', reused: 'chat', fresh: 'chat-fresh' };

export function chatRunner(turn: ChatTurn): LoadRunner {
  const name = NAMES[turn];
  return async (spec) => {
    if (spec.batch !== 1) throw new Error(`the ${name} runner holds one conversation; run it with --batch 1`);
    const model = await loadModel(spec);
    // A message of about the prompt's length in tokens (the synthetic prompt ids need not decode to text).
    const message = Array.from(spec.promptIds, () => 'the').join(' ');

    async function generate(mode: ConcurrencyMode): Promise<Generation> {
      if (mode !== 'sequential') return unsupported(name, mode);
      using session = await ChatSession.create(model, { maxTokens: spec.genTokens, reuseCache: turn !== 'fresh' });
      if (turn !== 'first') await session.generate(message);
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

export const load = chatRunner('reused');
