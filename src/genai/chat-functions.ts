/**
 * The functions a ChatSession lets its model call: their definitions (validated, shown to the chat template, held to
 * by guidance when a call is forced) and their handlers, which the session calls with the arguments the model wrote.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { describeIssues } from '../zod-issues.js';
import type { GenerateOptions } from './generate-options.js';
import type { ChatMessage } from './tokenizer.js';
import type { FunctionDefinition, ToolCall } from './tool-calls.js';
import { toolCallGuidance } from './tool-guidance.js';

export interface ChatFunctionContext {
  /** The turn's signal: aborted when the turn is (a handler that honours it ends early). */
  signal: AbortSignal;
}

export interface ChatFunction {
  description?: string;
  /**
   * The JSON schema of the arguments object. Forced calls (toolChoice 'required' / named) are held to it by
   * guidance; every call's arguments are checked against it (zod's `fromJSONSchema`) before the handler runs.
   */
  parameters?: Record<string, unknown>;
  /**
   * Called with the parsed arguments (typed `any`: they are what `parameters` says, so a handler may declare their
   * type); what it returns (or resolves to) goes to the model as JSON.
   */
  handler: (args: any, context: ChatFunctionContext) => unknown;
}

/**
 * 'auto': the model may call functions or answer; 'none': its output is never read as calls; 'required' or
 * `{ name }`: the turn's first answer is one call (of any function / of that one), forced with guidance.
 */
export type ToolChoice = 'auto' | 'required' | 'none' | { name: string };

/** A call made in a turn. */
export interface ChatToolCall {
  id: string;
  name: string;
  /** The arguments the model wrote, parsed (the text itself when it is no JSON). */
  arguments: unknown;
  /** What the handler returned; absent when it threw. */
  result?: unknown;
  /** Why there is no result: the message of the error the handler threw (or why it was not called). */
  error?: string;
}

const handlerSchema = z.custom<ChatFunction['handler']>((v) => typeof v === 'function', { message: 'handler must be a function' });

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export const functionsSchema = z
  .record(z.string(), z.object({ description: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional(), handler: handlerSchema }).strict())
  .superRefine((functions, ctx) => {
    for (const [name, f] of Object.entries(functions)) {
      if (!NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'function names must be 1-64 letters, digits, underscores or dashes' });
      if (f.parameters === undefined) continue;
      try {
        z.fromJSONSchema(f.parameters);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: [name, 'parameters'], message: `not a JSON schema arguments can be checked with (${(err as Error).message})` });
      }
    }
  });

export const toolChoiceSchema = z.union([z.enum(['auto', 'required', 'none']), z.object({ name: z.string() }).strict()]);

/** Refuses a choice that forces a call of no given function. */
export function checkToolChoice(choice: ToolChoice | undefined, functions: Readonly<Record<string, ChatFunction>> | undefined): void {
  const names = Object.keys(functions ?? {});
  if ((choice === 'required' || typeof choice === 'object') && names.length === 0) {
    throw new ValidationError('toolChoice forces a function call, but the session has no functions');
  }
  if (typeof choice === 'object' && !names.includes(choice.name)) {
    throw new ValidationError(`toolChoice names '${choice.name}', which is not one of the session's functions (${names.join(', ')})`);
  }
}

/** What a round of calls leaves: the calls as made, and the `tool` messages with their results. */
export interface CallsMade {
  calls: ChatToolCall[];
  messages: ChatMessage[];
  /** The signal aborted while a handler ran: the calls after it were not made. */
  aborted: boolean;
}

export class ChatFunctions {
  readonly names: readonly string[];
  private readonly definitions: FunctionDefinition[];
  /** The `parameters` of each function that has them, as zod schemas. */
  private readonly arguments = new Map<string, z.ZodType>();

  constructor(private readonly functions: Readonly<Record<string, ChatFunction>>) {
    this.names = Object.keys(functions);
    this.definitions = Object.entries(functions).map(([name, f]) => ({
      name,
      ...(f.description === undefined ? {} : { description: f.description }),
      ...(f.parameters === undefined ? {} : { parameters: f.parameters }),
    }));
    for (const [name, f] of Object.entries(functions)) if (f.parameters) this.arguments.set(name, z.fromJSONSchema(f.parameters));
  }

  /** The definitions as the chat template's `tools` (OpenAI's shape, which templates that render tools read). */
  templateTools(): string {
    return JSON.stringify(this.definitions.map((d) => ({ type: 'function', function: d })));
  }

  /** The guidance that forces a call for `choice` (none for 'auto' / 'none'). */
  guidance(choice: ToolChoice): GenerateOptions['guidance'] {
    if (choice === 'required') return toolCallGuidance(this.definitions, true);
    if (typeof choice === 'object') return toolCallGuidance(this.definitions.filter((d) => d.name === choice.name), true);
    return undefined;
  }

  /** Calls the handlers one after another; a handler that throws has its error message as its result. */
  async call(calls: readonly ToolCall[], signal: AbortSignal): Promise<CallsMade> {
    const made: ChatToolCall[] = [];
    const messages: ChatMessage[] = [];
    for (const call of calls) {
      if (signal.aborted) return { calls: made, messages, aborted: true };
      const record = await this.callOne(call, signal);
      made.push(record);
      if (signal.aborted) return { calls: made, messages, aborted: true };
      const content = record.error === undefined ? JSON.stringify(record.result ?? null) : JSON.stringify({ error: record.error });
      messages.push({ role: 'tool', content, tool_call_id: call.id, name: call.function.name });
    }
    return { calls: made, messages, aborted: false };
  }

  private async callOne(call: ToolCall, signal: AbortSignal): Promise<ChatToolCall> {
    const base = { id: call.id, name: call.function.name };
    let args: unknown;
    try {
      args = JSON.parse(call.function.arguments);
    } catch {
      return { ...base, arguments: call.function.arguments, error: 'the arguments are not valid JSON' };
    }
    // The model may write arguments its schema does not allow (guidance holds only forced calls to it): it is told so.
    const checked = this.arguments.get(call.function.name)?.safeParse(args);
    if (checked && !checked.success) {
      return { ...base, arguments: args, error: `the arguments do not match the parameters schema: ${describeIssues(checked.error, 'arguments', 'arguments.').join('; ')}` };
    }
    try {
      const result = await untilAborted(Promise.resolve().then(() => this.functions[call.function.name].handler(args, { signal })), signal);
      // Serialised now, so that a result JSON cannot hold counts as the handler's failure.
      JSON.stringify(result ?? null);
      return { ...base, arguments: args, result };
    } catch (err) {
      return { ...base, arguments: args, error: err instanceof Error ? err.message : String(err) };
    }
  }
}

/** `work`, or a rejection as soon as `signal` aborts (a handler that ignores the signal is not waited for). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort!));
}
