import { MlflowException } from '../errors.js';
import type { ChatCompletionRequest, CompletionRequest } from './schemas.js';

/**
 * What OpenAI's API refuses and MLflow's chat signature takes: a `role` outside OpenAI's set (MLflow's
 * signature says only "string", and the chat template gets it as is) and a `max_tokens` the model can never
 * reach. Applied to requests from the OpenAI routes only, so each route behaves like its own protocol.
 */

export const OPENAI_ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

export function checkOpenAIRequest(request: ChatCompletionRequest | CompletionRequest, contextLength: number | undefined): void {
  if ('messages' in request) {
    request.messages.forEach((m, i) => {
      if (!(OPENAI_ROLES as readonly string[]).includes(m.role)) {
        throw MlflowException.invalidParameterValue(
          `Invalid value for 'messages.${i}.role': '${m.role}'. Supported values are: ${OPENAI_ROLES.map((r) => `'${r}'`).join(', ')}.`,
        );
      }
    });
  }
  for (const field of ['max_tokens', 'max_completion_tokens'] as const) {
    const value = request[field];
    if (value != null && contextLength !== undefined && value > contextLength) {
      throw MlflowException.invalidParameterValue(
        `${field} is too large: ${value}. This model's context is ${contextLength} tokens, so it supports at most ${contextLength} completion tokens.`,
      );
    }
  }
}
