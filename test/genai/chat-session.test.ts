import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatSession, ContextOverflowError, DisposedError, GenAIError, Model, ValidationError, type ChatMessage } from '../../src/index.js';
import { fixtureModel } from '../helpers/fixtures.js';

// tiny-random re-encodes its own answers to the ids it generated, so the KV cache carries over whole; tiny-deterministic's
// answers ('0123...') re-encode to other ids, so its turns take the rewind path.

/** The answer a fresh generation (its own Generator, no reuse) gives after `messages`. */
async function freshAnswer(model: Model, messages: ChatMessage[], maxTokens: number): Promise<string> {
  return (await model.generate(model.tokenizer.applyChatTemplate(messages), { maxTokens })).text;
}

describe('ChatSession on tiny-random', () => {
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(fixtureModel('tiny-random'), { threads: 1 });
  });
  afterAll(() => model.dispose());

  it('appends only the new turn on the second turn, and answers as a fresh generation of the conversation does', async () => {
    using chat = await ChatSession.create(model, { systemPrompt: 'You are terse.', maxTokens: 8 });
    const first = await chat.generate('Hello there');
    const t1 = chat.lastTurn!;
    expect(first.finishReason).toBe('length');
    expect(t1).toMatchObject({ reusedTokens: 0, rewound: false, trimmed: false, generatedTokens: 8 });
    expect(t1.appendedTokens).toBe(t1.promptTokens);
    expect(t1.ttftMs).toBeGreaterThan(0);
    expect(chat.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(first.text).toBe(await freshAnswer(model, chat.messages.slice(0, 2), 8));

    const second = await chat.generate('And again?');
    const t2 = chat.lastTurn!;
    // Everything the first turn left in the cache is reused: its prompt and its answer but the last token, which
    // (with the next turn's ids) is all that is prefilled again.
    const held = t1.promptTokens + first.tokens.length - 2;
    expect(t2).toMatchObject({ reusedTokens: held, rewound: false, trimmed: false });
    expect(t2.appendedTokens).toBe(t2.promptTokens - held);
    const rendered = model.tokenizer.encode(model.tokenizer.applyChatTemplate(chat.messages.slice(0, 4)));
    expect(t2.promptTokens).toBe(rendered.length);
    expect(second.text).toBe(await freshAnswer(model, chat.messages.slice(0, 4), 8));
  });

  it('with reuseCache false prefills everything every turn and says the same', async () => {
    const answers = async (reuseCache: boolean) => {
      using chat = await ChatSession.create(model, { maxTokens: 6, reuseCache });
      const texts = [];
      for (const q of ['one', 'two', 'three']) texts.push((await chat.generate(q)).text);
      return { texts, last: chat.lastTurn! };
    };
    const reusing = await answers(true);
    const fresh = await answers(false);
    expect(fresh.texts).toEqual(reusing.texts);
    expect(fresh.last.reusedTokens).toBe(0);
    expect(reusing.last.reusedTokens).toBeGreaterThan(0);
  });

  it('streams the answer it records; /reset and a new system prompt rewind to what still holds', async () => {
    using chat = await ChatSession.create(model, { maxTokens: 6 });
    const stream = chat.stream('Hello there');
    const chunks: string[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.join('')).toBe((await stream.result).text);
    expect(chat.messages.at(-1)).toEqual({ role: 'assistant', content: chunks.join('') });

    chat.systemPrompt = 'Be brief.';
    const after = await chat.generate('Hello there');
    expect(chat.lastTurn).toMatchObject({ rewound: true, reusedTokens: 0 });
    expect(after.text).toBe(await freshAnswer(model, chat.messages.slice(0, 4), 6));

    chat.reset();
    expect(chat.messages).toEqual([{ role: 'system', content: 'Be brief.' }]);
    const again = await chat.generate('Hello there');
    expect(chat.lastTurn!.rewound).toBe(true);
    expect(again.text).toBe(await freshAnswer(model, chat.messages.slice(0, 2), 6));
  });

  it('drops the oldest turns when the context would overflow, keeping the system prompt', async () => {
    using chat = await ChatSession.create(model, { systemPrompt: 'sys', maxTokens: 100 });
    await chat.generate('first question');
    await chat.generate('second question');
    expect(chat.lastTurn!.trimmed).toBe(false);
    // 512 tokens of context: two turns of ~110 tokens leave no room for 400 more.
    const third = await chat.generate('third question', { maxTokens: 400 });
    expect(chat.lastTurn!.trimmed).toBe(true);
    expect(chat.lastTurn!.promptTokens + 400).toBeLessThanOrEqual(512);
    const kept = chat.messages;
    expect(kept[0]).toEqual({ role: 'system', content: 'sys' });
    expect(kept.at(-2)).toEqual({ role: 'user', content: 'third question' });
    expect(kept.map((m) => m.content)).not.toContain('first question');
    expect(third.text).toBe(await freshAnswer(model, kept.slice(0, -1), 400));
  });

  it('keeps within a contextLength of its own, smaller than the model\'s', async () => {
    using chat = await ChatSession.create(model, { maxTokens: 40, contextLength: 120 });
    for (const q of ['first question', 'second question', 'third question']) {
      const answer = await chat.generate(q);
      expect(chat.lastTurn!.promptTokens + 40).toBeLessThanOrEqual(120);
      expect(answer.text).toBe(await freshAnswer(model, chat.messages.slice(0, -1), 40));
    }
    expect(chat.lastTurn!.trimmed).toBe(true);
    await expect(ChatSession.create(model, { contextLength: 513 })).rejects.toThrow(/exceeds the model's context_length 512/);
  });

  it('replaces the dropped turns by the summary a summarize function writes', async () => {
    const summarized: ChatMessage[][] = [];
    const summarize = async (dropped: ChatMessage[]) => {
      summarized.push(dropped);
      return `summary of ${dropped.length} messages`;
    };
    using chat = await ChatSession.create(model, { contextPolicy: 'summarize', summarize, maxTokens: 100 });
    await chat.generate('first question');
    await chat.generate('second question');
    const third = await chat.generate('third question', { maxTokens: 400 });
    expect(summarized).toHaveLength(1);
    expect(summarized[0][0]).toEqual({ role: 'user', content: 'first question' });
    const kept = chat.messages;
    expect(kept[0]).toEqual({ role: 'system', content: `summary of ${summarized[0].length} messages` });
    expect(kept.at(-2)).toEqual({ role: 'user', content: 'third question' });
    expect(chat.lastTurn!.trimmed).toBe(true);
    expect(third.text).toBe(await freshAnswer(model, kept.slice(0, -1), 400));
  });

  it('refuses a summary that is not text, and keeps the conversation as it was', async () => {
    using chat = await ChatSession.create(model, { contextPolicy: 'summarize', summarize: async () => 42 as never, maxTokens: 100 });
    await chat.generate('first question');
    await chat.generate('second question');
    const before = chat.messages;
    const error = await chat.generate('third question', { maxTokens: 400 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe('summarize must resolve with the summary as a string, not number');
    expect(chat.messages).toEqual(before);
  });

  it('takes a custom policy, and trims what it leaves too long rather than fail', async () => {
    const seen: number[] = [];
    using chat = await ChatSession.create(model, {
      maxTokens: 100,
      contextPolicy: (messages, window) => {
        seen.push(messages.length);
        expect(window.fits(messages)).toBe(false);
        expect(window.contextLength).toBe(512);
        return messages; // changes nothing: the session still makes it fit
      },
    });
    await chat.generate('first question');
    await chat.generate('second question');
    await chat.generate('third question', { maxTokens: 400 });
    expect(seen).toEqual([5]);
    expect(chat.lastTurn!.trimmed).toBe(true);
    expect(chat.messages.at(-2)).toEqual({ role: 'user', content: 'third question' });
  });

  it('refuses a message that cannot fit even alone, before generating, and goes on', async () => {
    using chat = await ChatSession.create(model, { maxTokens: 8 });
    await chat.generate('Hello there');
    const before = chat.messages;
    await expect(chat.generate('word '.repeat(600))).rejects.toThrow(ContextOverflowError);
    expect(chat.messages).toEqual(before);
    const next = await chat.generate('And again?');
    expect(next.text).toBe(await freshAnswer(model, chat.messages.slice(0, -1), 8));
  });

  it('stops an answer on abort, keeps what was said, and the next turn is as a fresh generation', async () => {
    using chat = await ChatSession.create(model, { maxTokens: 200 });
    const controller = new AbortController();
    const stream = chat.stream('Hello there', { signal: controller.signal });
    for await (const _ of stream) controller.abort();
    const aborted = await stream.result;
    expect(aborted.finishReason).toBe('abort');
    expect(aborted.completionTokens).toBeLessThan(200);
    expect(chat.messages.at(-1)).toEqual({ role: 'assistant', content: aborted.text });
    const next = await chat.generate('And again?', { maxTokens: 8 });
    expect(next.finishReason).toBe('length');
    expect(next.text).toBe(await freshAnswer(model, chat.messages.slice(0, -1), 8));
    // An already aborted signal answers nothing, and the conversation still goes on.
    const none = await chat.generate('Anyone?', { signal: AbortSignal.abort() });
    expect(none).toMatchObject({ finishReason: 'abort', text: '' });
    const after = await chat.generate('Still there?', { maxTokens: 8 });
    expect(after.text).toBe(await freshAnswer(model, chat.messages.slice(0, -1), 8));
  });

  it('ends an answer at a stop string, and the next turn is as a fresh generation', async () => {
    using chat = await ChatSession.create(model, { maxTokens: 20 });
    const full = await chat.generate('Hello there');
    chat.reset();
    const stop = full.text.slice(5, 8);
    const cut = await chat.generate('Hello there', { stop: [stop] });
    expect(cut.finishReason).toBe('stop');
    expect(cut.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
    const next = await chat.generate('And again?', { maxTokens: 8 });
    expect(next.text).toBe(await freshAnswer(model, chat.messages.slice(0, -1), 8));
  });

  it('answers one message at a time', async () => {
    using chat = await ChatSession.create(model, { maxTokens: 8 });
    const first = chat.generate('Hello there');
    await expect(chat.generate('Me too')).rejects.toThrow(GenAIError);
    await first;
    expect(chat.messages).toHaveLength(2);
  });

  it('frees its generator on dispose (and with `using`); use afterwards is a DisposedError', async () => {
    let scoped: ChatSession;
    {
      using chat = await ChatSession.create(model);
      scoped = chat;
      expect(chat.disposed).toBe(false);
    }
    expect(scoped.disposed).toBe(true);
    await expect(scoped.generate('Hello')).rejects.toThrow(DisposedError);
    expect(() => scoped.reset()).toThrow(DisposedError);
    const chat = await ChatSession.create(model);
    chat.dispose();
    await expect(chat.stream('Hello').result).rejects.toThrow(DisposedError);
  });

  it('validates its options with zod, naming the option', async () => {
    await expect(ChatSession.create(model, { maxToken: 5 } as never)).rejects.toThrow(/did you mean 'maxTokens'/);
    await expect(ChatSession.create(model, { temperature: -1 })).rejects.toThrow(ValidationError);
    await expect(ChatSession.create(model, { contextPolicy: 'summarize' })).rejects.toThrow(/summarize function/);
    await expect(ChatSession.create(model, { contextPolicy: 'oldest' as never })).rejects.toThrow(ValidationError);
    using chat = await ChatSession.create(model);
    await expect(chat.generate('')).rejects.toThrow(ValidationError);
    await expect(chat.generate('hi', { maxTokens: 0 })).rejects.toThrow(/maxTokens/);
    await expect(chat.generate('hi', { stops: ['x'] } as never)).rejects.toThrow(/did you mean 'stop'/);
    expect(() => (chat.systemPrompt = 5 as never)).toThrow(ValidationError);
    expect(chat.messages).toEqual([]);
  });

  it('refuses text with a lone surrogate up front, and the conversation goes on', async () => {
    await expect(ChatSession.create(model, { systemPrompt: 'be \ud800 brief' })).rejects.toThrow(/systemPrompt: must be Unicode text/);
    using chat = await ChatSession.create(model, { maxTokens: 2 });
    const error = await chat.generate('a\udc00b').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe('a chat message must be Unicode text (it holds a lone UTF-16 surrogate)');
    expect(() => (chat.systemPrompt = '\ud83d')).toThrow(/must be Unicode text/);
    expect(chat.messages).toEqual([]);
    await chat.generate('an emoji \ud83d\ude00 is a pair, and fine');
    expect(chat.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
  });
});

describe('ChatSession on tiny-deterministic', () => {
  it('rewinds to the common prefix where its answers re-encode to other ids, and answers as a fresh generation does', async () => {
    using model = await Model.load(fixtureModel('tiny-deterministic'), { threads: 1 });
    using chat = await ChatSession.create(model, { systemPrompt: 'sys', maxTokens: 10 });
    const first = await chat.generate('Hello there');
    const t1 = chat.lastTurn!;
    const second = await chat.generate('And again?');
    const t2 = chat.lastTurn!;
    expect(t2.rewound).toBe(true);
    expect(t2.reusedTokens).toBeGreaterThanOrEqual(t1.promptTokens - 1);
    expect(t2.reusedTokens).toBeLessThan(t1.promptTokens + first.tokens.length - 2);
    expect(t2.appendedTokens).toBe(t2.promptTokens - t2.reusedTokens);
    expect(second.text).toBe(await freshAnswer(model, chat.messages.slice(0, -1), 10));
  });
});
