import { DisposedError, ValidationError } from '../../errors.js';
import { MlflowException } from '../../mlflow/errors.js';
import type { Exchange } from '../exchange.js';
import { ServerBusyError } from '../limiter.js';

/** The error object of OpenAI's API: `{"error": {"message", "type", "param", "code"}}`. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openaiError(message: string, status: number, code: string | null = null, param: string | null = null): OpenAIErrorBody {
  const type = status === 504 ? 'timeout_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, param, code } };
}

export function sendOpenAIError(ex: Exchange, status: number, message: string, code: string | null = null, param: string | null = null): void {
  ex.sendJson(status, openaiError(message, status, code, param));
}

/** Status and body for anything a chat/completions request can fail with. */
export function describeFailure(ex: Exchange, err: unknown, timeout: number): { status: number; body: OpenAIErrorBody } | undefined {
  switch (ex.abortKind) {
    case 'timeout':
      return { status: 504, body: openaiError(`Request processing time exceeded limit (${timeout} s)`, 504, 'timeout') };
    case 'shutdown':
      return { status: 503, body: openaiError('The server is shutting down', 503, 'server_shutting_down') };
    case 'disconnect':
      return undefined;
  }
  if (err instanceof ServerBusyError) return { status: 503, body: openaiError(err.message, 503, 'overloaded') };
  if (err instanceof MlflowException) return { status: err.httpStatus, body: openaiError(err.message, err.httpStatus, err.errorCode.toLowerCase()) };
  if (err instanceof ValidationError) return { status: 400, body: openaiError(err.message, 400, 'invalid_value') };
  if (err instanceof DisposedError) return { status: 503, body: openaiError('The model is no longer loaded (it was disposed)', 503, 'model_unloaded') };
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: openaiError(`The model failed: ${message}`, 500, 'internal_error') };
}
