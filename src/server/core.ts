import type { PyFuncModel } from '../mlflow/pyfunc/pyfunc-model.js';
import { type Exchange, untilAborted } from './exchange.js';
import type { ConcurrencyLimiter } from './limiter.js';
import type { ResolvedServerOptions } from './options.js';

/** LLM tasks that get the OpenAI-compatible routes. */
export type LlmTask = 'llm/v1/chat' | 'llm/v1/completions';

/** What the route handlers share: the model, its serving facts, and the slots predictions run in. */
export class ServingCore {
  /** Predictions started and not yet settled (including ones whose request already timed out). */
  readonly pending = new Set<Promise<unknown>>();

  constructor(
    readonly model: PyFuncModel,
    readonly options: ResolvedServerOptions,
    readonly limiter: ConcurrencyLimiter,
    readonly task: LlmTask | undefined,
    readonly modelName: string,
    /** Unix seconds for `/v1/models` `created`. */
    readonly created: number,
  ) {}

  /** Keeps `work` in `pending` until it settles, then runs `release`. */
  track(work: Promise<unknown>, release: () => void): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(settled);
    void settled.then(() => {
      this.pending.delete(settled);
      release();
    });
  }

  /**
   * Waits for a slot, starts the prediction and answers as soon as it settles or the request's signal
   * fires. The slot stays taken until the prediction itself settles, so a model that ignores its signal
   * still counts against `concurrency`.
   */
  async predict<T>(ex: Exchange, start: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const release = await this.limiter.acquire(ex.signal);
    let work: Promise<T>;
    try {
      work = start(ex.signal);
    } catch (err) {
      release();
      throw err;
    }
    this.track(work, release);
    return untilAborted(work, ex.signal);
  }
}

/** The task that decides the OpenAI routes, as the loaded model tells it. */
export function llmTask(model: PyFuncModel): LlmTask | undefined {
  const task = model.task;
  return task === 'llm/v1/chat' || task === 'llm/v1/completions' ? task : undefined;
}
