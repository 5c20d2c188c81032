import { randomUUID } from 'node:crypto';
import { AbortError } from '../../errors.js';
import { parseToolCalls, ToolCallStream, type GenerateOptions, type GenerateResult, type Model, type TokenLogprob } from '../../genai/index.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatFinishReason,
  CompletionRequest,
  FinishReason,
  GenerationConfig,
  ResponseFormat,
  TextCompletion,
  TextCompletionChunk,
  Usage,
} from './schemas.js';
import { chatLogprobs, completionLogprobs, requestedLogprobs, TokenTexts } from './logprobs.js';
import { samplingOptions } from './sampling.js';
import { toolGuidance, wantsToolCalls } from './tool-guidance.js';

/**
 * OpenAI chat/completions responses produced with an ORT-GenAI model. Precedence of settings, as in
 * MLflow's transformers flavor: request fields > the model config > ORT-GenAI's defaults
 * (genai_config.json search options); sampling fields mean what OpenAI clients mean (sampling.ts). `n`
 * choices are generated one after another from the same prompt; with a `seed`, choice i uses `seed + i`,
 * so choices differ yet replay exactly.
 */

type Request = ChatCompletionRequest | CompletionRequest;

export interface CompletionContext {
  model: Model;
  config: GenerationConfig;
  /** The `model` field of responses (the saved model's name). */
  modelName: string;
  signal?: AbortSignal;
}

/**
 * `response_format` as ORT-GenAI guidance. Unless the schema says otherwise (`x-guidance`), JSON is
 * constrained to compact whitespace: with flexible whitespace a weak model can spend its whole token
 * budget on blanks and never close the object.
 */
function guidance(format: ResponseFormat | null | undefined): GenerateOptions['guidance'] {
  if (!format || format.type === 'text') return undefined;
  const schema = format.type === 'json_object' ? { type: 'object' } : format.json_schema.schema;
  const data = 'x-guidance' in schema ? schema : { ...schema, 'x-guidance': { whitespace_flexible: false } };
  return { type: 'json_schema', data: JSON.stringify(data) };
}

/** The generate options for one request: sampling as {@link samplingOptions}, the rest request > config. */
export function generateOptions(request: Partial<Request>, config: GenerationConfig, signal?: AbortSignal): GenerateOptions {
  const stop = request.stop ?? config.stop ?? undefined;
  const options: GenerateOptions = {
    maxTokens: request.max_completion_tokens ?? request.max_tokens ?? config.max_tokens ?? config.max_new_tokens ?? undefined,
    ...samplingOptions(request, config),
    repetitionPenalty: config.repetition_penalty ?? undefined,
    stop: stop == null ? undefined : typeof stop === 'string' ? [stop] : stop,
    logprobs: requestedLogprobs(request),
    guidance: ('messages' in request && request.messages ? toolGuidance(request as ChatCompletionRequest) : undefined) ?? guidance(request.response_format),
    signal,
  };
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as GenerateOptions;
}

function choiceCount(request: Partial<Request>, config: GenerationConfig): number {
  return request.n ?? config.n ?? 1;
}

function withSeed(options: GenerateOptions, index: number): GenerateOptions {
  return options.seed === undefined ? options : { ...options, seed: options.seed + index };
}

function finishReason(result: GenerateResult, signal?: AbortSignal): FinishReason {
  if (result.finishReason === 'abort') throw new AbortError('The completion was aborted', { cause: signal?.reason });
  return result.finishReason;
}

/**
 * The chat template of the model's tokenizer, with the assistant turn opened. Tools go to the library's
 * `tools` argument and, as a JSON string, to the system message's `tools` field (where Phi-4-mini's
 * template reads them). Messages keep `tool_calls` / `tool_call_id` / `name` for templates that use them;
 * an assistant message with only tool calls gets them as its content in the Phi format, so templates that
 * print only content still show the model its own calls.
 */
