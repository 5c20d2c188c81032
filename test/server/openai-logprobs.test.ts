import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../src/genai/index.js';
import { fixtureModel } from '../helpers/fixtures.js';
import { serveChatAndCompletions, type Served } from '../helpers/serving.js';

// logprobs / top_logprobs in OpenAI's shapes, from the native token loop, through the `openai` client,
// on tiny-random (greedy): the values are the model's own (model.generate's, which test/genai/logprobs
// checks against a log-softmax of getLogits()).

const messages = [{ role: 'user' as const, content: 'Say something' }];
const MAX = 10;

let served: Awaited<ReturnType<typeof serveChatAndCompletions>>;
let chatServed: Served;
let completionsServed: Served;
let reference: Model;

beforeAll(async () => {
  served = await serveChatAndCompletions('ortgenai-logprobs-', fixtureModel('tiny-random'), { max_tokens: MAX, temperature: 0 });
  chatServed = served.chat;
  completionsServed = served.completions;
  reference = await Model.load(fixtureModel('tiny-random'));
});

afterAll(async () => {
  await served?.close();
  reference?.dispose();
});

describe('chat logprobs', () => {
  it('returns each token with its logprob and top_logprobs, the model\'s own values', async () => {
    const answer = await chatServed.client.chat.completions.create({ model: 'm', messages, logprobs: true, top_logprobs: 3 });
    const [choice] = answer.choices;
    const content = choice.logprobs!.content!;
    expect(content).toHaveLength(answer.usage!.completion_tokens);
    expect(content.map((t) => t.token).join('')).toBe(choice.message.content);
    const prompt = reference.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
    const direct = await reference.generate(prompt, { maxTokens: MAX, temperature: 0, logprobs: 3 });
    content.forEach((t, i) => {
      expect(t.logprob).toBeCloseTo(direct.logprobs![i].logprob, 5);
      expect(t.bytes).toEqual(Array.from(Buffer.from(t.token)));
      expect(t.top_logprobs).toHaveLength(3);
      expect(t.top_logprobs.map((a) => a.logprob)).toEqual(direct.logprobs![i].top.map((a) => expect.closeTo(a.logprob, 5)));
      expect(t.top_logprobs[0].logprob).toBeCloseTo(t.logprob, 5); // greedy: the chosen token is the most likely
    });
  });

  it('streams them in the chunks, adding up to the same list', async () => {
    const whole = await chatServed.client.chat.completions.create({ model: 'm', messages, logprobs: true, top_logprobs: 2 });
    const stream = await chatServed.client.chat.completions.create({ model: 'm', messages, logprobs: true, top_logprobs: 2, stream: true });
    const streamed: OpenAI.ChatCompletionTokenLogprob[] = [];
    for await (const chunk of stream) streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []));
    expect(streamed).toEqual(whole.choices[0].logprobs!.content);
  });

  it('gives none unless asked, and refuses top_logprobs without logprobs', async () => {
    const plain = await chatServed.client.chat.completions.create({ model: 'm', messages });
    expect(plain.choices[0].logprobs ?? null).toBeNull();
    const err = await chatServed.client.chat.completions.create({ model: 'm', messages, top_logprobs: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toMatch(/top_logprobs: needs logprobs: true/);
  });
});

describe('legacy completions logprobs', () => {
  it('returns tokens, token_logprobs, top_logprobs and text_offset, streamed alike', async () => {
    const completions = completionsServed.client;
    const answer = await completions.completions.create({ model: 'm', prompt: 'The the, and', logprobs: 2 });
    const lp = answer.choices[0].logprobs!;
    expect(lp.tokens!.join('')).toBe(answer.choices[0].text);
    expect(lp.token_logprobs).toHaveLength(lp.tokens!.length);
    expect(lp.text_offset![0]).toBe(0);
    lp.tokens!.forEach((t, i) => i > 0 && expect(lp.text_offset![i]).toBe(lp.text_offset![i - 1] + lp.tokens![i - 1].length));
    lp.top_logprobs!.forEach((top) => expect(Object.keys(top).length).toBeLessThanOrEqual(2));
    const stream = await completions.completions.create({ model: 'm', prompt: 'The the, and', logprobs: 2, stream: true });
    const tokens: string[] = [];
    const offsets: number[] = [];
    for await (const chunk of stream) {
      tokens.push(...(chunk.choices[0].logprobs?.tokens ?? []));
      offsets.push(...(chunk.choices[0].logprobs?.text_offset ?? []));
    }
    expect(tokens).toEqual(lp.tokens);
    expect(offsets).toEqual(lp.text_offset);
  });
});
