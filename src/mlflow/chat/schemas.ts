import { z } from 'zod';
import type { ToolCall } from '../../genai/index.js';
import { LONE_SURROGATE_MESSAGE, loneSurrogatePath } from './well-formed.js';

/**
 * OpenAI-compatible request bodies for the `llm/v1/chat` and `llm/v1/completions` tasks, validated at the
 * boundary. They accept everything MLflow's chat signature declares (mlflow-format.md §6.1) plus what
 * OpenAI clients send and ORT-GenAI can honour (`response_format`, `seed`, `stream_options`). Fields the
 * runtime cannot honour are refused rather than silently ignored; unknown fields are dropped, as the
 * OpenAI API does for fields it does not use.
 */

const textPart = z.object({ type: z.literal('text'), text: z.string() });

const toolCall = z.object({
  id: z.string(),
  type: z.string().default('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const chatMessageSchema = z
  .object({
    role: z.string().min(1),
    // OpenAI clients may send content as text parts; the chat template wants one string.
    content: z.union([z.string(), z.array(textPart).transform((parts) => parts.map((p) => p.text).join(''))]).nullish(),
    name: z.string().nullish(),
    refusal: z.string().nullish(),
    tool_call_id: z.string().nullish(),
    tool_calls: z.array(toolCall).nullish(),
  })
  .refine((m) => m.content != null || m.tool_calls != null || m.refusal != null, {
    message: 'a message needs content (or tool_calls / refusal)',
  });

const stopSchema = z.union([z.string().min(1), z.array(z.string().min(1)).max(16)]);

export const responseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().optional(),
      description: z.string().optional(),
      strict: z.boolean().nullish(),
      schema: z.record(z.string(), z.unknown()),
    }),
  }),
]);

const unsupportedPenalty = z
  .number()
  .refine((v) => v === 0, { message: 'is not supported by ORT-GenAI (only 0); use repetition_penalty in the model config' })
  .nullish();

/** Sampling and length controls shared by requests and the model config (request values win). */
export const generationFieldsSchema = z.object({
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(1).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  stop: stopSchema.nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  seed: z.number().int().nullish(),
  frequency_penalty: unsupportedPenalty,
  presence_penalty: unsupportedPenalty,
});

const requestFields = {
  ...generationFieldsSchema.shape,
  model: z.string().nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  response_format: responseFormatSchema.nullish(),
  custom_inputs: z.record(z.string(), z.unknown()).nullish(),
  user: z.string().nullish(),
};

/** Every string of a request reaches native code as UTF-8 (chat template, tokenizer, grammar). */
function wellFormed(request: object, ctx: z.RefinementCtx): void {
  const path = loneSurrogatePath(request);
  if (path !== undefined) ctx.addIssue({ code: 'custom', path: path.split('.'), message: LONE_SURROGATE_MESSAGE });
}

/** An OpenAI function tool; `parameters` is a JSON schema of the arguments. */
export const toolSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, underscores or dashes'),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});

export const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);

export const chatCompletionRequestSchema = z
  .object({
    ...requestFields,
    messages: z.array(chatMessageSchema).min(1),
    tools: z.array(toolSchema).nullish(),
    tool_choice: toolChoiceSchema.nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
  })
  .refine((r) => r.top_logprobs == null || r.logprobs === true, { path: ['top_logprobs'], message: 'needs logprobs: true' })
  .superRefine(wellFormed)
  .superRefine((request, ctx) => {
    const names = (request.tools ?? []).map((t) => t.function.name);
    const choice = request.tool_choice;
    if (choice != null && choice !== 'none' && names.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['tool_choice'], message: 'is only allowed when tools are given' });
    } else if (typeof choice === 'object' && choice !== null && !names.includes(choice.function.name)) {
      ctx.addIssue({ code: 'custom', path: ['tool_choice', 'function', 'name'], message: `'${choice.function.name}' is not one of the tools (${names.join(', ')})` });
    }
    const forced = choice === 'required' || (typeof choice === 'object' && choice !== null);
    if (forced && request.response_format && request.response_format.type !== 'text') {
      ctx.addIssue({ code: 'custom', path: ['response_format'], message: "cannot be combined with tool_choice 'required' or a named function: both constrain the output" });
    }
  });

export const completionRequestSchema = z
  .object({
    ...requestFields,
    prompt: z.string(),
    // The legacy API's logprobs: how many alternatives per token (OpenAI allows up to 5).
    logprobs: z.number().int().min(0).max(5).nullish(),
  })
  .superRefine(wellFormed);

/**
 * The `modelConfig` of an ORT-GenAI model: defaults for every request. Besides the request fields it takes
 * MLflow transformers' `max_new_tokens` and ORT-GenAI's `repetition_penalty` and `do_sample`.
 */
export const generationConfigSchema = generationFieldsSchema
  .extend({
    max_new_tokens: z.number().int().min(1).nullish(),
    repetition_penalty: z.number().gt(0).nullish(),
    do_sample: z.boolean().nullish(),
  })
  .strict();

export type ChatMessage = z.output<typeof chatMessageSchema>;
export type ChatCompletionRequest = z.output<typeof chatCompletionRequestSchema>;
export type CompletionRequest = z.output<typeof completionRequestSchema>;
export type ResponseFormat = z.output<typeof responseFormatSchema>;
export type Tool = z.output<typeof toolSchema>;
export type ToolChoice = z.output<typeof toolChoiceSchema>;
export type GenerationConfig = z.output<typeof generationConfigSchema>;
export type ChatCompletionRequestInput = z.input<typeof chatCompletionRequestSchema>;

export type FinishReason = 'stop' | 'length';
export type ChatFinishReason = FinishReason | 'tool_calls';

/** Tool calls as genai's parser reads them from the output: OpenAI's shape already. */
export type { ToolCall };

/** A tool call in a stream chunk: complete here, so `id`, `type` and `function.name` always come along. */
export interface ToolCallDelta extends ToolCall {
  index: number;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** OpenAI's chat `logprobs` of a choice (logprobs.ts). */
export interface ChatTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

export interface ChatLogprobs {
  content: ChatTokenLogprob[];
  refusal: null;
}

/** The legacy completions `logprobs` of a choice. */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] };
    finish_reason: ChatFinishReason;
    logprobs?: ChatLogprobs | null;
  }[];
  usage: Usage;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: 'assistant'; content?: string; tool_calls?: ToolCallDelta[] };
    finish_reason: ChatFinishReason | null;
    logprobs?: ChatLogprobs | null;
  }[];
  usage?: Usage | null;
}

export interface TextCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { index: number; text: string; finish_reason: FinishReason; logprobs?: CompletionLogprobs | null }[];
  usage: Usage;
}

export interface TextCompletionChunk {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { index: number; text: string; finish_reason: FinishReason | null; logprobs?: CompletionLogprobs | null }[];
}