export function chatPrompt(model: Model, request: ChatCompletionRequest): string {
  const tools = request.tools?.length ? JSON.stringify(request.tools) : undefined;
  const messages = request.messages.map((m) => {
    const calls = m.tool_calls?.map((c) => ({ name: c.function.name, arguments: parseArguments(c.function.arguments) }));
    const content = m.content ?? (calls?.length ? `<|tool_call|>${JSON.stringify(calls)}<|/tool_call|>` : '');
    return {
      role: m.role,
      content,
      ...(m.name != null ? { name: m.name } : {}),
      ...(m.tool_calls != null ? { tool_calls: m.tool_calls } : {}),
      ...(m.tool_call_id != null ? { tool_call_id: m.tool_call_id } : {}),
      ...(tools && m.role === 'system' ? { tools } : {}),
    };
  });
  return model.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true, ...(tools ? { tools } : {}) });
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A chat choice's message: tool calls read from the text when the request has tools. */
function chatChoice(request: ChatCompletionRequest, result: GenerateResult, index: number, texts: TokenTexts, signal?: AbortSignal): ChatCompletion['choices'][0] {
  const reason = finishReason(result, signal);
  const logprobs = result.logprobs ? { logprobs: chatLogprobs(result.logprobs, texts) } : {};
  const { content, toolCalls } = wantsToolCalls(request) ? parseToolCalls(result.text, toolNames(request)) : { content: result.text, toolCalls: [] };
  if (toolCalls.length === 0) return { index, message: { role: 'assistant', content: result.text }, finish_reason: reason, ...logprobs };
  return { index, message: { role: 'assistant', content, tool_calls: toolCalls }, finish_reason: 'tool_calls', ...logprobs };
}

const toolNames = (request: ChatCompletionRequest) => (request.tools ?? []).map((t) => t.function.name);

async function generateChoices(ctx: CompletionContext, prompt: string, request: Partial<Request>) {
  const options = generateOptions(request, ctx.config, ctx.signal);
  const results: GenerateResult[] = [];
  for (let i = 0; i < choiceCount(request, ctx.config); i++) results.push(await ctx.model.generate(prompt, withSeed(options, i)));
  const completion = results.reduce((sum, r) => sum + r.completionTokens, 0);
  const usage: Usage = { prompt_tokens: results[0].promptTokens, completion_tokens: completion, total_tokens: results[0].promptTokens + completion };
  return { results, usage };
}

const header = (prefix: string, modelName: string) => ({
  id: `${prefix}-${randomUUID().replaceAll('-', '')}`,
  created: Math.floor(Date.now() / 1000),
  model: modelName,
});

export async function createChatCompletion(ctx: CompletionContext, request: ChatCompletionRequest): Promise<ChatCompletion> {
  const { results, usage } = await generateChoices(ctx, chatPrompt(ctx.model, request), request);
  return {
    ...header('chatcmpl', ctx.modelName),
    object: 'chat.completion',
    choices: results.map((r, index) => chatChoice(request, r, index, new TokenTexts(ctx.model.tokenizer), ctx.signal)),
    usage,
  };
}

export async function createTextCompletion(ctx: CompletionContext, request: CompletionRequest): Promise<TextCompletion> {
  const { results, usage } = await generateChoices(ctx, request.prompt, request);
  return {
    ...header('cmpl', ctx.modelName),
    object: 'text_completion',
    choices: results.map((r, index) => ({
      index,
      text: r.text,
      finish_reason: finishReason(r, ctx.signal),
      ...(r.logprobs ? { logprobs: completionLogprobs(r.logprobs, new TokenTexts(ctx.model.tokenizer)) } : {}),
    })),
    usage,
  };
}

/** `logprobs`: with that option, the entries of the tokens produced since the previous event. */
type StreamEvent =
  | { kind: 'start'; index: number }
  | { kind: 'text'; index: number; text: string; logprobs?: TokenLogprob[] }
  | { kind: 'finish'; index: number; reason: FinishReason; logprobs?: TokenLogprob[] }
  | { kind: 'usage'; usage: Usage };

/**
 * The n choices of one prompt as events, choice after choice. Stopping the iteration early stops
 * generation (the linked AbortController fires in `finally`).
 */
async function* streamChoices(ctx: CompletionContext, prompt: string, request: Partial<Request>): AsyncGenerator<StreamEvent> {
  const controller = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, controller.signal]) : controller.signal;
  const options = generateOptions(request, ctx.config, signal);
  const eos = ctx.model.tokenizer.eosTokenIds;
  let promptTokens = 0;
  let completionTokens = 0;
  try {
    for (let index = 0; index < choiceCount(request, ctx.config); index++) {
      const stream = ctx.model.stream(prompt, withSeed(options, index));
      const texts = stream[Symbol.asyncIterator]();
      let seen = 0;
      const fresh = () => {
        if (!stream.logprobs) return {};
        let end = stream.logprobs.length;
        // The end-of-sequence token is no part of the answer (the result drops its entry too).
        if (end > seen && eos.includes(stream.logprobs[end - 1].token)) end -= 1;
        const entries = stream.logprobs.slice(seen, end);
        seen = end;
        return { logprobs: entries };
      };
      try {
        // The first text (or the end) comes once the generation really runs, so a request the model
        // refuses (prompt beyond the context, a grammar it cannot build) fails before the first event.
        let next = await texts.next();
        yield { kind: 'start', index };
        for (; !next.done; next = await texts.next()) if (next.value !== '') yield { kind: 'text', index, text: next.value, ...fresh() };
      } finally {
        await texts.return?.();
      }
      const result = await stream.result;
      promptTokens = result.promptTokens;
      completionTokens += result.completionTokens;
      const reason = finishReason(result, ctx.signal);
      yield { kind: 'finish', index, reason, ...(stream.logprobs ? { logprobs: result.logprobs!.slice(seen) } : {}) };
    }
    yield { kind: 'usage', usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } };
  } finally {
    controller.abort();
  }
}

