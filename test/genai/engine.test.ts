import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Config, DisposedError, Engine, GenAIError, Model, ValidationError, type GenerateResult } from '../../src/index.js';
import { fixtureModel } from '../helpers/fixtures.js';
import { ENGINE_API, GENAI_VERSION, PROMPT_IDS, SHARED_GPT2, testModels } from './models.js';
import { expectCleanTerminationMidRun } from './terminate-worker.js';

// Prompts of different lengths (so the engine's batches need padding), valid in every fixture's vocabulary.
const PROMPTS = Array.from({ length: 6 }, (_, i) => Array.from({ length: 2 + i }, (_, k) => 100 + 37 * k + 11 * i));

const plain = (r: GenerateResult) => ({ ...r, tokens: Array.from(r.tokens) });

// ORT-GenAI schedules decoder-only models (0.15.2 through the OgaEngineStep API, 0.18.0 through OgaEngineRun, both
// static batches of 4 on CPU); GPT-2 graphs are refused at creation (tested below). The CPU static batching is only
// right for GroupQueryAttention graphs like tiny-random's (the layout of the official Phi-3 CPU builds): on
// tiny-deterministic (explicit position_ids, Concat KV cache) a batch of prompts of different lengths diverges from
// solo generation and fails once one request finishes first. See the README's Engine notes.
describe.each([{ name: 'tiny-random', dir: fixtureModel('tiny-random') }])(`Engine (${ENGINE_API} API, ORT-GenAI ${GENAI_VERSION}) on $name`, ({ dir }) => {
  let model: Model;
  let solo: GenerateResult[];
  beforeAll(async () => {
    model = await Model.load(dir, { threads: 1 });
    solo = [];
    for (const p of PROMPTS) solo.push(await model.generate(p, { maxTokens: 12 }));
  });
  afterAll(() => model.dispose());

  it('runs concurrent requests (more than one static batch) with the same greedy results as solo generations', async () => {
    using engine = await Engine.create(model);
    const results = await Promise.all(PROMPTS.map((p) => engine.generate(p, { maxTokens: 12 })));
    expect(results.map(plain)).toEqual(solo.map(plain));
    // Streams interleaved with plain requests: same text, chunk by chunk.
    const streams = PROMPTS.slice(0, 3).map((p) => engine.stream(p, { maxTokens: 12 }));
    const others = PROMPTS.slice(3).map((p) => engine.generate(p, { maxTokens: 12 }));
    const texts = await Promise.all(
      streams.map(async (s) => {
        let text = '';
        for await (const chunk of s) text += chunk;
        return text;
      }),
    );
    expect(texts).toEqual(solo.slice(0, 3).map((r) => r.text));
    expect((await Promise.all(others)).map(plain)).toEqual(solo.slice(3).map(plain));
  });

  it('requests submitted together start in the same static batch: each has its first token before any finishes', async () => {
    using engine = await Engine.create(model);
    const events: string[] = [];
    const run = async (p: number[], i: number) => {
      let first = true;
      for await (const chunk of engine.stream(p, { maxTokens: 12 })) {
        if (chunk && first) events.push(`first ${i}`);
        if (chunk) first = false;
      }
      events.push(`end ${i}`);
    };
    // Four: the size of one static batch in 0.15.2. Had the first request started alone, it would end before
    // the other three got a token.
    await Promise.all(PROMPTS.slice(0, 4).map(run));
    const firstEnd = events.findIndex((e) => e.startsWith('end'));
    expect(events.slice(0, firstEnd).sort()).toEqual(['first 0', 'first 1', 'first 2', 'first 3']);
  });

  it('applies stop strings and sampling options per request', async () => {
    using engine = await Engine.create(model);
    const full = solo[0];
    const pieces = Array.from(full.tokens, (t) => model.tokenizer.decode([t]));
    const stop = pieces.find((p, i) => i >= 2 && p.trim().length > 0)!;
    const expected = await model.generate(PROMPTS[0], { maxTokens: 12, stop: [stop] });
    const sampled = { maxTokens: 10, temperature: 0.9, topK: 40 };
    const [cut, a, b] = await Promise.all([
      engine.generate(PROMPTS[0], { maxTokens: 12, stop: [stop] }),
      engine.generate(PROMPTS[1], sampled),
      engine.generate(PROMPTS[1], sampled),
    ]);
    expect(plain(cut)).toEqual(plain(expected));
    expect(cut.finishReason).toBe('stop');
    expect([a.completionTokens, b.completionTokens]).toEqual([10, 10]);
    const seeded = { ...sampled, seed: 5 };
    if (ENGINE_API === 'step') {
      // 0.15: the seed is a search option of the request's own generator state.
      const [c, d] = await Promise.all([engine.generate(PROMPTS[1], seeded), engine.generate(PROMPTS[1], seeded)]);
      expect(Array.from(d.tokens)).toEqual(Array.from(c.tokens));
    } else {
      // 0.18: a seed is a turn option that static batching (all the CPU has) refuses, and says so.
      const err = await engine.generate(PROMPTS[1], seeded).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GenAIError);
      expect((err as Error).message).toBe('A per-turn seed requires an Engine configured for dynamic batching.');
    }
    // A sampled request that failed leaves the engine serving.
    expect(plain(await engine.generate(PROMPTS[2], { maxTokens: 12 }))).toEqual(plain(solo[2]));
  });

  it('aborts one request at once while the others run to the end', async () => {
    using engine = await Engine.create(model);
    const controller = new AbortController();
    const aborted = engine.stream(PROMPTS[0], { maxTokens: 200, signal: controller.signal });
    const others = PROMPTS.slice(1, 4).map((p) => engine.generate(p, { maxTokens: 12 }));
    let chunks = 0;
    for await (const chunk of aborted) {
      expect(chunk.length).toBeGreaterThan(0);
      if (++chunks === 2) controller.abort();
    }
    const result = await aborted.result;
    expect(result.finishReason).toBe('abort');
    expect(result.completionTokens).toBeLessThan(200);
    expect(result.text).toBe(model.tokenizer.decode(result.tokens));
    expect((await Promise.all(others)).map(plain)).toEqual(solo.slice(1, 4).map(plain));
    // A signal that fired before the call: nothing runs, and the engine keeps serving.
    const early = await engine.generate(PROMPTS[0], { signal: AbortSignal.abort() });
    expect(early).toMatchObject({ finishReason: 'abort', completionTokens: 0, text: '' });
    expect(plain(await engine.generate(PROMPTS[5], { maxTokens: 12 }))).toEqual(plain(solo[5]));
  });

  it('rejects requests in flight with DisposedError on dispose, then refuses new ones; the model keeps working', async () => {
    const engine = await Engine.create(model);
    // The stream is in the first static batch, so its first chunk means the engine is mid-generation.
    const stream = engine.stream(PROMPTS[0], { maxTokens: 400 });
    const inFlight = PROMPTS.slice(1).map((p) => engine.generate(p, { maxTokens: 400 }));
    const settled = Promise.allSettled([stream.result, ...inFlight]);
    expect((await stream[Symbol.asyncIterator]().next()).done).toBe(false);
    engine.dispose();
    expect(engine.disposed).toBe(true);
    for (const outcome of await settled) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(DisposedError);
    }
    await expect(engine.generate(PROMPTS[0])).rejects.toThrow(DisposedError);
    await expect(engine.stream(PROMPTS[0]).result).rejects.toThrow('Engine has been disposed');
    engine.dispose();
    expect(plain(await model.generate(PROMPTS[0], { maxTokens: 12 }))).toEqual(plain(solo[0]));
  });

  it('a worker terminated while its Engine is stepping neither crashes the process nor its exit', async () => {
    // Only the worker uses the addon: its environment teardown (the executor's shutdown) must end the step loop
    // before the addon goes.
    expectCleanTerminationMidRun(dir, { engine: true });
  });

  it('refuses what the Engine cannot run with a ValidationError', async () => {
    using engine = await Engine.create(model);
    await expect(engine.generate(PROMPT_IDS, { searchOptions: { num_beams: 4 } })).rejects.toThrow(/not beam search/);
    await expect(engine.generate(PROMPT_IDS, { guidance: { type: 'regex', data: 'a+' } })).rejects.toThrow(ValidationError);
    await expect(engine.generate([], {})).rejects.toThrow(ValidationError);
    expect(plain(await engine.generate(PROMPTS[2], { maxTokens: 12 }))).toEqual(plain(solo[2]));
  });
});

