import { AbortError, OrtGenAIError } from '../errors.js';

/** Every slot is taken and the wait queue is full (HTTP 503). */
export class ServerBusyError extends OrtGenAIError {
  constructor(running: number, waiting: number) {
    super(`The server is busy: ${running} requests are running and ${waiting} are waiting. Retry later.`, 'SERVER_BUSY');
  }
}

interface Waiter {
  grant: () => void;
  signal: AbortSignal;
  onAbort: () => void;
}

/**
 * At most `concurrency` holders at once; up to `maxQueue` more wait in arrival order. A waiter whose
 * signal fires (timeout, disconnect, shutdown) leaves the queue and rejects with AbortError.
 */
export class ConcurrencyLimiter {
  #running = 0;
  readonly #queue: Waiter[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxQueue: number,
  ) {}

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** Resolves with a release function once a slot is free. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(new AbortError('The request was aborted while waiting for a slot', { cause: signal.reason }));
    if (this.#running < this.concurrency) return Promise.resolve(this.#hold());
    if (this.#queue.length >= this.maxQueue) return Promise.reject(new ServerBusyError(this.#running, this.#queue.length));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        signal,
        grant: () => resolve(this.#hold()),
        onAbort: () => {
          this.#queue.splice(this.#queue.indexOf(waiter), 1);
          reject(new AbortError('The request was aborted while waiting for a slot', { cause: signal.reason }));
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #hold(): () => void {
    this.#running += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running -= 1;
      const next = this.#queue.shift();
      if (next) {
        next.signal.removeEventListener('abort', next.onAbort);
        next.grant();
      }
    };
  }
}
