import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../src/genai/index.js';
import type { TextCompletion } from '../../src/mlflow/index.js';
import { fixtureModel } from '../helpers/fixtures.js';
import { serveChatAndCompletions, type Served } from '../helpers/serving.js';

// Sampling as OpenAI clients mean it, on tiny-random (random weights: a near-flat next-token distribution,
// so any two samples of 12 tokens differ), whose genai_config.json says do_sample false, top_k 1 like
// Phi-3's. The saved model has no sampling config, so only the requests decide.

const messages = [{ role: 'user' as const, content: 'Say something' }];
const MAX = 12;

let served: Awaited<ReturnType<typeof serveChatAndCompletions>>;
let chatServed: Served;
let completionsServed: Served;
let chat: OpenAI;
let reference: Model;

async function say(request: Omit<OpenAI.ChatCompletionCreateParamsNonStreaming, 'model' | 'messages'>): Promise<string[]> {
  const answer = await chat.chat.completions.create({ model: 'tiny-random', messages, max_tokens: MAX, ...request });
  return answer.choices.map((c) => c.message.content ?? '');
}

/** Greedy search with the raw search options, as Python's `do_sample: false` runs it. */
async function greedy(prompt: string): Promise<string> {
  return (await reference.generate(prompt, { maxTokens: MAX, searchOptions: { do_sample: false } })).text;
}

beforeAll(async () => {
  served = await serveChatAndCompletions('ortgenai-sampling-', fixtureModel('tiny-random'), { max_tokens: MAX });
  chatServed = served.chat;
  completionsServed = served.completions;
  chat = chatServed.client;
  reference = await Model.load(fixtureModel('tiny-random'));
});

afterAll(async () => {
  await served?.close();
  reference?.dispose();
});

describe('sampling on /v1/chat/completions', () => {
  it('temperature 0 is greedy search', async () => {
    const prompt = reference.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(await say({ temperature: 0 })).toEqual([await greedy(prompt)]);
    // n choices at temperature 0 are all the greedy answer, as with OpenAI.
    expect(new Set(await say({ temperature: 0, n: 2 })).size).toBe(1);
  });

  it('temperature 1 with different seeds gives different answers, one seed the same answer twice', async () => {
    const [a] = await say({ temperature: 1, seed: 1 });
    const [b] = await say({ temperature: 1, seed: 2 });
    const [again] = await say({ temperature: 1, seed: 1 });
    expect(a).not.toBe(b);
    expect(again).toBe(a);
  });

  it('other temperatures sample too, and are not the greedy answer', async () => {
    const [greedyAnswer] = await say({ temperature: 0 });
    for (const temperature of [0.7, 1.5]) {
      const answers = new Set([...(await say({ temperature, seed: 3 })), ...(await say({ temperature, seed: 4 }))]);
      expect(answers.size).toBe(2);
      expect(answers.has(greedyAnswer)).toBe(false);
    }
  });

  it('n: 4 gives four distinct choices, without a temperature (OpenAI samples at 1 by default)', async () => {
    const choices = await say({ n: 4 });
    expect(choices).toHaveLength(4);
    expect(new Set(choices).size).toBe(4);
  });

  it('top_p alone samples; a seed alone samples reproducibly', async () => {
    expect(new Set([...(await say({ top_p: 0.9, seed: 5 })), ...(await say({ top_p: 0.9, seed: 6 }))]).size).toBe(2);
    expect(await say({ seed: 7 })).toEqual(await say({ seed: 7 }));
    expect(await say({ seed: 7 })).not.toEqual(await say({ seed: 8 }));
  });

  it('top_k 1 narrows sampling back to the greedy answer', async () => {
    expect(await say({ temperature: 1, top_k: 1, seed: 9 } as object)).toEqual(await say({ temperature: 0 }));
  });

  it('a request with no sampling field keeps the model config (greedy here)', async () => {
    expect(await say({})).toEqual(await say({ temperature: 0 }));
  });
});

describe('sampling on /v1/completions and /invocations', () => {
  it('/v1/completions: n: 4 at temperature 1 gives distinct texts; temperature 0 is greedy', async () => {
    const completions = completionsServed.client;
    const sampled = await completions.completions.create({ model: 'tiny-random', prompt: 'The the, and', max_tokens: MAX, temperature: 1, n: 4 });
    expect(new Set(sampled.choices.map((c) => c.text)).size).toBe(4);
    const zero = await completions.completions.create({ model: 'tiny-random', prompt: 'The the, and', max_tokens: MAX, temperature: 0 });
    expect(zero.choices[0].text).toBe(await greedy('The the, and'));
  });

  it('/invocations: the MLflow chat request maps the same way', async () => {
    const post = async (body: object) => {
      const res = await fetch(`${chatServed.server.url}/invocations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      const [completion] = (await res.json()) as { choices: { message: { content: string } }[] }[];
      return completion.choices.map((c) => c.message.content);
    };
    const four = await post({ messages, temperature: 1, n: 4 });
    expect(new Set(four).size).toBe(4);
    expect(await post({ messages, temperature: 1, seed: 11 })).toEqual(await post({ messages, temperature: 1, seed: 11 }));
    expect(await post({ messages, temperature: 0 })).toEqual(await say({ temperature: 0 }));
    const text = (await completionsServed.model.predict({ prompt: 'The the, and', temperature: 0 })) as TextCompletion[];
    expect(text[0].choices[0].text).toBe(await greedy('The the, and'));
  });
});

describe('model.generate (the CLI path) and the raw search options', () => {
  it('a temperature samples the whole distribution; raw search options keep the model config, as in Python', async () => {
    const a = await reference.generate('The the, and', { maxTokens: MAX, temperature: 1, seed: 1 });
    const b = await reference.generate('The the, and', { maxTokens: MAX, temperature: 1, seed: 2 });
    expect(a.text).not.toBe(b.text);
    // do_sample with the config's top_k 1 is greedy, exactly as og.GeneratorParams.set_search_options does it.
    const raw = await reference.generate('The the, and', { maxTokens: MAX, searchOptions: { do_sample: true, random_seed: 1 } });
    expect(raw.text).toBe(await greedy('The the, and'));
  });
});
