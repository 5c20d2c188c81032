import { GuidanceError, ValidationError } from '../../errors.js';
import type { Model } from '../../genai/index.js';
import {
  createChatCompletion,
  createTextCompletion,
  generateOptions,
  generateText,
  streamChatCompletion,
  streamTextCompletion,
  type CompletionContext,
} from '../chat/completion.js';
import { parseRequest, requestRows } from '../chat/requests.js';
import { checkOpenAIRequest } from '../chat/openai-rules.js';
import {
  chatCompletionRequestSchema,
  completionRequestSchema,
  type ChatCompletionRequest,
  type CompletionRequest,
  type GenerationConfig,
} from '../chat/schemas.js';
import { MlflowException } from '../errors.js';
import type { PyfuncImplementation } from '../pyfunc/pyfunc-model.js';
import type { PredictOptions } from '../pyfunc/python-model.js';
import { pyRepr } from '../pycompat/repr.js';
import { isRecord } from '../signature/types.js';

/**
 * The prompts of a model without a task: the `prompt` column, else the only column (a signature may name it
 * otherwise), else a bare string. Anything else is refused rather than answered with nothing.
 */
function prompts(data: unknown): string[] {
  if (typeof data === 'string') return [data];
  let offending: unknown = data;
  if (isRecord(data)) {
    const columns = Object.keys(data);
    const column = 'prompt' in data ? 'prompt' : columns.length === 1 ? columns[0] : undefined;
    const values = column === undefined ? undefined : data[column];
    const list = Array.isArray(values) ? values : [values];
    const bad = list.findIndex((v) => typeof v !== 'string');
    if (bad < 0) return list as string[];
    // The row at fault, as the Python loader names it.
    offending = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Array.isArray(v) ? v[bad] : v]));
  }
  throw MlflowException.invalidParameterValue(
    `A model without a task takes text prompts: a 'prompt' column (or a single text column), got ${pyRepr(offending).slice(0, 200)}`,
  );
}

/**
 * A generation the request itself made impossible (a prompt beyond the context, a grammar ORT-GenAI
 * cannot build) is the client's mistake: MLflow's INVALID_PARAMETER_VALUE (400) with its own message,
 * not an "unexpected error" with a stack trace.
 */
function refusal(err: unknown): unknown {
  if (err instanceof GuidanceError) {
    return MlflowException.invalidParameterValue(`The requested output format (response_format or tools) cannot be enforced: ${err.message}`, { cause: err });
  }
  if (err instanceof ValidationError) return MlflowException.invalidParameterValue(err.message, { cause: err });
  return err;
}

export type OrtGenAITask = 'llm/v1/chat' | 'llm/v1/completions';

/**
 * The pyfunc face of an ORT-GenAI model (the `_TransformersWrapper` analog):
 * - `llm/v1/chat`: OpenAI chat requests → `chat.completion` objects; streams `chat.completion.chunk`s;
 * - `llm/v1/completions`: `{prompt, ...}` → `text_completion` objects;
 * - no task: rows of `{prompt}` (enforced by the signature) → one generated string per row.
 * LLM tasks validate requests with the OpenAI schemas (a superset of MLflow's chat signature), so fields
 * like `response_format` are kept. A request's `stream` flag is ignored by `predict`; use `predictStream`.
 */
export class OrtGenAIPyfunc implements PyfuncImplementation {
  readonly validatesInput: boolean;
  readonly task: OrtGenAITask | undefined;
  readonly sourceModelName: string;
  readonly #model: Model;
  readonly #config: GenerationConfig;

  constructor(model: Model, task: OrtGenAITask | undefined, config: GenerationConfig, sourceModelName: string) {
    this.#model = model;
    this.task = task;
    this.#config = config;
    this.sourceModelName = sourceModelName;
    this.validatesInput = task !== undefined;
  }

  #context(options: PredictOptions): CompletionContext {
    return { model: this.#model, config: this.#config, modelName: this.sourceModelName, signal: options.signal };
  }

  /** One request row, validated; OpenAI's stricter rules too when it came from an OpenAI route. */
  #chatRequest(row: unknown, options: PredictOptions): ChatCompletionRequest {
    const request = parseRequest(chatCompletionRequestSchema, row, 'chat request');
    if (options.openai) checkOpenAIRequest(request, this.#model.contextLength);
    return request;
  }

  #completionRequest(row: unknown, options: PredictOptions): CompletionRequest {
    const request = parseRequest(completionRequestSchema, row, 'completions request');
    if (options.openai) checkOpenAIRequest(request, this.#model.contextLength);
    return request;
  }

  async predict(data: unknown, params: Record<string, unknown>, options: PredictOptions): Promise<unknown> {
    try {
      return await this.#predict(data, options);
    } catch (err) {
      throw refusal(err);
    }
  }

  async *predictStream(data: unknown, params: Record<string, unknown>, options: PredictOptions): AsyncGenerator<unknown> {
    try {
      yield* this.#predictStream(data, options);
    } catch (err) {
      throw refusal(err);
    }
  }

  async #predict(data: unknown, options: PredictOptions): Promise<unknown> {
    const ctx = this.#context(options);
    if (this.task === undefined) {
      const out: string[] = [];
      for (const prompt of prompts(data)) out.push(await generateText(ctx, prompt));
      return out;
    }
    const chat = this.task === 'llm/v1/chat';
    const rows = requestRows(data, chat ? 'messages' : 'prompt');
    const responses: unknown[] = [];
    for (const row of rows) {
      responses.push(
        chat
          ? await createChatCompletion(ctx, this.#chatRequest(row, options))
          : await createTextCompletion(ctx, this.#completionRequest(row, options)),
      );
    }
    return responses;
  }

  async *#predictStream(data: unknown, options: PredictOptions): AsyncGenerator<unknown> {
    const ctx = this.#context(options);
    if (this.task === undefined) {
      const [prompt, ...more] = prompts(data);
      if (prompt === undefined || more.length > 0) {
        throw MlflowException.invalidParameterValue(`'predictStream' requires a single prompt, but it got ${more.length + (prompt === undefined ? 0 : 1)}`);
      }
      yield* this.#model.stream(prompt, generateOptions({}, this.#config, options.signal));
      return;
    }
    const rows = requestRows(data, this.task === 'llm/v1/chat' ? 'messages' : 'prompt');
    if (rows.length !== 1) {
      throw MlflowException.invalidParameterValue(`'predictStream' requires single input, but it got ${rows.length} requests`);
    }
    if (this.task === 'llm/v1/chat') {
      yield* streamChatCompletion(ctx, this.#chatRequest(rows[0], options));
      return;
    }
    yield* streamTextCompletion(ctx, this.#completionRequest(rows[0], options));
  }

  async dispose(): Promise<void> {
    this.#model.dispose();
  }
}
