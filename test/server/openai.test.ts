import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ortgenai, pyfunc, PythonModel, type ChatCompletion } from '../../src/mlflow/index.js';
import { createServer, type ModelServer, type ResponseEvent } from '../../src/server/index.js';
import { fixtureModel } from '../helpers/fixtures.js';

// The OpenAI-compatible routes, driven by the official `openai` client, on the generated tiny-random
// Phi-3 fixture saved with the ortgenai flavor (greedy decoding, so served and direct outputs agree).

const messages = [{ role: 'user' as const, content: 'Say something' }];

let root: string;
let chatModel: pyfunc.PyFuncModel;
let completionsModel: pyfunc.PyFuncModel;
let chatServer: ModelServer;
let completionsServer: ModelServer;
let chat: OpenAI;
let events: ResponseEvent[];

function client(server: ModelServer): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-checked', maxRetries: 0 });
}

/** A chat-task pyfunc whose stream never ends on its own: it shows whether the server stops it. */
class EndlessChat extends PythonModel<unknown, unknown> {
  yielded = 0;
  closed = false;

  predict(): unknown {
    return { id: 'x', object: 'chat.completion', created: 0, model: 'endless', choices: [] };
  }

  async *predictStream(): AsyncGenerator<unknown> {
    try {
      for (;;) {
        this.yielded += 1;
        yield { id: 'x', object: 'chat.completion.chunk', created: 0, model: 'endless', choices: [{ index: 0, delta: { content: 'tok ' }, finish_reason: null }] };
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.closed = true;
    }
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ortgenai-openai-'));
  const config = { max_tokens: 16, temperature: 0 };
  await ortgenai.saveModel(path.join(root, 'chat'), { model: fixtureModel('tiny-random'), task: 'llm/v1/chat', modelConfig: config });
  await ortgenai.saveModel(path.join(root, 'completions'), { model: fixtureModel('tiny-random'), task: 'llm/v1/completions', modelConfig: config });
  chatModel = await pyfunc.loadModel(path.join(root, 'chat'));
  completionsModel = await pyfunc.loadModel(path.join(root, 'completions'));
  chatServer = createServer(chatModel, { maxBodySize: '8kb' });
  completionsServer = createServer(completionsModel);
  await chatServer.listen(0);
  await completionsServer.listen(0);
  events = [];
  chatServer.on('response', (e: ResponseEvent) => events.push(e));
  chat = client(chatServer);
});

afterAll(async () => {
  await chatServer?.close();
  await completionsServer?.close();
  await chatModel?.dispose();
  await completionsModel?.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('/v1/chat/completions', () => {
  it('answers a chat completion equal to the model predicting directly', async () => {
    const served = await chat.chat.completions.create({ model: 'tiny-random', messages, max_tokens: 6 });
    const [direct] = (await chatModel.predict({ messages, max_tokens: 6 })) as ChatCompletion[];
    expect(served.object).toBe('chat.completion');
    expect(served.model).toBe('tiny-random');
    expect(served.choices).toHaveLength(1);
    expect(served.choices[0].message.role).toBe('assistant');
    expect(served.choices[0].message.content).toBe(direct.choices[0].message.content);
    expect(served.choices[0].finish_reason).toBe(direct.choices[0].finish_reason);
    expect(served.usage).toEqual(direct.usage);
    expect(served.usage!.completion_tokens).toBeLessThanOrEqual(6);
  });

  it('streams chunks as server-sent events that add up to the same completion', async () => {
    const whole = await chat.chat.completions.create({ model: 'tiny-random', messages, max_tokens: 10 });
    const stream = await chat.chat.completions.create({
      model: 'tiny-random',
      messages,
      max_tokens: 10,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishes: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      expect(chunk.object).toBe('chat.completion.chunk');
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? '';
        finishes.push(choice.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text.length).toBeGreaterThan(0);
    expect(text).toBe(whole.choices[0].message.content);
    expect(finishes.at(-1)).toBe(whole.choices[0].finish_reason);
    expect(usage).toEqual(whole.usage);
  });

  it('ends the SSE body with data: [DONE]', async () => {
    const res = await fetch(`${chatServer.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'tiny-random', messages, max_tokens: 3, stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const body = await res.text();
    const events = body.split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events[0].slice(6)).choices[0].delta.role).toBe('assistant');
  });

  it('aborts the generation when the client leaves mid-stream, and keeps serving', async () => {
    const before = events.length;
    const stream = await chat.chat.completions.create({ model: 'tiny-random', messages, max_tokens: 400, stream: true });
    for await (const _chunk of stream) break; // leaving the loop aborts the HTTP request
    await expect.poll(() => events.slice(before).find((e) => e.path === '/v1/chat/completions')?.outcome).toBe('disconnect');
    await expect.poll(() => chatServer.load).toEqual({ running: 0, waiting: 0 });
    const next = await chat.chat.completions.create({ model: 'tiny-random', messages, max_tokens: 2 });
    expect(next.choices[0].message.role).toBe('assistant');
  });

  it('stops a pyfunc chat model stream when the client disconnects', async () => {
    const endless = new EndlessChat();
    await pyfunc.saveModel(path.join(root, 'endless'), { pythonModel: endless, metadata: { task: 'llm/v1/chat' } });
    const loaded = await pyfunc.loadModel(path.join(root, 'endless'), { pythonModel: endless });
    const server = createServer(loaded);
    await server.listen(0);
    try {
      const stream = await client(server).chat.completions.create({ model: 'endless', messages, stream: true });
      let seen = 0;
      for await (const _chunk of stream) if (++seen === 3) break;
      await expect.poll(() => endless.closed).toBe(true);
      const yielded = endless.yielded;
      await new Promise((resolve) => setImmediate(resolve));
      expect(endless.yielded).toBe(yielded);
    } finally {
      await server.close();
      await loaded.dispose();
    }
  });
});

describe('a model disposed under a live server', () => {
  it('answers 503 in OpenAI error form instead of failing the request', async () => {
    const endless = new EndlessChat();
    await pyfunc.saveModel(path.join(root, 'disposed'), { pythonModel: endless, metadata: { task: 'llm/v1/chat' } });
    const loaded = await pyfunc.loadModel(path.join(root, 'disposed'), { pythonModel: endless });
    const server = createServer(loaded);
    await server.listen(0);
    try {
      await loaded.dispose();
      for (const stream of [false, true]) {
        const err = await client(server).chat.completions.create({ model: 'disposed', messages, stream }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(OpenAI.APIError);
        expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
        expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('1');
        expect((err as InstanceType<typeof OpenAI.APIError>).message).toMatch(/no longer loaded/);
      }
    } finally {
      await server.close();
    }
  });
});

describe('a streaming client that stops reading', () => {
  it('is cut off after the request timeout, and its slot serves the next request', async () => {
    const endless = new EndlessChat();
    await pyfunc.saveModel(path.join(root, 'stalled'), { pythonModel: endless, metadata: { task: 'llm/v1/chat' } });
    const loaded = await pyfunc.loadModel(path.join(root, 'stalled'), { pythonModel: endless });
    const server = createServer(loaded, { concurrency: 1, timeout: 1 });
    const outcomes: ResponseEvent[] = [];
    server.on('response', (e: ResponseEvent) => outcomes.push(e));
    await server.listen(0);
    const { port } = new URL(server.url);
    // A raw socket that sends the request and never reads: the server's writes back up, then must give up.
    const socket = connect({ port: Number(port), host: '127.0.0.1' });
    socket.pause();
    const body = JSON.stringify({ model: 'stalled', messages, stream: true });
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    try {
      await expect.poll(() => outcomes.find((e) => e.path === '/v1/chat/completions')?.outcome, { timeout: 20_000 }).toBe('timeout');
      await expect.poll(() => endless.closed).toBe(true);
      await expect.poll(() => server.load).toEqual({ running: 0, waiting: 0 });
      const next = await client(server).chat.completions.create({ model: 'stalled', messages });
      expect(next.object).toBe('chat.completion');
    } finally {
      socket.destroy();
      await server.close();
      await loaded.dispose();
    }
  }, 30_000);
});

describe('/invocations on the chat model', () => {
  async function invoke(body: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`${chatServer.url}/invocations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: await res.json() };
  }

  it('answers the unified chat form with a bare list of one completion, as MLflow 3.18 does', async () => {
    const reply = await invoke({ messages, max_tokens: 4 });
    expect(reply.status).toBe(200);
    expect(reply.json).toHaveLength(1);
    expect(reply.json[0]).toMatchObject({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant' } }] });
  });

  it('wraps classic requests in predictions, one completion per row', async () => {
    const reply = await invoke({ dataframe_records: [{ messages, max_tokens: 2 }, { messages, max_tokens: 3 }] });
    expect(reply.status).toBe(200);
    expect(reply.json.predictions.map((p: ChatCompletion) => p.object)).toEqual(['chat.completion', 'chat.completion']);
  });
});

describe('/v1/completions and /v1/models', () => {
  it('answers a text completion on a completions model', async () => {
    const completions = client(completionsServer);
    const served = await completions.completions.create({ model: 'tiny-random', prompt: 'Once upon a time', max_tokens: 5 });
    const [direct] = (await completionsModel.predict({ prompt: 'Once upon a time', max_tokens: 5 })) as { choices: { text: string }[] }[];
    expect(served.object).toBe('text_completion');
    expect(served.choices[0].text).toBe(direct.choices[0].text);
    expect(served.usage!.completion_tokens).toBeLessThanOrEqual(5);
  });

  it('lists the one model it serves and retrieves it by id', async () => {
    const list = await chat.models.list();
    expect(list.data.map((m) => [m.id, m.object, m.owned_by])).toEqual([['tiny-random', 'model', 'ortgenai-node']]);
    expect((await chat.models.retrieve('tiny-random')).id).toBe('tiny-random');
    const missing = await chat.models.retrieve('gpt-4o').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    const saved = Date.parse(`${chatModel.metadata.utcTimeCreated!.replace(' ', 'T')}Z`);
    expect(list.data[0].created).toBe(Math.floor(saved / 1000));
  });

  it('serves a model whose MLmodel has a utc_time_created that is not text, dated now', async () => {
    const dir = path.join(root, 'odd-time');
    const endless = new EndlessChat();
    await pyfunc.saveModel(dir, { pythonModel: endless, metadata: { task: 'llm/v1/chat' } });
    const file = path.join(dir, 'MLmodel');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/^utc_time_created: .*$/m, 'utc_time_created: 5'));
    const loaded = await pyfunc.loadModel(dir, { pythonModel: endless });
    expect(loaded.metadata.utcTimeCreated).toBe(5);
    const before = Math.floor(Date.now() / 1000);
    const server = createServer(loaded);
    await server.listen(0);
    try {
      const [model] = (await client(server).models.list()).data;
      expect(model.created).toBeGreaterThanOrEqual(before);
      expect(model.created).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    } finally {
      await server.close();
      await loaded.dispose();
    }
  });
});

describe('errors in OpenAI form', () => {
  it('refuses an invalid request with 400 invalid_request_error', async () => {
    const err = await chat.chat.completions.create({ model: 'tiny-random', messages: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const bad = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(bad.status).toBe(400);
    expect(bad.type).toBe('invalid_request_error');
    expect(bad.message).toContain('messages');
  });

  it('refuses an invalid streamed request with a JSON error before any event', async () => {
    const err = await chat.chat.completions.create({ model: 'tiny-random', messages: [], stream: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('answers routes of another task with 404', async () => {
    const err = await chat.completions.create({ model: 'tiny-random', prompt: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).message).toContain("needs task 'llm/v1/completions'");
  });

  it('answers malformed JSON with 400 and an oversized body with 413', async () => {
    const url = `${chatServer.url}/v1/chat/completions`;
    const malformed = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"messages": [' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      error: { message: expect.stringContaining('could not parse the JSON body'), type: 'invalid_request_error', param: null, code: 'invalid_json' },
    });
    const big = JSON.stringify({ model: 'tiny-random', messages: [{ role: 'user', content: 'x'.repeat(10_000) }] });
    const oversized = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: big });
    expect(oversized.status).toBe(413);
    expect((await oversized.json()).error).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' });
  });

  it('serves the OpenAI routes only for LLM tasks', async () => {
    const plain = new EndlessChat();
    await pyfunc.saveModel(path.join(root, 'plain'), { pythonModel: plain });
    const loaded = await pyfunc.loadModel(path.join(root, 'plain'), { pythonModel: plain });
    const server = createServer(loaded);
    await server.listen(0);
    try {
      const err = await client(server).chat.completions.create({ model: 'plain', messages }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect((err as Error).message).toContain('a model without an LLM task');
    } finally {
      await server.close();
      await loaded.dispose();
    }
  });
});
