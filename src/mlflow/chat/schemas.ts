import { z } from 'zod';
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
  logprobs: z.literal(false).nullish(),
};

/** Every string of a request reaches native code as UTF-8 (chat template, tokenizer, grammar). */
function wellFormed(request: object, ctx: z.RefinementCtx): void {
  const path = loneSurrogatePath(request);
  if (path !== undefined) ctx.addIssue({ code: 'custom', path: path.split('.'), message: LONE_SURROGATE_MESSAGE });
}

export const chatCompletionRequestSchema = z
  .object({
    ...requestFields,
    messages: z.array(chatMessageSchema).min(1),
    tools: z.array(z.record(z.string(), z.unknown())).nullish(),
  })
  .superRefine(wellFormed);

export const completionRequestSchema = z
  .object({
    ...requestFields,
    prompt: z.string(),
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
export type GenerationConfig = z.output<typeof generationConfigSchema>;
export type ChatCompletionRequestInput = z.input<typeof chatCompletionRequestSchema>;

export type FinishReason = 'stop' | 'length';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: { index: number; message: { role: 'assistant'; content: string }; finish_reason: FinishReason }[];
  usage: Usage;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: { index: number; delta: { role?: 'assistant'; content?: string }; finish_reason: FinishReason | null }[];
  usage?: Usage | null;
}

export interface TextCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { index: number; text: string; finish_reason: FinishReason }[];
  usage: Usage;
}

export interface TextCompletionChunk {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { index: number; text: string; finish_reason: FinishReason | null }[];
}
