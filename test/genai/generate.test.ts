import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/modelbuilder/index.js';
import { Generator, GeneratorParams, Model, ValidationError } from '../../src/index.js';
import { binding } from '../../src/native.js';
import { fixtureModel } from '../helpers/fixtures.js';
import { PROMPT_IDS, PROMPT_TEXT, SHARED_GPT2, testModels } from './models.js';

describe.each(testModels())('generate/stream on $name', ({ dir }) => {
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(dir, { threads: 1 });
  });
  afterAll(() => model.dispose());

  it('generates greedily and reproducibly from text or ids, bounded by maxTokens', async () => {
    const a = await model.generate(PROMPT_TEXT, { maxTokens: 12 });
    const b = await model.generate(new Int32Array(PROMPT_IDS), { maxTokens: 12 });
    expect(a.promptTokens).toBe(PROMPT_IDS.length);
    expect(Array.from(b.tokens)).toEqual(Array.from(a.tokens));
    expect(b.text).toBe(a.text);
    expect(a.completionTokens).toBe(a.tokens.length);
    expect(a.completionTokens).toBeLessThanOrEqual(12);
    if (a.finishReason === 'length') expect(a.completionTokens).toBe(12);
    expect(a.text).toBe(model.tokenizer.decode(a.tokens));
  });

  it('streams the same text generate returns, and reports the result', async () => {
    const expected = await model.generate(PROMPT_IDS, { maxTokens: 20 });
    const stream = model.stream(PROMPT_IDS, { maxTokens: 20 });
    const chunks: string[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const result = await stream.result;
    expect(chunks.join('')).toBe(expected.text);
    expect(result.text).toBe(expected.text);
    expect(Array.from(result.tokens)).toEqual(Array.from(expected.tokens));
  });

  it('cuts text and tokens at the first stop string', async () => {
    const full = await model.generate(PROMPT_IDS, { maxTokens: 30 });
    // A stop string taken from the middle of the greedy output: generation must end right before it.
    const pieces = Array.from(full.tokens, (t) => model.tokenizer.decode([t]));
    const k = pieces.findIndex((p, i) => i >= 3 && p.trim().length > 0);
    const stop = pieces[k];
    const cut = full.text.indexOf(stop);
    const stream = model.stream(PROMPT_IDS, { maxTokens: 30, stop: [stop] });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk;
    const result = await stream.result;
    expect(result.finishReason).toBe('stop');
    expect(result.text).toBe(full.text.slice(0, cut));
    expect(streamed).toBe(result.text);
    expect(model.tokenizer.decode(result.tokens)).toBe(result.text);
  });

  it('samples with a seed reproducibly', async () => {
    const opts = { maxTokens: 10, temperature: 0.9, topK: 50, topP: 0.95, seed: 7 };
    const a = await model.generate(PROMPT_IDS, opts);
    const b = await model.generate(PROMPT_IDS, opts);
    expect(Array.from(b.tokens)).toEqual(Array.from(a.tokens));
  });

  it('runs beam search (num_beams 4)', async () => {
    const r = await model.generate(PROMPT_IDS, { maxTokens: 8, searchOptions: { num_beams: 4 } });
    expect(r.completionTokens).toBeGreaterThan(0);
    expect(r.text).toBe(model.tokenizer.decode(r.tokens));

    using params = new GeneratorParams(model);
    params.setSearchOptions({ max_length: PROMPT_IDS.length + 8, num_beams: 4, num_return_sequences: 2 });
    using gen = await Generator.create(model, params);
    await gen.appendTokens(PROMPT_IDS);
    while (!gen.isDone()) await gen.generateNextToken();
    expect(Array.from(gen.getSequence(0).subarray(0, PROMPT_IDS.length))).toEqual(PROMPT_IDS);
    expect(gen.getSequence(1).length).toBeGreaterThan(PROMPT_IDS.length);
    expect(() => gen.getSequence(2)).toThrow(ValidationError);
  });

  it('keeps the event loop ticking during a 200-token generation', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = ticks;
    const r = await model.generate(PROMPT_IDS, { maxTokens: 200, searchOptions: { min_length: PROMPT_IDS.length + 200 } });
    clearInterval(timer);
    expect(r.completionTokens).toBe(200);
    // A blocked loop would show no ticks at all while the native thread works.
    expect(ticks - started).toBeGreaterThan(0);
  });

  it('stops a running stream within one token on abort, and the model still works afterwards', async () => {
    const controller = new AbortController();
    const stream = model.stream(PROMPT_IDS, {
      maxTokens: 400,
      signal: controller.signal,
      searchOptions: { min_length: PROMPT_IDS.length + 400 },
    });
    let seen = 0;
    for await (const chunk of stream) {
      seen += chunk.length;
      if (seen > 0) controller.abort();
    }
    const result = await stream.result;
    expect(result.finishReason).toBe('abort');
    expect(result.completionTokens).toBeLessThan(400);
    expect(result.text.length).toBe(seen);
    const again = await model.generate(PROMPT_IDS, { maxTokens: 5 });
    expect(again.completionTokens).toBeGreaterThan(0);
  });

  it('returns at once with finishReason abort for an already aborted signal', async () => {
    const r = await model.generate(PROMPT_IDS, { maxTokens: 50, signal: AbortSignal.abort() });
    expect(r).toMatchObject({ finishReason: 'abort', completionTokens: 0, text: '' });
  });

  it('stops when the consumer leaves the stream early', async () => {
    const stream = model.stream(PROMPT_IDS, { maxTokens: 300, searchOptions: { min_length: PROMPT_IDS.length + 300 } });
    for await (const _ of stream) break;
    const result = await stream.result;
    expect(result.finishReason).toBe('abort');
    expect(result.completionTokens).toBeLessThan(300);
  });

  it('rejects invalid options with a ValidationError that names the problem', async () => {
    await expect(model.generate(PROMPT_IDS, { maxTokns: 3 } as never)).rejects.toThrow(/did you mean 'maxTokens'/);
    await expect(model.generate(PROMPT_IDS, { searchOptions: { num_beam: 2 } } as never)).rejects.toThrow(
      /unknown search option 'num_beam' \(did you mean 'num_beams'\?\)/,
    );
    await expect(model.generate(PROMPT_IDS, { temperature: -1 })).rejects.toBeInstanceOf(ValidationError);
    await expect(model.generate(PROMPT_IDS, { searchOptions: { num_beams: 64 } })).rejects.toThrow(/num_beams/);
    await expect(model.generate([], {})).rejects.toThrow(/prompt is empty/);
    await expect(model.generate([model.vocabSize!], {})).rejects.toThrow(/outside the vocabulary/);
    await expect(model.generate(PROMPT_IDS, { searchOptions: { batch_size: 2 } })).rejects.toThrow(/one prompt/);
    // The process and the model are fine afterwards.
    expect((await model.generate(PROMPT_IDS, { maxTokens: 2 })).completionTokens).toBeGreaterThan(0);
  });
});

