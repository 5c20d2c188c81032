import { DisposedError } from '../../errors.js';
import { MlflowException } from '../errors.js';
import type { MLModel } from '../mlmodel.js';
import { enforceInput, enforceParams } from '../signature/index.js';
import { dumpYaml } from '../pycompat/yaml.js';
import type { PredictOptions, PythonModel } from './python-model.js';

/** What a loader returns (MLflow's `_model_impl`). */
export interface PyfuncImplementation {
  predict(data: unknown, params: Record<string, unknown>, options: PredictOptions): Promise<unknown>;
  predictStream?(data: unknown, params: Record<string, unknown>, options: PredictOptions): AsyncIterable<unknown>;
  /**
   * True when the implementation validates requests itself against a stricter superset of the signature
   * (the chat task's OpenAI schema): it gets the request as sent, after the signature check, so fields such
   * as `response_format` are not dropped.
   */
  readonly validatesInput?: boolean;
  readonly pythonModel?: PythonModel<unknown, unknown, unknown>;
  /** The flavor's own task (e.g. the ortgenai flavor's `task`), when it has one. */
  readonly task?: string;
  /** The name of the model it was made from (e.g. the ORT-GenAI folder's name), when the flavor records one. */
  readonly sourceModelName?: string;
  dispose(): Promise<void>;
}

function isColumnTable(value: unknown): value is Record<string, unknown[]> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every(Array.isArray);
}

/** Rows of a column-oriented table (`{a: [1, 2]}` → `[{a: 1}, {a: 2}]`); `rowCount` defaults to the first column's length. */
export function columnsToRecords(table: Record<string, unknown>, rowCount?: number): Record<string, unknown>[] {
  const columns = Object.entries(table).filter((entry): entry is [string, unknown[]] => Array.isArray(entry[1]));
  const count = rowCount ?? (columns.length === 0 ? 0 : columns[0][1].length);
  return Array.from({ length: count }, (_, i) => Object.fromEntries(columns.map(([k, v]) => [k, v[i]])));
}

/**
 * `_convert_llm_input_data` + the single-input rule of MLflow's `predict_stream`. `tabular` says the input went through schema enforcement, so a record of arrays is a column table.
 * Without a signature it is the caller's own value (`{messages: [a, b]}` is one chat request).
 */
function singleInput(data: unknown, tabular: boolean): unknown {
  let rows: unknown[] | undefined;
  if (tabular && isColumnTable(data)) {
    rows = columnsToRecords(data);
  } else if (Array.isArray(data)) {
    rows = data;
  }
  if (rows === undefined) return data;
  if (rows.length !== 1) {
    throw MlflowException.invalidParameterValue(`'predictStream' requires single input, but it got input data ${JSON.stringify(rows)}`);
  }
  return rows[0];
}

/**
 * A loaded model (MLflow's `PyFuncModel`): `predict` enforces the signature, then calls the flavor's
 * implementation. Owns native resources through its implementation: call `dispose()` (or use
 * `await using`) when done.
 */
export class PyFuncModel {
  readonly metadata: MLModel;
  /** The effective model config: saved `config` overlaid with the load-time override (`{}` when none). */
  readonly modelConfig: Readonly<Record<string, unknown>>;
  readonly loaderModule: string;
  /** The local model directory. */
  readonly path: string;
  #impl: PyfuncImplementation | undefined;

  /** @internal Built by `loadModel`. */
  constructor(metadata: MLModel, impl: PyfuncImplementation, dir: string, modelConfig: Record<string, unknown>, loaderModule: string) {
    this.metadata = metadata;
    this.#impl = impl;
    this.path = dir;
    this.modelConfig = Object.freeze({ ...modelConfig });
    this.loaderModule = loaderModule;
  }

  #live(): PyfuncImplementation {
    if (!this.#impl) throw new DisposedError('PyFuncModel');
    return this.#impl;
  }

  /** True once `dispose()` ran: every other call then throws DisposedError. */
  get disposed(): boolean {
    return this.#impl === undefined;
  }

  /**
   * What the model does, for servers choosing routes: the flavor's task, else MLflow's `metadata.task`
   * (e.g. `llm/v1/chat`); undefined when neither says.
   */
  get task(): string | undefined {
    const task = this.#live().task ?? this.metadata.metadata?.task;
    return typeof task === 'string' ? task : undefined;
  }

  /** The name of the model this one was made from, when its flavor records one (servers name the model by it). */
  get sourceModelName(): string | undefined {
    return this.#live().sourceModelName || undefined;
  }

  /** True when the model can `predictStream`. */
  get streamable(): boolean {
    return typeof this.#live().predictStream === 'function';
  }

  #prepare(impl: PyfuncImplementation, data: unknown, params: unknown, options: PredictOptions): { input: unknown; params: Record<string, unknown> } {
    const signature = this.metadata.signature;
    const check = signature?.inputs && (!options.openai || !impl.validatesInput);
    const enforced = check ? enforceInput(data, signature.inputs!) : data;
    // Input that breaks the signature is refused in MLflow's words either way; an implementation that
    // validates a superset itself gets the request as sent (enforcement would drop e.g. response_format).
    const input = impl.validatesInput ? data : enforced;
    return { input, params: enforceParams(params ?? {}, signature?.params) };
  }

  /** Enforce the signature and predict (`PyFuncModel.predict`). */
  async predict(data: unknown, params?: Record<string, unknown>, options: PredictOptions = {}): Promise<unknown> {
    const impl = this.#live();
    const prepared = this.#prepare(impl, data, params, options);
    return impl.predict(prepared.input, prepared.params, options);
  }

  /** Stream the prediction for a single input (`PyFuncModel.predict_stream`). */
  async *predictStream(data: unknown, params?: Record<string, unknown>, options: PredictOptions = {}): AsyncGenerator<unknown> {
    const impl = this.#live();
    if (!impl.predictStream) throw new MlflowException('This model does not support predict_stream method.', 'NOT_IMPLEMENTED');
    const prepared = this.#prepare(impl, data, params, options);
    const input = impl.validatesInput ? prepared.input : singleInput(prepared.input, this.metadata.signature?.inputs !== undefined);
    yield* impl.predictStream(input, prepared.params, options);
  }

  /** The PythonModel behind this pyfunc (`unwrap_python_model`). */
  unwrapPythonModel(): PythonModel<unknown, unknown, unknown> {
    const model = this.#live().pythonModel;
    if (!model) throw new MlflowException('Unable to retrieve base model object from pyfunc.');
    return model;
  }

  /** Frees what the model loaded (native models, tokenizers). Later calls throw DisposedError. */
  async dispose(): Promise<void> {
    const impl = this.#impl;
    this.#impl = undefined;
    await impl?.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  /** MLflow's `__repr__`. */
  toString(): string {
    return dumpYaml({
      'mlflow.pyfunc.loaded_model': {
        run_id: this.metadata.runId ?? null,
        artifact_path: this.metadata.artifactPath ?? null,
        flavor: this.loaderModule,
      },
    });
  }
}
