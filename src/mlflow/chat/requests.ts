import type { z } from 'zod';
import { MlflowException } from '../errors.js';
import { columnsToRecords } from '../pyfunc/pyfunc-model.js';
import { isRecord } from '../signature/types.js';

/**
 * How LLM-task input reaches `predict`, and what comes back. MLflow's transformers flavor answers a list
 * (one response per input row) even for a single request; OpenAI clients and MLflow's ChatModel expect one
 * object. We answer in the shape asked: one request object → one response; a list of requests (or a
 * column table, as dataframe payloads arrive) → a list of responses.
 */

/** The request rows of `data` and whether it was a single request. `key` is the task's required column. */
export function requestRows(data: unknown, key: 'messages' | 'prompt'): { rows: unknown[]; single: boolean } {
  if (Array.isArray(data)) return { rows: data, single: false };
  if (isRecord(data) && Array.isArray(data[key]) && (key === 'prompt' || Array.isArray(data[key][0]))) {
    return { rows: columnsToRecords(data, (data[key] as unknown[]).length), single: false };
  }
  return { rows: [data], single: true };
}

/** Validate one request; zod's issues become an INVALID_PARAMETER_VALUE error naming each field. */
export function parseRequest<S extends z.ZodType>(schema: S, row: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(row);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(request)'}: ${i.message}`);
  throw MlflowException.invalidParameterValue(`Invalid ${what}: ${issues.join('; ')}`);
}
