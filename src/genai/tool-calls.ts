import { randomUUID } from 'node:crypto';

/**
 * Tool calls in a model's output, in OpenAI's `message.tool_calls` shape (the llm/v1/chat flavor returns them as
 * they are, ChatSession calls their handlers). Two shapes are understood:
 * - Phi-3.5 / Phi-4-mini: `<|tool_call|>[{"name": ..., "arguments": {...}}]<|/tool_call|>` after optional
 *   text (that text is the message content);
 * - plain JSON, the whole output: one call object or a list of them (`arguments` or `parameters`), also
 *   inside a ```json fence. This is also what the guidance of `tool_choice: "required"` produces.
 * A call must name one of the given functions; anything else stays text.
 */

/** A function the model may call: what the chat template shows it and guidance holds it to. */
export interface FunctionDefinition {
  /** 1-64 letters, digits, underscores or dashes. */
  name: string;
  description?: string;
  /** The JSON schema of its arguments (an object). */
  parameters?: Record<string, unknown>;
}

/** A call the model asked for; `arguments` is the JSON text it wrote. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const OPEN = '<|tool_call|>';
const CLOSE = '<|/tool_call|>';
const FENCE = /^```(?:json)?\s*([\s\S]*?)\s*```$/;

export interface ParsedOutput {
  content: string | null;
  toolCalls: ToolCall[];
}

function toolCall(value: unknown, names: ReadonlySet<string>): ToolCall | undefined {
  if (!isRecord(value) || typeof value.name !== 'string' || !names.has(value.name)) return undefined;
  const args = value.arguments ?? value.parameters ?? {};
  if (typeof args !== 'string' && !isRecord(args)) return undefined;
  return {
    id: `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
    type: 'function',
    function: { name: value.name, arguments: typeof args === 'string' ? args : JSON.stringify(args) },
  };
}

/** The calls of a JSON text (an object or a list of objects), or undefined when it is not exactly that. */
function jsonCalls(text: string, names: ReadonlySet<string>): ToolCall[] | undefined {
  const body = FENCE.exec(text.trim())?.[1] ?? text.trim();
  if (!body.startsWith('{') && !body.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const items = Array.isArray(value) ? value : [value];
  const calls = items.map((item) => toolCall(item, names));
  return calls.length > 0 && calls.every((c) => c !== undefined) ? (calls as ToolCall[]) : undefined;
}

/** Splits a finished output into content and tool calls. */
export function parseToolCalls(text: string, toolNames: readonly string[]): ParsedOutput {
  const names = new Set(toolNames);
  const open = text.indexOf(OPEN);
  if (open !== -1) {
    const calls: ToolCall[] = [];
    let rest = text.slice(open);
    while (rest.startsWith(OPEN)) {
      const close = rest.indexOf(CLOSE);
      const parsed = jsonCalls(rest.slice(OPEN.length, close === -1 ? undefined : close), names);
      if (!parsed) return { content: text, toolCalls: [] };
      calls.push(...parsed);
      rest = close === -1 ? '' : rest.slice(close + CLOSE.length).trimStart();
    }
    if (rest !== '') return { content: text, toolCalls: [] };
    const before = text.slice(0, open).trim();
    return { content: before === '' ? null : before, toolCalls: calls };
  }
  const calls = jsonCalls(text, names);
  return calls ? { content: null, toolCalls: calls } : { content: text, toolCalls: [] };
}

/**
 * Streaming: text that may turn out to be a tool call is held back until the output ends; everything
 * else passes at once. Held: output that starts (after blanks) with `{`, `[` or a ``` fence, or that
 * could still become one; and anything from a `<|tool_call|>` marker on.
 */
export class ToolCallStream {
  #text = '';
  #passed = 0;
  #holdAll = false;
  #decided = false;

  constructor(readonly toolNames: readonly string[]) {}

  /** Text that can be streamed as content now. */
  push(chunk: string): string {
    this.#text += chunk;
    if (!this.#decided) {
      const start = this.#text.trimStart();
      if (start === '' || '```'.startsWith(start) || OPEN.startsWith(start)) return '';
      this.#decided = true;
      this.#holdAll = /^(\{|\[|```|<\|tool_call\|>)/.test(start);
    }
    if (this.#holdAll) return '';
    // Hold back a marker, or what may be the beginning of one at the end of the text.
    let end = this.#text.indexOf(OPEN, this.#passed);
    if (end === -1) {
      end = this.#text.length;
      for (let k = Math.min(OPEN.length - 1, this.#text.length - this.#passed); k > 0; k--) {
        if (OPEN.startsWith(this.#text.slice(-k))) {
          end = this.#text.length - k;
          break;
        }
      }
    } else {
      this.#holdAll = true;
    }
    const out = this.#text.slice(this.#passed, end);
    this.#passed = end;
    return out;
  }

  /** At the end: the held-back content (if the held text was no tool call) and the calls. */
  end(): { content: string; toolCalls: ToolCall[] } {
    const parsed = parseToolCalls(this.#text, this.toolNames);
    if (parsed.toolCalls.length === 0) return { content: this.#text.slice(this.#passed), toolCalls: [] };
    // Content already streamed is not repeated; only what was held back before the marker is added.
    const open = this.#text.indexOf(OPEN);
    return { content: open === -1 ? '' : this.#text.slice(this.#passed, open).trimEnd(), toolCalls: parsed.toolCalls };
  }
}
