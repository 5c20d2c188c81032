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
import { chatCompletionRequestSchema, completionRequestSchema, type GenerationConfig } from '../chat/schemas.js';
import { MlflowException } from '../errors.js';
import type { PredictOptions, PyfuncImplementation } from '../pyfunc/pyfunc-model.js';
import { pyRepr } from '../signature/python.js';
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
  readonly #model: Model;
  readonly #task: OrtGenAITask | undefined;
  readonly #config: GenerationConfig;
  readonly #modelName: string;

  constructor(model: Model, task: OrtGenAITask | undefined, config: GenerationConfig, modelName: string) {
    this.#model = model;
    this.#task = task;
    this.#config = config;
    this.#modelName = modelName;
    this.validatesInput = task !== undefined;
  }

  #context(options: PredictOptions): CompletionContext {
    return { model: this.#model, config: this.#config, modelName: this.#modelName, signal: options.signal };
  }

  async predict(data: unknown, _params: Record<string, unknown>, options: PredictOptions): Promise<unknown> {
    const ctx = this.#context(options);
    if (this.#task === undefined) {
      const out: string[] = [];
      for (const prompt of prompts(data)) out.push(await generateText(ctx, prompt));
      return out;
    }
    const chat = this.#task === 'llm/v1/chat';
    const rows = requestRows(data, chat ? 'messages' : 'prompt');
    const responses: unknown[] = [];
    for (const row of rows) {
      responses.push(
        chat
          ? await createChatCompletion(ctx, parseRequest(chatCompletionRequestSchema, row, 'chat request'))
          : await createTextCompletion(ctx, parseRequest(completionRequestSchema, row, 'completions request')),
      );
    }
    return responses;
  }

  async *predictStream(data: unknown, _params: Record<string, unknown>, options: PredictOptions): AsyncGenerator<unknown> {
    const ctx = this.#context(options);
    if (this.#task === undefined) {
      const [prompt, ...more] = prompts(data);
      if (prompt === undefined || more.length > 0) {
        throw MlflowException.invalidParameterValue(`'predictStream' requires a single prompt, but it got ${more.length + (prompt === undefined ? 0 : 1)}`);
      }
      yield* this.#model.stream(prompt, generateOptions({}, this.#config, options.signal));
      return;
    }
    const rows = requestRows(data, this.#task === 'llm/v1/chat' ? 'messages' : 'prompt');
    if (rows.length !== 1) {
      throw MlflowException.invalidParameterValue(`'predictStream' requires single input, but it got ${rows.length} requests`);
    }
    if (this.#task === 'llm/v1/chat') {
      yield* streamChatCompletion(ctx, parseRequest(chatCompletionRequestSchema, rows[0], 'chat request'));
      return;
    }
    yield* streamTextCompletion(ctx, parseRequest(completionRequestSchema, rows[0], 'completions request'));
  }

  async dispose(): Promise<void> {
    this.#model.dispose();
  }
}