// Guidance masks the logits by the tokenizer's vocabulary, so it needs a model whose logits cover it: the shared
// GPT-2 has 1000 logits for a 50257-token tokenizer, and the library rejects its picks ("doesn't satisfy the grammar").
describe.each(testModels().filter((m) => m.name !== SHARED_GPT2))('guidance on $name', ({ dir }) => {
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(dir, { threads: 1 });
  });
  afterAll(() => model.dispose());

  it('constrains the output with regex, Lark grammar and JSON-schema guidance', async () => {
    const regex = await model.generate(PROMPT_IDS, { maxTokens: 20, guidance: { type: 'regex', data: '(yes|no) [0-9]{3}' } });
    expect(regex.text).toMatch(/^(yes|no) [0-9]{3}$/);
    expect(regex.finishReason).toBe('stop');

    const lark = await model.generate(PROMPT_IDS, { maxTokens: 10, guidance: { type: 'lark_grammar', data: 'start: "ab" DIGITS\nDIGITS: /[0-9]+/' } });
    expect(lark.text).toMatch(/^ab[0-9]+$/);

    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'], additionalProperties: false, 'x-guidance': { whitespace_flexible: false } };
    const json = await model.generate(PROMPT_IDS, { maxTokens: 20, guidance: { type: 'json_schema', data: JSON.stringify(schema) } });
    expect(json.finishReason).toBe('stop');
    expect(typeof JSON.parse(json.text).ok).toBe('boolean');
    expect(Object.keys(JSON.parse(json.text))).toEqual(['ok']);
  });
});

