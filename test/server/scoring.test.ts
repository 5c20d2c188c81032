import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColSpec, DataType, ModelSignature, ParamSchema, ParamSpec, pyfunc, PythonModel, Schema } from '../../src/mlflow/index.js';
import { DisposedError, ValidationError } from '../../src/errors.js';
import { createServer, serve, type ModelServer, type ServerOptions } from '../../src/server/index.js';

// The MLflow scoring protocol (mlflow-format.md §7) over real HTTP, on pyfunc models that need no native
// runtime: an upper-casing model saved from code, and gated models whose predictions wait for the test.

const UPPER_MODEL_FILE = fileURLToPath(new URL('./models/upper-model.mjs', import.meta.url));
const PROTOCOL_NOTE = 'IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0.';

/** Predictions wait until the test opens the gate (if gated); `inputs` records what predict received. */
class GatedModel extends PythonModel<unknown, unknown> {
  inputs: unknown[] = [];

  constructor(readonly gated = true) {
    super();
  }

  #open!: () => void;
  gate = this.#close();

  #close(): Promise<void> {
    return new Promise((resolve) => (this.#open = resolve));
  }

  open(): void {
    this.#open();
    this.gate = this.#close();
  }

  async predict(_context: unknown, modelInput: unknown): Promise<unknown> {
    this.inputs.push(modelInput);
    if (this.gated) await this.gate;
    return [modelInput];
  }
}

let root: string;
let upper: pyfunc.PyFuncModel;
let server: ModelServer;
let base: string;

interface Gated {
  model: GatedModel;
  loaded: pyfunc.PyFuncModel;
  server: ModelServer;
  at: string;
}

/** Saves, loads and serves a GatedModel (no signature) for `body`; then opens the gate, closes and disposes. */
async function withGated(name: string, options: ServerOptions, body: (g: Gated) => Promise<void>, gated = true): Promise<void> {
  const model = new GatedModel(gated);
  const dir = path.join(root, name);
  await pyfunc.saveModel(dir, { pythonModel: model });
  const loaded = await pyfunc.loadModel(dir, { pythonModel: model });
  const server = createServer(loaded, options);
  const at = await server.listen(0);
  try {
    await body({ model, loaded, server, at });
  } finally {
    model.open();
    await server.close();
    await loaded.dispose();
  }
}

interface Reply {
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  text: string;
  json: () => any;
}

async function request(url: string, init?: RequestInit): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), text, json: () => JSON.parse(text) };
}

function post(body: unknown, contentType: string | undefined = 'application/json', at = base): Promise<Reply> {
  const headers: Record<string, string> = contentType === undefined ? {} : { 'Content-Type': contentType };
  return request(`${at}/invocations`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ortgenai-serve-'));
  const signature = new ModelSignature({
    inputs: new Schema([new ColSpec(DataType.string, 'prompt')]),
    outputs: new Schema([new ColSpec(DataType.string)]),
    params: new ParamSchema([new ParamSpec('suffix', DataType.string, '')]),
  });
  await pyfunc.saveModel(path.join(root, 'upper'), { pythonModel: UPPER_MODEL_FILE, signature });
  upper = await pyfunc.loadModel(path.join(root, 'upper'));
  server = createServer(upper, { maxBodySize: '16kb' });
  base = await server.listen(0);
});

