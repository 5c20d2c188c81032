import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelServer } from '../../src/server/index.js';
import { fixtureModel } from '../helpers/fixtures.js';
import { serveModel, type Served } from '../helpers/serving.js';

// Requests a client got wrong are refused before the first byte of the answer, with a 4xx and the
// route's own error body (OpenAI's on /v1, MLflow's on /invocations), streamed or not; never a 500.

const messages = [{ role: 'user' as const, content: 'Say something' }];
type APIError = InstanceType<typeof OpenAI.APIError>;

let root: string;
let chatServed: Served;
let completionsServed: Served;
let chatServer: ModelServer;
let chat: OpenAI;

/** The error a request fails with, streamed and not: both must be the same 4xx, raised before any event. */
async function refusals(request: Record<string, unknown>): Promise<APIError[]> {
  const errors: APIError[] = [];
  for (const stream of [false, true]) {
    const err = await chat.chat.completions
      .create({ model: 'tiny-random', messages, max_tokens: 4, ...request, stream } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    errors.push(err as APIError);
  }
  return errors;
}

async function raw(server: ModelServer, request: string): Promise<string> {
  const { port } = new URL(server.url);
  const socket = connect({ port: Number(port), host: '127.0.0.1' });
  socket.write(request);
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  await once(socket, 'close');
  return text;
}

async function invoke(server: ModelServer, body: string | Buffer): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/invocations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ortgenai-refusals-'));
  chatServed = await serveModel(root, 'chat', fixtureModel('tiny-random'), 'llm/v1/chat', { max_tokens: 8, temperature: 0 });
  completionsServed = await serveModel(root, 'completions', fixtureModel('tiny-random'), 'llm/v1/completions', { max_tokens: 8 });
  chatServer = chatServed.server;
  chat = chatServed.client;
});

afterAll(async () => {
  await chatServed?.close();
  await completionsServed?.close();
  await rm(root, { recursive: true, force: true });
});

describe('/v1 refusals, streamed or not, are 400 before the first byte', () => {
  it('a prompt longer than the context (512 tokens)', async () => {
    for (const err of await refusals({ messages: [{ role: 'user', content: 'and '.repeat(600) }] })) {
      expect(err.status).toBe(400);
      expect(err.message).toMatch(/the prompt has \d+ tokens but the model's context is 512/);
    }
  });

  it('an invalid response_format JSON schema', async () => {
    const response_format = { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { a: { type: 'no-such-type' } } } } };
    for (const err of await refusals({ response_format })) {
      expect(err.status).toBe(400);
      expect(err.message).toMatch(/response_format/);
    }
  });

  it('a lone surrogate in message text, a name or a tool', async () => {
    for (const request of [
      { messages: [{ role: 'user', content: 'a\ud800b' }] },
      { messages: [{ role: 'user', content: [{ type: 'text', text: 'x\udc00' }] }] },
      { tools: [{ type: 'function', function: { name: 'f\ud800', parameters: { type: 'object' } } }] },
    ]) {
      for (const err of await refusals(request)) {
        expect(err.status).toBe(400);
        expect(err.message).toMatch(/lone UTF-16 surrogate/);
      }
    }
  });

  it('an unknown role and max_tokens beyond the context, as OpenAI refuses them', async () => {
    for (const err of await refusals({ messages: [{ role: 'wizard', content: 'hi' }] })) {
      expect(err.status).toBe(400);
      expect(err.message).toMatch(/messages\.0\.role/);
    }
    for (const err of await refusals({ max_tokens: 1e12 })) {
      expect(err.status).toBe(400);
      expect(err.message).toMatch(/max_tokens.*512/);
    }
    const completions = await completionsServed.client
      .completions.create({ model: 'tiny-random', prompt: 'hi', max_tokens: 1e12 })
      .catch((e: unknown) => e);
    expect((completions as APIError).status).toBe(400);
  });

  it('invalid UTF-8 in the body, as /invocations refuses it', async () => {
    const body = Buffer.concat([Buffer.from('{"model": "m", "messages": [{"role": "user", "content": "a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')]);
    const res = await fetch(`${chatServer.url}/v1/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/not valid UTF-8/);
  });
});

describe('/invocations refusals', () => {
  it('a prompt beyond the context gets its own message as a 400, without a stack trace', async () => {
    const { status, body } = await invoke(chatServer, JSON.stringify({ messages: [{ role: 'user', content: 'and '.repeat(600) }] }));
    expect(status).toBe(400);
    expect(body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(body.message).toMatch(/the prompt has \d+ tokens but the model's context is 512/);
    expect(body.stack_trace).toBeUndefined();
  });

  it('deeply nested JSON is a 400 (on /v1 too), not a stack overflow', async () => {
    const depth = 100_000;
    for (const body of [`{"inputs": ${'['.repeat(depth)}${']'.repeat(depth)}}`, `{"messages": ${'['.repeat(depth)}${']'.repeat(depth)}}`]) {
      const answer = await invoke(chatServer, body);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error_code: 'BAD_REQUEST', message: expect.stringMatching(/nested deeper than 1000 levels/) });
    }
    const res = await fetch(`${chatServer.url}/v1/chat/completions`, { method: 'POST', body: `{"messages": ${'['.repeat(depth)}${']'.repeat(depth)}}` });
    expect(res.status).toBe(400);
  });

  it('accepts what MLflow accepts: an unknown role and a huge max_tokens', async () => {
    const { status } = await invoke(chatServer, JSON.stringify({ messages: [{ role: 'wizard', content: 'hi' }], max_tokens: 1e12 }));
    expect(status).toBe(200);
  });

  it('a lone surrogate is a 400 there too', async () => {
    const { status, body } = await invoke(chatServer, JSON.stringify({ messages: [{ role: 'user', content: 'a\ud800b' }] }));
    expect(status).toBe(400);
    expect(body.message).toMatch(/lone UTF-16 surrogate/);
  });
});

describe('HTTP framing', () => {
  it('closes a stream with Connection: close after [DONE]', async () => {
    const body = JSON.stringify({ model: 'm', messages, max_tokens: 3, stream: true });
    const text = await raw(chatServer, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toContain('data: [DONE]');
    expect(text.toLowerCase()).toContain('connection: close');
  });

  it('answers oversized headers with 431 and malformed framing with 400, both with JSON bodies', async () => {
    const big = await raw(chatServer, `GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4))).toMatchObject({ error_code: 'BAD_REQUEST' });
    for (const headers of ['Content-Length: 5\r\nTransfer-Encoding: chunked', 'Content-Length: five']) {
      const bad = await raw(chatServer, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${headers}\r\n\r\nhello`);
      expect(bad).toMatch(/^HTTP\/1\.1 400 /);
      const json = JSON.parse(bad.slice(bad.indexOf('\r\n\r\n') + 4));
      expect(json.error).toMatchObject({ type: 'invalid_request_error' });
    }
    const mlflow = await raw(chatServer, `POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: five\r\n\r\nhello`);
    expect(JSON.parse(mlflow.slice(mlflow.indexOf('\r\n\r\n') + 4))).toMatchObject({ error_code: 'BAD_REQUEST' });
  });
});
