import type { GenerateOptions } from '../../genai/index.js';
import type { ChatCompletionRequest, Tool } from './schemas.js';

/**
 * `tool_choice: "required"` or a named function, enforced with ORT-GenAI guidance: the output must be
 * JSON tool calls, `[{"name": <a tool>, "arguments": <its parameters schema>}, ...]` (one call when a
 * function is named or `parallel_tool_calls` is false), which tool-calls.ts then parses. Whitespace is
 * compact for the reason response_format's is: a weak model could spend its budget on blanks.
 */

function callSchema(tool: Tool): Record<string, unknown> {
  return {
    type: 'object',
    properties: { name: { const: tool.function.name }, arguments: tool.function.parameters ?? { type: 'object' } },
    required: ['name', 'arguments'],
    additionalProperties: false,
  };
}

export function toolGuidance(request: ChatCompletionRequest): GenerateOptions['guidance'] {
  const choice = request.tool_choice;
  const tools = request.tools ?? [];
  if (tools.length === 0 || choice == null || choice === 'none' || choice === 'auto') return undefined;
  const named = typeof choice === 'object' ? tools.filter((t) => t.function.name === choice.function.name) : tools;
  const single = typeof choice === 'object' || request.parallel_tool_calls === false;
  const item = named.length === 1 ? callSchema(named[0]) : { anyOf: named.map(callSchema) };
  const schema = { type: 'array', items: item, minItems: 1, ...(single ? { maxItems: 1 } : {}), 'x-guidance': { whitespace_flexible: false } };
  return { type: 'json_schema', data: JSON.stringify(schema) };
}

/** Whether the output is to be read for tool calls: tools were given and not turned off. */
export function wantsToolCalls(request: ChatCompletionRequest): boolean {
  return (request.tools?.length ?? 0) > 0 && request.tool_choice !== 'none';
}