afterAll(async () => {
  await server?.close();
  await upper?.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('health and version', () => {
  it('answers /ping and /health with a newline labelled JSON, and /version with the raw version text', async () => {
    for (const route of ['/ping', '/health']) {
      const reply = await request(`${base}${route}`);
      expect(reply).toMatchObject({ status: 200, contentType: 'application/json', text: '\n' });
    }
    expect(await request(`${base}/version`)).toMatchObject({ status: 200, contentType: 'application/json', text: '3.18.0' });
  });

  it('answers unknown routes with 404 and wrong methods with 405, in MLflow error bodies', async () => {
    const missing = await request(`${base}/metadata`);
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({ error_code: 'ENDPOINT_NOT_FOUND', message: 'Unknown route /metadata.', sqlstate: 'KAM00', error_class: 'RESOURCE_NOT_FOUND' });
    const wrong = await request(`${base}/invocations`);
    expect(wrong.status).toBe(405);
    expect(wrong.json().error_code).toBe('BAD_REQUEST');
  });

  it('reports 404 on /ping once the model is gone', async () => {
    await withGated('ping-gone', {}, async ({ loaded, at }) => {
      expect((await request(`${at}/ping`)).status).toBe(200);
      await loaded.dispose();
      expect(await request(`${at}/ping`)).toMatchObject({ status: 404, text: '\n' });
      const predict = await post({ inputs: { prompt: 'hi' } }, 'application/json', at);
      expect(predict.status).toBe(503);
      expect(predict.json()).toEqual({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'The model is no longer loaded (it was disposed)', sqlstate: 'XXM00', error_class: 'CLIENT_INTERNAL_ERROR' });
    });
  });
});

describe('request formats', () => {
  const expected = { predictions: ['HELLO', 'WORLD'] };

  it.each([
    ['dataframe_split', { dataframe_split: { columns: ['prompt'], data: [['hello'], ['world']] } }],
    ['dataframe_split with an index', { dataframe_split: { index: [0, 1], columns: ['prompt'], data: [['hello'], ['world']] } }],
    ['dataframe_records', { dataframe_records: [{ prompt: 'hello' }, { prompt: 'world' }] }],
    ['instances of records', { instances: [{ prompt: 'hello' }, { prompt: 'world' }] }],
    ['instances of values', { instances: ['hello', 'world'] }],
    ['inputs as columns', { inputs: { prompt: ['hello', 'world'] } }],
    ['inputs as a list for the single column', { inputs: ['hello', 'world'] }],
    ['inputs as records', { inputs: [{ prompt: 'hello' }, { prompt: 'world' }] }],
  ])('%s gives the same predictions', async (_name, body) => {
    const reply = await post(body);
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json');
    expect(reply.json()).toEqual(expected);
  });

  it('reads text/csv (with a charset) into rows, as pandas.read_csv does', async () => {
    const reply = await post('prompt\nhello\n"world"\n', 'text/csv; charset=utf-8');
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual(expected);
  });

  it('reads the index column pandas writes as an extra column, which the signature drops', async () => {
    const reply = await post(',prompt\n0,hello\n1,world\n', 'text/csv');
    expect(reply.json()).toEqual(expected);
  });

  it('passes params next to classic inputs, and fills their defaults when absent', async () => {
    expect((await post({ inputs: { prompt: 'hi' }, params: { suffix: '!' } })).json()).toEqual({ predictions: ['HI!'] });
    expect((await post({ dataframe_records: [{ prompt: 'hi' }] })).json()).toEqual({ predictions: ['HI'] });
  });

  it('answers the unified LLM form without the predictions wrapper, param-schema keys as params', async () => {
    const reply = await post({ prompt: 'hi', suffix: '?' });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual(['HI?']);
  });

  it('hands a model without a signature the DataFrame as columns', async () => {
    await withGated('no-signature', {}, async ({ at }) => {
      const split = await post({ dataframe_split: { columns: ['a', 'b'], data: [[1, 'x'], [2, 'y']] } }, 'application/json', at);
      expect(split.json()).toEqual({ predictions: [{ a: [1, 2], b: ['x', 'y'] }] });
      const csv = await post('a,b\n1,x\n2.5,\n', 'text/csv', at);
      expect(csv.json()).toEqual({ predictions: [{ a: [1, 2.5], b: ['x', null] }] });
    }, false);
  });

  it('reads a frame of 200,000 rows within the default body limit (more than a spread call can take)', async () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [i % 10]);
    const column = rows.map(([v]) => v);
    await withGated('many-rows', {}, async ({ at }) => {
      for (const body of [{ dataframe_split: { data: rows } }, { dataframe_records: rows }]) {
        const reply = await post(body, 'application/json', at);
        expect(reply.status).toBe(200);
        expect(reply.json()).toEqual({ predictions: [{ 0: column }] });
      }
    }, false);
  });
});

describe('content types', () => {
  it('refuses other media types with MLflow text', async () => {
    const reply = await post('prompt=hi', 'application/x-www-form-urlencoded');
    expect(reply.status).toBe(415);
    expect(reply.contentType).toMatch(/^text\/plain/);
    expect(reply.text).toBe(
      "This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got 'application/x-www-form-urlencoded'.",
    );
  });

  it('refuses a request without a Content-Type', async () => {
    const reply = await request(`${base}/invocations`, { method: 'POST', body: new Uint8Array(Buffer.from('{}')) });
    expect(reply.status).toBe(415);
    expect(reply.text).toContain("Types: ['text/csv', 'application/json']. Got ''.");
  });

  it('refuses charsets other than utf-8 and unknown parameters', async () => {
    const latin = await post({ inputs: ['x'] }, 'application/json; charset=latin-1');
    expect(latin).toMatchObject({ status: 415, text: 'The scoring server only supports UTF-8' });
    const format = await post({ inputs: ['x'] }, 'application/json; format=pandas-split');
    expect(format.status).toBe(415);
    expect(format.text).toMatch(/^Unrecognized content type parameters: format\. IMPORTANT: The MLflow Model scoring protocol/);
  });
});