// tiny-deterministic continues x0, x0+1, ... so a prompt just below the EOS id (50256) ends on EOS after two tokens.
describe(`a request that ends on EOS through the Engine (${ENGINE_API} API, ORT-GenAI ${GENAI_VERSION})`, () => {
  it(ENGINE_API === 'events' ? "ends as 'stop', as model.generate() does" : 'fails in the 0.15.2 library, and the engine keeps serving', async () => {
    using model = await Model.load(fixtureModel('tiny-deterministic'), { threads: 1 });
    const prompt = [50252, 50253];
    const solo = await model.generate(prompt, { maxTokens: 8 });
    expect([Array.from(solo.tokens), solo.finishReason]).toEqual([[50254, 50255], 'stop']);
    using engine = await Engine.create(model);
    if (ENGINE_API === 'events') {
      // 0.16+ reports the EOS as a finish reason instead of a token; the addon hands JS the token, as 0.15 does.
      expect(plain(await engine.generate(prompt, { maxTokens: 8 }))).toEqual(plain(solo));
    } else {
      const err = await engine.generate(prompt, { maxTokens: 8 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GenAIError);
      expect((err as Error).message).toBe('Expected at least one request to be ready, but none were found.');
      // The step loop started over with a fresh engine.
      expect((await engine.generate([7, 8, 9], { maxTokens: 3 })).tokens).toEqual(Int32Array.from([10, 11, 12]));
    }
  });
});

// tiny-deterministic continues a prompt x0..xk with xk+1, xk+2, ...: easy to tell where a request was cut.
describe(`a request's length limit through the Engine (${ENGINE_API} API, ORT-GenAI ${GENAI_VERSION})`, () => {
  const prompt = Array.from({ length: 8 }, (_, i) => 100 + i);
  const after = (n: number) => Array.from({ length: n }, (_, i) => 108 + i);
  it(
    ENGINE_API === 'events'
      ? "is the configured search.max_length (the maxLength load option): a longer request ends there as 'length', a prompt that fills it is a ValidationError"
      : "is each request's own max_length: 0.15.2 sizes requests by it and ignores search.max_length",
    async () => {
      using model = await Model.load(fixtureModel('tiny-deterministic'), { threads: 1, maxLength: 16 });
      // A Generator of its own is sized by its request, whatever the configuration says.
      expect(Array.from((await model.generate(prompt, { maxTokens: 12 })).tokens)).toEqual(after(12));
      using engine = await Engine.create(model);
      const cut = await engine.generate(prompt, { maxTokens: 12 });
      const full = Array.from({ length: 16 }, (_, i) => 100 + i);
      if (ENGINE_API === 'events') {
        expect([Array.from(cut.tokens), cut.finishReason]).toEqual([after(8), 'length']);
        const err = await engine.generate(full, { maxTokens: 4 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as Error).message).toBe(
          "the prompt has 16 tokens but this Engine's request limit (genai_config search.max_length; Model.load's maxLength option sets it) is 16",
        );
      } else {
        expect([Array.from(cut.tokens), cut.finishReason]).toEqual([after(12), 'length']);
        expect(Array.from((await engine.generate(full, { maxTokens: 4 })).tokens)).toEqual([116, 117, 118, 119]);
      }
      // The engine serves on after the refusal.
      expect(Array.from((await engine.generate([7, 8, 9], { maxTokens: 3 })).tokens)).toEqual([10, 11, 12]);
    },
  );
});

describe(`an Engine step that fails in the library (${ENGINE_API} API, ORT-GenAI ${GENAI_VERSION})`, () => {
  it('fails the requests it held with the library\'s cause, and the next request gets a fresh engine', async () => {
    // Dynamic batching feeds packed 1-D input_ids, which a CPU graph without PagedAttention refuses at the first step.
    const config = await Config.load(fixtureModel('tiny-random'));
    config.overlay({ engine: { dynamic_batching: { block_size: 16, num_blocks: 64, max_batch_size: 4 } } });
    using model = await Model.load(config, { threads: 1 });
    using engine = await Engine.create(model);
    const outcomes = await Promise.allSettled(PROMPTS.slice(0, 2).map((p) => engine.generate(p, { maxTokens: 4 })));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as Error;
      expect(reason).toBeInstanceOf(GenAIError);
      expect(reason.message).toContain('Invalid rank for input: input_ids Got: 1 Expected: 2');
    }
    // The engine the failure left behind is replaced: the next request fails the same way, not with a stale state.
    await expect(engine.generate(PROMPTS[0], { maxTokens: 4 })).rejects.toThrow(/Invalid rank for input: input_ids/);
  });
});

