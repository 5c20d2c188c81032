import type { IncomingMessage, ServerResponse } from 'node:http';
import { AbortError } from '../errors.js';

/** Why a request's signal fired. */
export type AbortKind = 'timeout' | 'disconnect' | 'shutdown';

/**
 * One request and its response, with the AbortSignal that every prediction it starts receives. The
 * signal fires when the request times out, when the client goes away before the response is complete,
 * or when the server shuts down; `abortKind` says which, so handlers can answer 504, nothing, or 503.
 */
export class Exchange {
  readonly url: URL;
  readonly started = performance.now();
  abortKind: AbortKind | undefined;
  /** What the response ended as, for the server's 'response' event. */
  outcome: 'ok' | 'error' | AbortKind = 'ok';
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    this.url = parseUrl(req.url);
    res.on('close', () => {
      if (!res.writableFinished) this.abort('disconnect');
      this.clearTimeout();
    });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  abort(kind: AbortKind): void {
    if (this.abortKind) return;
    this.abortKind = kind;
    this.outcome = kind;
    this.clearTimeout();
    this.#controller.abort(new AbortError(`The request was aborted (${kind})`));
  }

  /** Arms the request timeout (seconds); it covers everything until the response starts. */
  startTimeout(seconds: number): void {
    this.clearTimeout();
    this.#timer = setTimeout(() => this.abort('timeout'), seconds * 1000);
    this.#timer.unref();
  }

  clearTimeout(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** False once the client is gone or a response was already started. */
  get writable(): boolean {
    return !this.res.headersSent && !this.res.destroyed && this.abortKind !== 'disconnect';
  }

  send(status: number, body: string, contentType: string): void {
    this.clearTimeout();
    if (!this.writable) return;
    if (status >= 400 && this.outcome === 'ok') this.outcome = 'error';
    // Every 503 here (busy, shutting down, model unloaded) is worth retrying: say so to clients and balancers.
    const retry = status === 503 ? { 'Retry-After': '1' } : {};
    this.res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...retry });
    this.res.end(body);
  }

  sendJson(status: number, body: unknown): void {
    this.send(status, JSON.stringify(body), 'application/json');
  }
}

function parseUrl(target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    return new URL('http://localhost/'); // an unparseable target answers 404 like any unknown route
  }
}

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as it fires: a handler answers a
 * timeout at once even if the model ignores its signal (the prediction keeps its slot until it settles).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