describe('errors', () => {
  it('answers malformed JSON with 400 BAD_REQUEST', async () => {
    const reply = await post('{"inputs": [', 'application/json');
    expect(reply.status).toBe(400);
    expect(reply.contentType).toBe('application/json');
    const body = reply.json();
    expect(body.error_code).toBe('BAD_REQUEST');
    expect(body.message).toMatch(/^Invalid input\. Ensure that input is a valid JSON formatted string\. Error: /);
  });

  it('wants a JSON object with exactly one input field', async () => {
    const list = await post([{ prompt: 'hi' }]);
    expect(list.status).toBe(400);
    expect(list.json().message).toBe(
      "Invalid input. The input must be a JSON dictionary with exactly one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}. Received a list.",
    );
    for (const body of [{ inputs: ['a'], instances: ['b'] }, { data: ['a'] }]) {
      const reply = await post(body);
      expect(reply.status).toBe(400);
      expect(reply.json().error_code).toBe('BAD_REQUEST');
      expect(reply.json().message).toContain('The input must be a JSON dictionary with exactly one of the input fields');
      expect(reply.json().message).toContain(PROTOCOL_NOTE);
    }
    expect((await post({ inputs: ['a'], instances: ['b'] })).json().message).toContain("Received dictionary with input fields: ['instances', 'inputs'].");
  });

  it('checks the dataframe_split layout', async () => {
    const reply = await post({ dataframe_split: { columns: ['prompt'], rows: [['a']] } });
    expect(reply.status).toBe(400);
    expect(reply.json().message).toBe(
      "Invalid input. Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. Got {'columns', 'rows'}.'",
    );
    const records = await post({ dataframe_records: { prompt: 'a' } });
    expect(records.json().message).toBe('Invalid input. Dataframe records format must be a list of records. Got dictionary.');
  });

  it('refuses records whose distinct keys would make a frame of billions of cells, at once', async () => {
    // 1,200 one-key records with different keys: 12 KB of JSON, a 1.44-million-cell frame (30,000 of them, 400 KB,
    // would be 900 million cells: minutes of a blocked process, then out of memory).
    const sparse = Array.from({ length: 1_200 }, (_, i) => ({ [`k${i}`]: 0 }));
    const reply = await post({ dataframe_records: sparse });
    expect(reply.status).toBe(400);
    expect(reply.json()).toMatchObject({
      error_code: 'BAD_REQUEST',
      message: 'Invalid input. The input describes a frame of 1200 rows x 1200 columns, more than 1000000 cells; send fewer distinct keys per request.',
    });
    expect((await post({ dataframe_records: [{ prompt: 'still serving' }] })).status).toBe(200);
  });

  it('answers a missing column with 400 INVALID_PARAMETER_VALUE and MLflow message', async () => {
    const reply = await post({ dataframe_records: [{ text: 'a' }] });
    expect(reply.status).toBe(400);
    const body = reply.json();
    expect(body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(body.message).toBe(
      "Failed to predict data '[{'text': 'a'}]'. \nError: Failed to enforce schema of data '[{'text': 'a'}]' with schema " +
        "'['prompt': string (required)]'. Error: Model is missing inputs ['prompt']. Note that there were extra inputs: ['text'].",
    );
  });

  it('turns a failing model into 400 BAD_REQUEST with a stack trace, and keeps serving', async () => {
    const reply = await post({ inputs: ['boom'] });
    expect(reply.status).toBe(400);
    const body = reply.json();
    expect(body.error_code).toBe('BAD_REQUEST');
    expect(body.message).toBe(
      'Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference.',
    );
    expect(body.stack_trace).toContain('the model exploded on purpose');
    expect((await post({ inputs: ['fine'] })).json()).toEqual({ predictions: ['FINE'] });
  });

  it('refuses an oversized body with 413 and a JSON error, declared or streamed', async () => {
    const big = { inputs: ['x'.repeat(20 * 1024)] };
    const declared = await post(big);
    expect(declared.status).toBe(413);
    expect(declared.json()).toEqual({
      error_code: 'BAD_REQUEST',
      message: expect.stringContaining("exceeds the server's limit of 16384 bytes"),
      sqlstate: 'KAM00',
      error_class: 'INVALID_PARAMETER_VALUE',
    });
    const chunks = [Buffer.from('{"inputs": ["'), Buffer.alloc(20 * 1024, 'x'), Buffer.from('"]}')];
    const streamed = await request(`${base}/invocations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(new Uint8Array(chunk));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(streamed.json().message).toContain('exceeds');
    expect((await post({ inputs: ['still here'] })).json()).toEqual({ predictions: ['STILL HERE'] });
  });
});

describe('time and load limits', () => {
  it('answers 504 when a prediction outlives the timeout', async () => {
    await withGated('slow', { timeout: 0.2 }, async ({ at }) => {
      const reply = await post({ inputs: ['x'] }, 'application/json', at);
      expect(reply).toMatchObject({ status: 504, contentType: 'application/json', text: 'Request processing time exceeded limit' });
    });
  });

  it('queues up to maxQueue requests and answers 503 TEMPORARILY_UNAVAILABLE beyond', async () => {
    await withGated('busy', { concurrency: 1, maxQueue: 1 }, async ({ model, server, at }) => {
      const first = post({ inputs: ['first'] }, 'application/json', at);
      await expect.poll(() => model.inputs.length).toBe(1);
      const second = post({ inputs: ['second'] }, 'application/json', at);
      await expect.poll(() => server.load).toEqual({ running: 1, waiting: 1 });
      const third = await post({ inputs: ['third'] }, 'application/json', at);
      expect(third.status).toBe(503);
      expect(third.retryAfter).toBe('1');
      expect(third.json()).toEqual({ error_code: 'TEMPORARILY_UNAVAILABLE', message: expect.stringContaining('The server is busy'), sqlstate: 'XXM00', error_class: 'CLIENT_INTERNAL_ERROR' });
      model.open();
      expect((await first).json()).toEqual({ predictions: [['first']] });
      await expect.poll(() => model.inputs.length).toBe(2);
      model.open();
      expect((await second).json()).toEqual({ predictions: [['second']] });
    });
  });
});

describe('shutdown', () => {
  it('lets in-flight requests finish before closing, and leaves a caller-owned model alone', async () => {
    await withGated('graceful', {}, async ({ model, loaded, server, at }) => {
      const inflight = post({ inputs: ['late'] }, 'application/json', at);
      await expect.poll(() => model.inputs.length).toBe(1);
      const closed = server.close({ timeout: 60 });
      expect(server.http.listening).toBe(false);
      model.open();
      expect((await inflight).json()).toEqual({ predictions: [['late']] });
      await closed;
      expect(() => loaded.streamable).not.toThrow(); // not disposed
    });
  });

  it('aborts what is still running when the grace period ends, answering 503', async () => {
    await withGated('abrupt', {}, async ({ model, server, at }) => {
      const inflight = post({ inputs: ['too late'] }, 'application/json', at);
      await expect.poll(() => model.inputs.length).toBe(1);
      const closed = server.close({ timeout: 0 });
      const reply = await inflight;
      expect(reply.status).toBe(503);
      expect(reply.json()).toEqual({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'The server is shutting down', sqlstate: 'XXM00', error_class: 'CLIENT_INTERNAL_ERROR' });
      model.open();
      await closed;
    });
  });

  it('serve() loads the model from its URI and disposes it on close', async () => {
    const own = await serve(path.join(root, 'upper'), { port: 0, timeout: 5 });
    const reply = await post({ inputs: ['served'] }, 'application/json', own.url);
    expect(reply.json()).toEqual({ predictions: ['SERVED'] });
    await own.close();
    expect(await own.model.predict({ prompt: 'x' }).catch((e: unknown) => e)).toBeInstanceOf(DisposedError);
  });

  it('refuses invalid options before loading anything', async () => {
    const issue = `maxBodySize: expected a size such as 1048576, '512kb' or '1mb', got "lots"`;
    await expect(serve(path.join(root, 'does-not-exist'), { maxBodySize: 'lots' })).rejects.toThrow(
      new ValidationError(`Invalid server options: ${issue}`, [issue]),
    );
    expect(() => createServer(upper, { concurrency: 0 })).toThrow(/concurrency/);
    // Past 2^31-1 ms a timer fires at once: every request would time out.
    expect(() => createServer(upper, { timeout: 3_000_000 })).toThrow(/timeout: Too big/);
  });
});
