import type { z } from 'zod';
import { MlflowException } from '../errors.js';
import { columnsToRecords } from '../pyfunc/pyfunc-model.js';
import { isRecord } from '../signature/types.js';
import { describeIssues } from '../../zod-issues.js';

/**
 * How LLM-task input reaches `predict`. As MLflow's transformers flavor (3.18), `predict` answers a list,
 * one response per input row, also for a single request object; the OpenAI routes unwrap it.
 */

/** The request rows of `data`: one request object, a list of them, or a column table (dataframe payloads). `key` is the task's required column. */
export function requestRows(data: unknown, key: 'messages' | 'prompt'): unknown[] {
  if (Array.isArray(data)) return data;
  if (isRecord(data) && Array.isArray(data[key]) && (key === 'prompt' || Array.isArray(data[key][0]))) {
    return columnsToRecords(data, (data[key] as unknown[]).length);
  }
  return [data];
}

/** Validate one request; zod's issues become an INVALID_PARAMETER_VALUE error naming each field. */
export function parseRequest<S extends z.ZodType>(schema: S, row: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(row);
  if (parsed.success) return parsed.data;
  const issues = describeIssues(parsed.error, '(request)');
  throw MlflowException.invalidParameterValue(`Invalid ${what}: ${issues.join('; ')}`);
}
