import type { GenerateOptions } from './generate-options.js';
import type { FunctionDefinition } from './tool-calls.js';

/**
 * Forced tool calls (OpenAI's `tool_choice: "required"` or a named function), enforced with ORT-GenAI guidance:
 * the output must be JSON tool calls, `[{"name": <a function>, "arguments": <its parameters schema>}, ...]`, which
 * tool-calls.ts then parses. Whitespace is compact for the reason response_format's is: a weak model could spend
 * its budget on blanks.
 */

function callSchema(fn: FunctionDefinition): Record<string, unknown> {
  return {
    type: 'object',
    properties: { name: { const: fn.name }, arguments: fn.parameters ?? { type: 'object' } },
    required: ['name', 'arguments'],
    additionalProperties: false,
  };
}

/** Guidance for a call of one of `functions` (at least one); `single`: exactly one call, else one or more. */
export function toolCallGuidance(functions: readonly FunctionDefinition[], single: boolean): NonNullable<GenerateOptions['guidance']> {
  const item = functions.length === 1 ? callSchema(functions[0]) : { anyOf: functions.map(callSchema) };
  const schema = { type: 'array', items: item, minItems: 1, ...(single ? { maxItems: 1 } : {}), 'x-guidance': { whitespace_flexible: false } };
  return { type: 'json_schema', data: JSON.stringify(schema) };
}
