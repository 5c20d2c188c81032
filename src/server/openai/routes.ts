import { once } from 'node:events';
import { PayloadTooLargeError, readBody } from '../body.js';
import type { LlmTask, ServingCore } from '../core.js';
import { type Exchange, untilAborted } from '../exchange.js';
import { jsonTooDeep, MAX_JSON_DEPTH } from '../json-depth.js';
import { describeFailure, sendOpenAIError } from './errors.js';

/**
 * OpenAI-compatible routes for models with an LLM task. Requests go through `PyFuncModel.predict` /
 * `predictStream` unchanged, so validation, chat templates and generation defaults are the flavor's; this
 * layer adds HTTP: JSON bodies, SSE streaming, OpenAI error objects, and cancellation when the client leaves.
 * The request's `model` field is not checked against the served model: one server serves one model, and
 * clients written for other servers send their own names.
 */

const ENDPOINT_TASK: Record<string, LlmTask> = {
  '/v1/chat/completions': 'llm/v1/chat',
  '/v1/completions': 'llm/v1/completions',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

async function readJsonObject(ex: Exchange, core: ServingCore): Promise<Record<string, unknown> | undefined> {
  let raw: Buffer;
  try {
    raw = await readBody(ex.req, core.options.maxBodySize, ex.signal);
  } catch (err) {
    if (err instanceof PayloadTooLargeError) sendOpenAIError(ex, 413, err.message, 'request_too_large');
    else fail(ex, core, err);
    return undefined;
  }
  let text: string;
  try {
    text = utf8.decode(raw); // not silently replaced with U+FFFD: refused, as /invocations does
  } catch {
    sendOpenAIError(ex, 400, 'The request body is not valid UTF-8.', 'invalid_json');
    return undefined;
  }
  if (jsonTooDeep(text)) {
    sendOpenAIError(ex, 400, `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`, 'invalid_json');
    return undefined;
  }
  let body: unknown;
  try {
    // Content-Type is not checked: `curl -d` sends form-urlencoded, and OpenAI clients always send JSON.
    body = JSON.parse(text);
  } catch (err) {
    sendOpenAIError(ex, 400, `We could not parse the JSON body of your request: ${(err as Error).message}`, 'invalid_json');
    return undefined;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    sendOpenAIError(ex, 400, 'The request body must be a JSON object.', 'invalid_json');
    return undefined;
  }
  return body as Record<string, unknown>;
}

/** MLflow LLM flavors may answer a list of one response per request row; OpenAI clients want the object. */
function single(prediction: unknown): unknown {
  return Array.isArray(prediction) && prediction.length === 1 ? prediction[0] : prediction;
}

/** `POST /v1/chat/completions` and `POST /v1/completions`. */
export async function completions(ex: Exchange, core: ServingCore): Promise<void> {
  const wanted = ENDPOINT_TASK[ex.url.pathname];
  if (core.task !== wanted) {
    ex.req.resume();
    const has = core.task ? `a model with task '${core.task}'` : 'a model without an LLM task';
    sendOpenAIError(ex, 404, `${ex.url.pathname} is not available: this server serves ${has}, and ${ex.url.pathname} needs task '${wanted}'.`, 'unsupported_endpoint');
    return;
  }
  ex.startTimeout(core.options.timeout);
  const body = await readJsonObject(ex, core);
  if (!body) return;
  if (body.stream === true) {
    await stream(ex, core, body);
    return;
  }
  try {
    const prediction = await core.predict(ex, (signal) => core.model.predict(body, undefined, { signal, openai: true }));
    ex.sendJson(200, single(prediction));
  } catch (err) {
    fail(ex, core, err);
  }
}

function fail(ex: Exchange, core: ServingCore, err: unknown): void {
  const failure = describeFailure(ex, err, core.options.timeout);
  if (failure) ex.sendJson(failure.status, failure.body);
}

/**
 * Server-sent events: `data: <chunk>\n\n` per chunk, then `data: [DONE]\n\n`. The first chunk is awaited
 * before the headers go out, so a request the model refuses still gets a JSON error with its status; the
 * timeout covers the wait for that first chunk only. A failure after that is sent as a final `data: {"error"}`
 * event, as OpenAI does.
 */
async function stream(ex: Exchange, core: ServingCore, body: Record<string, unknown>): Promise<void> {
  let streamable: boolean;
  try {
    streamable = core.model.streamable;
  } catch (err) {
    fail(ex, core, err); // a disposed model: 503, as without "stream"
    return;
  }
  if (!streamable) {
    sendOpenAIError(ex, 400, 'This model does not support streaming (it has no predictStream); send the request without "stream": true.', 'unsupported_value', 'stream');
    return;
  }
  let release: () => void;
  try {
    release = await core.limiter.acquire(ex.signal);
  } catch (err) {
    fail(ex, core, err);
    return;
  }
  const chunks = core.model.predictStream(body, undefined, { signal: ex.signal, openai: true });
  const { signal, res } = ex;
  let started = false;
  try {
    let next = await untilAborted(chunks.next(), signal);
    ex.clearTimeout();
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
    });
    started = true;
    while (!next.done) {
      if (!res.write(`data: ${JSON.stringify(next.value)}\n\n`)) {
        // A client that stops reading must not hold its slot for ever: the timeout covers each wait for it.
        ex.startTimeout(core.options.timeout);
        await once(res, 'drain', { signal });
        ex.clearTimeout();
      }
      next = await untilAborted(chunks.next(), signal);
    }
    res.end('data: [DONE]\n\n');
  } catch (err) {
    if (!started) {
      fail(ex, core, err);
    } else if (ex.abortKind !== 'disconnect' && !res.destroyed) {
      if (ex.outcome === 'ok') ex.outcome = ex.abortKind ?? 'error';
      if (res.writableNeedDrain) {
        res.destroy(); // nothing more can reach a client that stopped reading
      } else {
        const failure = describeFailure(ex, err, core.options.timeout);
        res.end(failure ? `data: ${JSON.stringify(failure.body)}\n\n` : undefined);
      }
    }
  } finally {
    // Ends the model's generator (its finally blocks stop the generation); the slot is free once it has.
    core.track(chunks.return(undefined), release);
  }
}

function modelObject(core: ServingCore) {
  return { id: core.modelName, object: 'model', created: core.created, owned_by: 'ortgenai-node' };
}

/** `GET /v1/models`. */
export function listModels(ex: Exchange, core: ServingCore): void {
  ex.sendJson(200, { object: 'list', data: [modelObject(core)] });
}

/** `GET /v1/models/{id}`. */
export function retrieveModel(ex: Exchange, core: ServingCore, id: string): void {
  if (id !== core.modelName) {
    sendOpenAIError(ex, 404, `The model '${id}' does not exist; this server serves '${core.modelName}'.`, 'model_not_found', 'model');
    return;
  }
  ex.sendJson(200, modelObject(core));
}