describe.each([GENAI_VERSION])('Engine on models ORT-GenAI %s cannot schedule', () => {
  let dir: string;
  beforeAll(() => {
    // Our fixture declared as GPT-2: it loads as a model, and the library refuses to build an Engine for it.
    dir = mkdtempSync(path.join(tmpdir(), 'ortgenai-engine-gpt2-'));
    cpSync(fixtureModel('tiny-random'), dir, { recursive: true });
    const config = JSON.parse(readFileSync(path.join(dir, 'genai_config.json'), 'utf8'));
    config.model.type = 'gpt2';
    writeFileSync(path.join(dir, 'genai_config.json'), JSON.stringify(config));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(testModels().filter((m) => m.name === SHARED_GPT2).map((m) => m.dir).concat(['gpt2-typed fixture']))(
    'gives the library error as a GenAIError (%s)',
    async (which) => {
      using model = await Model.load(which === 'gpt2-typed fixture' ? dir : which, { threads: 1 });
      expect(model.type).toBe('gpt2');
      const err = await Engine.create(model).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GenAIError);
      expect((err as Error).message).toBe('The model type is not supported for decoding. Expected a decoder-only model.');
      // The failure is the Engine's alone: the model stays loaded and usable.
      expect(model.tokenizer.decode(model.tokenizer.encode('still here'))).toBe('still here');
    },
  );
});
