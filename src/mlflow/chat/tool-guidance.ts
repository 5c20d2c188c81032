import { toolCallGuidance, type GenerateOptions } from '../../genai/index.js';
import type { ChatCompletionRequest } from './schemas.js';

/**
 * `tool_choice: "required"` or a named function, as genai's tool-call guidance over the request's tools: one call
 * when a function is named or `parallel_tool_calls` is false.
 */
export function toolGuidance(request: ChatCompletionRequest): GenerateOptions['guidance'] {
  const choice = request.tool_choice;
  const tools = request.tools ?? [];
  if (tools.length === 0 || choice == null || choice === 'none' || choice === 'auto') return undefined;
  const named = typeof choice === 'object' ? tools.filter((t) => t.function.name === choice.function.name) : tools;
  const functions = named.map((t) => ({ name: t.function.name, ...(t.function.parameters ? { parameters: t.function.parameters } : {}) }));
  return toolCallGuidance(functions, typeof choice === 'object' || request.parallel_tool_calls === false);
}

/** Whether the output is to be read for tool calls: tools were given and not turned off. */
export function wantsToolCalls(request: ChatCompletionRequest): boolean {
  return (request.tools?.length ?? 0) > 0 && request.tool_choice !== 'none';
}
