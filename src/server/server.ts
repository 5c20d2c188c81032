/**
 * The HTTP server for one loaded model: MLflow's scoring protocol (`/ping`, `/health`, `/version`,
 * `/invocations`) and, for LLM-task models, OpenAI's `/v1/chat/completions`, `/v1/completions` and
 * `/v1/models`.
 *
 * Built on node:http rather than a framework: the scoring protocol fixes details that frameworks decide
 * for you (415 texts and charset rules before any body parsing, CSV bodies, the 504 body, 413 from the
 * Content-Length before reading), and streaming needs the raw response for SSE back-pressure and for
 * noticing a client that leaves. Five routes do not need a router.
 */
import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { MlflowException } from '../mlflow/errors.js';
import type { PyFuncModel } from '../mlflow/pyfunc/pyfunc-model.js';
import { llmTask, ServingCore } from './core.js';
import { Exchange } from './exchange.js';
import { ConcurrencyLimiter } from './limiter.js';
import { completions, listModels, retrieveModel } from './openai/routes.js';
import { openaiError, sendOpenAIError } from './openai/errors.js';
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './options.js';
import { invocations, sendMlflowError } from './scoring/invocations.js';

/** Emitted as 'response' when a request is over. */
export interface ResponseEvent {
  method: string;
  path: string;
  status: number;
  /** 'disconnect': the client left first; 'timeout'/'shutdown': the request was aborted for that reason. */
  outcome: 'ok' | 'error' | 'timeout' | 'disconnect' | 'shutdown';
  durationMs: number;
}

export interface CloseOptions {
  /** Seconds in-flight requests may still take before they are aborted; default: the `shutdownTimeout` option. */
  timeout?: number;
}

type Route = (ex: Exchange, core: ServingCore) => void | Promise<void>;

const ping: Route = (ex, core) => ex.send(core.model.disposed ? 404 : 200, '\n', 'application/json');

const ROUTES: Record<string, Partial<Record<string, Route>>> = {
  '/ping': { GET: ping },
  '/health': { GET: ping },
  '/version': { GET: (ex, core) => ex.send(200, core.options.version, 'application/json') },
  '/invocations': { POST: invocations },
  '/v1/chat/completions': { POST: completions },
  '/v1/completions': { POST: completions },
  '/v1/models': { GET: listModels },
};

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function defaultModelName(model: PyFuncModel): string {
  return model.sourceModelName ?? path.basename(model.path);
}

function createdSeconds(model: PyFuncModel): number {
  const time: unknown = model.metadata.utcTimeCreated; // as read from the file, so not necessarily a string
  const created = typeof time === 'string' ? Date.parse(`${time.replace(' ', 'T')}Z`) : NaN;
  return Math.floor((Number.isFinite(created) ? created : Date.now()) / 1000);
}

/**
 * The answer to a request Node's parser refused (no Exchange exists for it): 431 for oversized headers,
 * else 400, with the JSON error body of the route it was meant for, as the rest of the server answers.
 */
