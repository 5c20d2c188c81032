
/**
 * The PythonModel contract of `mlflow.pyfunc` (mlflow-format.md §5), for TypeScript classes.
 *
 * `loadContext` runs once after the model is loaded (and once at save time when a signature is inferred
 * from an input example); `predict` receives the input after schema enforcement, column-oriented when the
 * signature has columns, so `modelInput.prompt[0]` is what `model_input["prompt"][0]` is in Python.
 */

/** Per-call options beyond MLflow's `(data, params)`: cancellation for servers and UIs. */
export interface PredictOptions {
  signal?: AbortSignal;
  /**
   * The request came from an OpenAI route: an implementation that validates a superset of the signature itself
   * checks it against OpenAI's schema instead of MLflow's chat signature (which refuses what OpenAI takes, such
   * as `stop: "x"`), and applies OpenAI's rules where they are stricter than MLflow's (unknown roles, a
   * max_tokens beyond the context).
   */
  openai?: boolean;
}

/** What `loadContext` and `predict` see: the model's artifacts and its effective config. */
export interface PythonModelContext {
  /** Artifact name → absolute local path of its copy inside the loaded model (`{}` when none). */
  readonly artifacts: Readonly<Record<string, string>>;
  /** The saved `config` overlaid with the load-time `modelConfig`; null when there is neither (as MLflow). */
  readonly modelConfig: Readonly<Record<string, unknown>> | null;
}

export function createContext(artifacts: Record<string, string>, modelConfig: Record<string, unknown> | null): PythonModelContext {
  return Object.freeze({ artifacts: Object.freeze({ ...artifacts }), modelConfig: modelConfig && Object.freeze({ ...modelConfig }) });
}

/** Column-oriented input of a model whose signature has named columns: `{ prompt: ['hi'] }`. */
export type ColumnInput = Record<string, unknown[]>;

export abstract class PythonModel<Input = ColumnInput, Output = unknown, Params = Record<string, unknown>> {
  /** Build expensive state (models, tokenizers) from `context.artifacts`. Optional. */
  loadContext(_context: PythonModelContext): void | Promise<void> {}

  /**
   * `options.signal` fires when the caller gives up (a served request timed out, the client left, the
   * server is shutting down): long work should stop then. Python's signature has no such argument; ours
   * is an optional fourth one, so a Python-shaped `predict(context, modelInput, params)` still fits.
   */
  abstract predict(context: PythonModelContext, modelInput: Input, params?: Params, options?: PredictOptions): Output | Promise<Output>;

  /**
   * Optional streaming twin of `predict`. Defining it makes the saved model `streamable`; it receives a
   * single input record (`{ prompt: 'hi' }`), as MLflow's `predict_stream` does.
   */
  predictStream?(context: PythonModelContext, modelInput: unknown, params?: Params, options?: PredictOptions): AsyncIterable<unknown> | Iterable<unknown>;

  /** Optional: free native resources built in `loadContext`; `PyFuncModel.dispose()` calls it. */
  dispose?(): void | Promise<void>;
}

/** Duck-typed so models from a second copy of this package (e.g. `dist/` next to `src/`) are accepted. */
export function isPythonModel(value: unknown): value is PythonModel<unknown, unknown, unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { predict?: unknown }).predict === 'function';
}