// A prefill long enough to interrupt: the ~30M-parameter `small` preset with a 1900-token prompt takes
// about a second here, against the few milliseconds of the tiny fixtures.
describe('abort during a long prompt', () => {
  let root: string;
  let model: Model;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'ortgenai-prefill-'));
    await buildModel({ preset: 'small', outDir: root });
    model = await Model.load(root, { threads: 1 });
  });
  afterAll(async () => {
    model?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('interrupts the prefill (terminate_session) instead of waiting for it to end', async () => {
    const prompt = Array.from({ length: 1900 }, (_, i) => 100 + (i % 1000));
    let start = performance.now();
    await model.generate(prompt, { maxTokens: 1 });
    const fullPrefillMs = performance.now() - start;

    const controller = new AbortController();
    start = performance.now();
    const pending = model.generate(prompt, { maxTokens: 1, signal: controller.signal });
    setTimeout(() => controller.abort(), fullPrefillMs / 10);
    const result = await pending;
    const abortedMs = performance.now() - start;

    expect(result.finishReason).toBe('abort');
    expect(result.completionTokens).toBe(0);
    // Not a speed check: a prefill that ran to its end would take about 10x the abort delay, not half of it.
    expect(abortedMs).toBeLessThan(fullPrefillMs / 2);
    expect((await model.generate(prompt.slice(0, 8), { maxTokens: 2, searchOptions: { min_length: 10 } })).completionTokens).toBe(2);
  });
});

describe('handing text to JS', () => {
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(fixtureModel('tiny-random'), { threads: 1 });
  });
  afterAll(() => model.dispose());

  it('wakes JS for the first text at once, then at most once per 16 ms, losing nothing', async () => {
    const n = 400;
    const b = binding();
    const params = b.GeneratorParams.create(model.native);
    params.setSearchNumber('max_length', PROMPT_IDS.length + n);
    params.setSearchNumber('min_length', PROMPT_IDS.length + n);
    const gen = await b.Generator.create(model.native, params);
    const deliveries: { ids: number[]; text: string }[] = [];
    const start = performance.now();
    const outcome = await gen.run(PROMPT_IDS, model.tokenizer.native, (ids, text) => deliveries.push({ ids: Array.from(ids), text }));
    const elapsedMs = performance.now() - start;
    gen.dispose();
    params.dispose();
    expect(outcome).toBe('done');
    const ids = deliveries.flatMap((d) => d.ids);
    expect(ids).toHaveLength(n);
    expect(deliveries.map((d) => d.text).join('')).toBe(model.tokenizer.decode(Int32Array.from(ids)));
    expect(deliveries[0].text.length).toBeGreaterThan(0);
    expect(deliveries[0].ids.length).toBeLessThan(n / 4);
    // The first delivery, one per 16 ms after it, and the last (flushed when the loop ends). Handed over per token,
    // this model's 400 tokens reach JS in about as many deliveries.
    expect(deliveries.length).toBeLessThanOrEqual(2 + Math.ceil(elapsedMs / 16));
    expect(deliveries.length).toBeLessThan(n / 4);
  });
});