function malformedRequestResponse(err: NodeJS.ErrnoException & { rawPacket?: Buffer }): string {
  const [status, reason, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'The request headers are too large.']
      : [400, 'Bad Request', `The HTTP request is malformed (${err.code ?? 'parse error'}): ${err.message}`];
  const openai = /^[A-Z]+ \/v1\//.test(err.rawPacket?.subarray(0, 64).toString('latin1') ?? '');
  const body = JSON.stringify(openai ? openaiError(message, status, 'invalid_http_request') : new MlflowException(message, 'BAD_REQUEST').toJSON());
  return `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * Serves one PyFuncModel. Events: 'response' ({@link ResponseEvent}) after each request, 'error' for
 * failures outside any request (listening). Not listening until `listen()`.
 */
export class ModelServer extends EventEmitter {
  readonly http: Server;
  readonly options: ResolvedServerOptions;
  readonly #core: ServingCore;
  readonly #ownsModel: boolean;
  readonly #inflight = new Set<{ ex: Exchange; done: Promise<void> }>();
  #closing: Promise<void> | undefined;
  #endGrace: (() => void) | undefined;

  constructor(model: PyFuncModel, options: ServerOptions = {}, ownsModel = false) {
    super();
    this.options = resolveServerOptions(options);
    this.#ownsModel = ownsModel;
    this.#core = new ServingCore(
      model,
      this.options,
      new ConcurrencyLimiter(this.options.concurrency, this.options.maxQueue),
      llmTask(model),
      this.options.modelName ?? defaultModelName(model),
      createdSeconds(model),
    );
    this.http = createHttpServer((req, res) => this.#handle(req, res));
    this.http.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket) => {
      if (socket.writable) socket.end(malformedRequestResponse(err));
      else socket.destroy(err);
    });
  }

  get model(): PyFuncModel {
    return this.#core.model;
  }

  /** Predictions running and requests waiting for a slot. */
  get load(): { running: number; waiting: number } {
    return { running: this.#core.limiter.running, waiting: this.#core.limiter.waiting };
  }

  /** The LLM task that enables the OpenAI routes, if the model has one. */
  get task(): string | undefined {
    return this.#core.task;
  }

  /** The id of the model on the OpenAI routes. */
  get modelName(): string {
    return this.#core.modelName;
  }

  /** `http://host:port` once listening. */
  get url(): string {
    const address = this.http.address() as AddressInfo | null;
    if (!address) throw new MlflowException('The server is not listening', 'INVALID_STATE');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Starts listening (port 0 picks a free port); resolves with the base URL. */
  async listen(port = 5000, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.http.once('error', onError);
      this.http.listen(port, host, () => {
        this.http.off('error', onError);
        resolve();
      });
    });
    return this.url;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const ex = new Exchange(req, res);
    const entry = { ex, done: Promise.resolve() };
    this.#inflight.add(entry);
    entry.done = this.#route(ex)
      .catch((err) => this.#internalError(ex, err))
      .finally(() => {
        this.#inflight.delete(entry);
        const finish = () =>
          this.emit('response', {
            method: req.method ?? '',
            path: ex.url.pathname,
            status: res.statusCode,
            outcome: ex.outcome,
            durationMs: performance.now() - ex.started,
          } satisfies ResponseEvent);
        if (res.writableFinished || res.destroyed) finish();
        else res.once('close', finish);
      });
  }

  async #route(ex: Exchange): Promise<void> {
    const openai = ex.url.pathname.startsWith('/v1/');
    if (this.#closing) {
      ex.req.resume();
      ex.res.setHeader('Connection', 'close');
      if (openai) sendOpenAIError(ex, 503, 'The server is shutting down', 'server_shutting_down');
      else sendMlflowError(ex, new MlflowException('The server is shutting down', 'TEMPORARILY_UNAVAILABLE'));
      return;
    }
    const method = ex.req.method ?? 'GET';
    const modelPath = /^\/v1\/models\/(.+)$/.exec(ex.url.pathname);
    if (modelPath && method === 'GET') return retrieveModel(ex, this.#core, safeDecode(modelPath[1]));
    const methods = ROUTES[ex.url.pathname];
    const route = methods?.[method] ?? (method === 'HEAD' ? methods?.GET : undefined);
    if (route) return route(ex, this.#core);
    ex.req.resume();
    if (methods) {
      const allowed = Object.keys(methods).join(', ');
      ex.res.setHeader('Allow', allowed);
      if (openai) sendOpenAIError(ex, 405, `${method} is not allowed on ${ex.url.pathname}; use ${allowed}.`, 'method_not_allowed');
      else sendMlflowError(ex, new MlflowException(`The method ${method} is not allowed for ${ex.url.pathname}; use ${allowed}.`, 'BAD_REQUEST'), {}, 405);
      return;
    }
    if (openai) sendOpenAIError(ex, 404, `Unknown route ${ex.url.pathname}.`, 'unknown_url');
    else sendMlflowError(ex, new MlflowException(`Unknown route ${ex.url.pathname}.`, 'ENDPOINT_NOT_FOUND'));
  }

  /** A bug or an unexpected failure in a handler: answer 500 if still possible; the process lives on. */
  #internalError(ex: Exchange, err: unknown): void {
    const message = `Internal server error: ${err instanceof Error ? err.message : String(err)}`;
    if (ex.writable) {
      if (ex.url.pathname.startsWith('/v1/')) sendOpenAIError(ex, 500, message, 'internal_error');
      else sendMlflowError(ex, new MlflowException(message, 'INTERNAL_ERROR'));
    } else if (!ex.res.writableEnded) {
      ex.res.destroy();
    }
    this.emit('internalError', err);
  }

  /**
   * Graceful shutdown: stop accepting connections, let in-flight requests finish for `timeout` seconds,
   * abort the rest (their predictions get the abort signal), wait for predictions to settle, close all
   * connections, and dispose the model if the server owns it (`serve()`). Idempotent; a later call with a
   * shorter `timeout` shortens the grace period (in-flight generations are still stopped before disposal).
   */
  close(options: CloseOptions = {}): Promise<void> {
    const timeout = options.timeout ?? this.options.shutdownTimeout;
    if (this.#closing) {
      // A later call with a shorter grace period (a second SIGTERM) cuts the running one short.
      setTimeout(() => this.#endGrace?.(), timeout * 1000).unref();
      return this.#closing;
    }
    this.#closing = this.#shutdown(timeout);
    return this.#closing;
  }

  async #shutdown(timeout: number): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.http.listening ? this.http.close(() => resolve()) : resolve()));
    this.http.closeIdleConnections();
    const settled = (promises: Iterable<Promise<unknown>>, seconds: number) =>
      Promise.race([Promise.allSettled([...promises]), new Promise((resolve) => setTimeout(resolve, seconds * 1000).unref())]);
    const graceEnded = new Promise((resolve) => (this.#endGrace = () => resolve(undefined)));
    await Promise.race([settled([...this.#inflight].map((f) => f.done), timeout), graceEnded]);
    for (const { ex } of this.#inflight) ex.abort('shutdown');
    await settled([...this.#inflight].map((f) => f.done), 5);
    // Native generations stop at the next token once aborted; give them a moment before the model goes.
    await settled(this.#core.pending, Math.max(timeout, 5));
    this.http.closeAllConnections();
    await closed;
    if (this.#ownsModel) await this.#core.model.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A server for a loaded model. The caller keeps ownership of the model (dispose it after `close()`). */
export function createServer(model: PyFuncModel, options: ServerOptions = {}): ModelServer {
  return new ModelServer(model, options);
}
