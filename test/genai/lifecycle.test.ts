import { readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Adapters, Config, DisposedError, Engine, Generator, GeneratorParams, Model } from '../../src/index.js';
import { fixtureModel } from '../helpers/fixtures.js';
import { HAS_ENGINE, PROMPT_IDS, testModels } from './models.js';

const MiB = 1024 * 1024;

// A real collection is needed to see finalizers run: V8 cannot see the native memory behind our handles.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

async function settle(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    // Finalizers run on the next turns of the event loop.
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().rss;
}

describe.each(testModels())('dispose on $name', ({ dir }) => {
  it('every native owner says whether it is disposed, frees with `using`, and refuses use afterwards', async () => {
    const config = await Config.load(dir);
    using model = await Model.load(dir, { threads: 1 });
    const params = new GeneratorParams(model);
    const generator = await Generator.create(model, params);
    const stream = model.tokenizer.createStream();
    const owners = [config, params, generator, stream];
    expect(owners.map((o) => o.disposed)).toEqual([false, false, false, false]);
    {
      using scoped = model.tokenizer.createStream();
      owners.push(scoped);
    }
    expect(owners[4].disposed).toBe(true);
    for (const owner of owners) owner.dispose();
    expect(owners.map((o) => o.disposed)).toEqual([true, true, true, true, true]);
    expect(() => params.getSearchOption('max_length')).toThrow(DisposedError);
    expect(() => stream.decode(PROMPT_IDS[0])).toThrow(DisposedError);
    expect(() => generator.isDone()).toThrow(DisposedError);
    expect(() => config.appendProvider('cpu')).toThrow(DisposedError);
  });

  it('Model and Adapters are native owners too: disposed, `using`, DisposedError afterwards', async () => {
    const model = await Model.load(dir, { threads: 1 });
    const adapters = new Adapters(model);
    expect([model.disposed, adapters.disposed]).toEqual([false, false]);
    let scoped: Adapters;
    {
      using inner = new Adapters(model);
      scoped = inner;
    }
    expect(scoped.disposed).toBe(true);
    adapters.dispose();
    model.dispose();
    expect([model.disposed, adapters.disposed]).toEqual([true, true]);
    expect(() => model.tokenizer).toThrow(DisposedError);
    await expect(model.generate(PROMPT_IDS, { maxTokens: 1 })).rejects.toThrow(DisposedError);
    expect(() => adapters.unloadAdapter('a')).toThrow(DisposedError);
  });
});

// ORT-GenAI >= 0.16 has no Engine for this binding (test/genai/engine.test.ts checks that refusal).
describe.each(HAS_ENGINE ? [{ name: 'tiny-random', dir: fixtureModel('tiny-random') }] : [])('dispose on the Engine of $name', ({ dir }) => {
  it('is a native owner: disposed, `using`, DisposedError afterwards, the model untouched', async () => {
    using model = await Model.load(dir, { threads: 1 });
    let engine: Engine;
    {
      using scoped = await Engine.create(model);
      engine = scoped;
      expect(engine.disposed).toBe(false);
    }
    expect(engine.disposed).toBe(true);
    await expect(engine.generate(PROMPT_IDS, { maxTokens: 1 })).rejects.toThrow(DisposedError);
    expect(model.disposed).toBe(false);
  });
});

describe.each(testModels())('native memory on $name', ({ dir }) => {
  it('1,000 create/generate/dispose cycles keep RSS within a bounded growth', async () => {
    using model = await Model.load(dir, { threads: 1 });
    const cycle = async () => {
      const params = new GeneratorParams(model);
      params.setSearchOptions({ max_length: PROMPT_IDS.length + 4 });
      const gen = await Generator.create(model, params);
      await gen.appendTokens(PROMPT_IDS);
      await gen.generateNextToken();
      gen.dispose();
      params.dispose();
      const stream = model.tokenizer.createStream();
      stream.decode(PROMPT_IDS[0]);
      stream.dispose();
      await model.generate(PROMPT_IDS, { maxTokens: 3 });
    };
    // Warm up allocator arenas and caches before the baseline.
    for (let i = 0; i < 100; i++) await cycle();
    const before = await settle();
    for (let i = 0; i < 1000; i++) await cycle();
    const growth = (await settle()) - before;
    // Leaking one generator (KV cache, params, stream) per cycle would cost far more than this.
    expect(growth).toBeLessThan(48 * MiB);
  });

  it('objects left to the garbage collector are freed by their finalizers', async () => {
    using model = await Model.load(dir, { threads: 1 });
    const forget = async () => {
      const params = new GeneratorParams(model);
      params.setSearchOptions({ max_length: PROMPT_IDS.length + 2 });
      const gen = await Generator.create(model, params);
      await gen.appendTokens(PROMPT_IDS);
    };
    for (let i = 0; i < 100; i++) await forget();
    const before = await settle();
    for (let i = 0; i < 500; i++) {
      await forget();
      if (i % 50 === 49) await settle();
    }
    expect((await settle()) - before).toBeLessThan(64 * MiB);
  });

  it('model load/dispose cycles release the model', async () => {
    const once = async () => {
      const model = await Model.load(dir, { threads: 1 });
      await model.generate(PROMPT_IDS, { maxTokens: 2 });
      model.dispose();
    };
    for (let i = 0; i < 3; i++) await once();
    const before = await settle();
    for (let i = 0; i < 12; i++) await once();
    expect((await settle()) - before).toBeLessThan(64 * MiB);
  });
});

// Every blocking call runs on the addon's own worker threads (native/executor.cc): work done one call at a time
// stays on one thread, so ONNX Runtime's per-thread allocator state is not spread over many threads.
describe('worker threads', () => {
  const threadCount = () => readdirSync('/proc/self/task').length;

  it('one-at-a-time work reuses one thread; concurrent generations add threads that are then reused', async () => {
    await stat('.'); // libuv's own pool starts on first use: start it now, not between two counts
    const [{ dir }] = testModels();
    using model = await Model.load(dir, { threads: 1 });
    await model.generate(PROMPT_IDS, { maxTokens: 4 });
    const one = threadCount();
    for (let i = 0; i < 10; i++) await model.generate(PROMPT_IDS, { maxTokens: 4 });
    using params = new GeneratorParams(model);
    params.setSearchOptions({ max_length: PROMPT_IDS.length + 8 });
    for (let i = 0; i < 3; i++) {
      using generator = await Generator.create(model, params);
      await generator.appendTokens(PROMPT_IDS);
      while (!generator.isDone()) await generator.generateNextToken();
    }
    expect(threadCount()).toBe(one);

    const run = () => Promise.all(Array.from({ length: 4 }, () => model.generate(PROMPT_IDS, { maxTokens: 64 })));
    await run();
    const four = threadCount();
    expect(four).toBeGreaterThan(one);
    expect(four).toBeLessThanOrEqual(one + 3);
    await run();
    await model.generate(PROMPT_IDS, { maxTokens: 4 });
    expect(threadCount()).toBe(four);
  });
});
