import { UsageError } from './args.js';
import type { OrtGenAITask } from '../mlflow/flavors/ortgenai-pyfunc.js';

/** What --task takes when an ORT-GenAI folder becomes an MLflow model (`save`, and `serve` of a plain folder). */
export const TASK_CHOICES = ['llm/v1/chat', 'llm/v1/completions', 'none'] as const;

/** --task as the flavor's task: llm/v1/chat when absent, undefined for none (plain text generation). */
export function taskFlag(text: string | undefined): OrtGenAITask | undefined {
  const task = text ?? 'llm/v1/chat';
  if (!(TASK_CHOICES as readonly string[]).includes(task)) throw new UsageError(`--task must be one of ${TASK_CHOICES.join(', ')}, got '${task}'`);
  return task === 'none' ? undefined : (task as OrtGenAITask);
}