/**
 * `chat.completion.chunk`s as OpenAI streams them: per choice a role chunk, content chunks and a final
 * chunk with `finish_reason`; then, if `stream_options.include_usage`, one chunk with `usage` and no
 * choices.
 */
export async function* streamChatCompletion(ctx: CompletionContext, request: ChatCompletionRequest): AsyncGenerator<ChatCompletionChunk> {
  const base = { ...header('chatcmpl', ctx.modelName), object: 'chat.completion.chunk' as const };
  const chunk = (index: number, delta: ChatCompletionChunk['choices'][0]['delta'], finish: ChatFinishReason | null = null, extra = {}): ChatCompletionChunk => ({
    ...base,
    choices: [{ index, delta, finish_reason: finish, ...extra }],
  });
  let tools: ToolCallStream | undefined;
  const texts = new TokenTexts(ctx.model.tokenizer);
  const logprobs = (entries: TokenLogprob[] | undefined) => (entries ? { logprobs: chatLogprobs(entries, texts) } : {});
  for await (const event of streamChoices(ctx, chatPrompt(ctx.model, request), request)) {
    switch (event.kind) {
      case 'usage':
        if (request.stream_options?.include_usage) yield { ...base, choices: [], usage: event.usage };
        break;
      case 'start':
        tools = wantsToolCalls(request) ? new ToolCallStream(toolNames(request)) : undefined;
        yield chunk(event.index, { role: 'assistant', content: '' });
        break;
      case 'text': {
        const text = tools ? tools.push(event.text) : event.text;
        // Held-back text still reports its tokens: logprobs follow generation, content follows the parser.
        if (text !== '' || event.logprobs?.length) yield chunk(event.index, { content: text }, null, logprobs(event.logprobs));
        break;
      }
      case 'finish': {
        const held = tools?.end();
        if (held?.content) yield chunk(event.index, { content: held.content });
        // Each call in one delta (id, name and the whole arguments): the openai client accumulates it alike.
        for (const [i, call] of (held?.toolCalls ?? []).entries()) yield chunk(event.index, { tool_calls: [{ index: i, ...call }] });
        yield chunk(event.index, {}, held?.toolCalls.length ? 'tool_calls' : event.reason, event.logprobs?.length ? logprobs(event.logprobs) : {});
      }
    }
  }
}

/** The legacy completions stream: `text_completion` chunks with text, then one with `finish_reason` per choice. */
export async function* streamTextCompletion(ctx: CompletionContext, request: CompletionRequest): AsyncGenerator<TextCompletionChunk> {
  const base = { ...header('cmpl', ctx.modelName), object: 'text_completion' as const };
  const texts = new TokenTexts(ctx.model.tokenizer);
  let offset = 0;
  const logprobs = (entries: TokenLogprob[] | undefined) => {
    if (!entries) return {};
    const out = completionLogprobs(entries, texts, offset);
    offset += entries.reduce((n, e) => n + e.text.length, 0);
    return { logprobs: out };
  };
  for await (const event of streamChoices(ctx, request.prompt, request)) {
    if (event.kind === 'start') offset = 0;
    if (event.kind === 'text') yield { ...base, choices: [{ index: event.index, text: event.text, finish_reason: null, ...logprobs(event.logprobs) }] };
    if (event.kind === 'finish') {
      const extra = event.logprobs?.length ? logprobs(event.logprobs) : {};
      yield { ...base, choices: [{ index: event.index, text: '', finish_reason: event.reason, ...extra }] };
    }
  }
}

/** Plain text generation (no task): the text, or AbortError when cancelled. */
export async function generateText(ctx: CompletionContext, prompt: string): Promise<string> {
  const result = await ctx.model.generate(prompt, generateOptions({}, ctx.config, ctx.signal));
  finishReason(result, ctx.signal);
  return result.text;
}
