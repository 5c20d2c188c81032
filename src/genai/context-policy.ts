/**
 * What a chat session does when its history and the room for the next answer no longer fit in the model's
 * context: drop the oldest turns (the default), replace them by a summary the caller writes, or the caller's own
 * function. A policy never fails the conversation: what it leaves that still does not fit is dropped oldest first.
 */
import { ContextOverflowError, ValidationError } from '../errors.js';
import type { ChatMessage } from './tokenizer.js';

/** What a policy can ask about the context. */
export interface ContextWindow {
  /** Whether these messages (the session adds its system prompt first) leave room for the answer. */
  fits(messages: readonly ChatMessage[]): boolean;
  /** The model's context, in tokens. */
  readonly contextLength: number;
  /** The turn's AbortSignal, for policies that do slow work (a summary). */
  readonly signal?: AbortSignal;
}

/**
 * Gets the conversation without the system prompt, the new user message last, and returns the messages to keep
 * (the new user message still last).
 */
export type ContextPolicyFunction = (messages: ChatMessage[], window: ContextWindow) => ChatMessage[] | Promise<ChatMessage[]>;

/** Writes the summary that replaces `dropped` (the oldest messages, an earlier summary among them). */
export type Summarizer = (dropped: ChatMessage[], signal?: AbortSignal) => Promise<string>;

export type ContextPolicy = 'drop-oldest' | 'summarize' | ContextPolicyFunction;

/** The role a summary message takes: context for the model, not something the user said. */
export const SUMMARY_ROLE = 'system';

/**
 * Drops messages from the front (never the last) until the rest fits and starts with a user's (or a summary's)
 * message; ContextOverflowError when the last message alone does not fit.
 */
export function dropOldest(messages: readonly ChatMessage[], window: ContextWindow): ChatMessage[] {
  const kept = [...messages];
  while (kept.length > 1 && (!window.fits(kept) || kept[0].role === 'assistant' || kept[0].role === 'tool')) kept.shift();
  if (!window.fits(kept)) {
    throw new ContextOverflowError(
      `this message does not fit in the model's context of ${window.contextLength} tokens with room for the answer, even with every earlier turn dropped; shorten it (or the system prompt) or ask for fewer tokens`,
    );
  }
  return kept;
}

/** Drops the oldest messages as dropOldest does and puts `summarize`'s summary of them in their place. */
export async function summarizeOldest(messages: readonly ChatMessage[], window: ContextWindow, summarize: Summarizer): Promise<ChatMessage[]> {
  const kept = dropOldest(messages, window);
  const dropped = messages.slice(0, messages.length - kept.length);
  if (dropped.length === 0) return kept;
  const text: unknown = await summarize(dropped, window.signal);
  // A summary joins the history the template renders: anything but text would be rendered as something else.
  if (typeof text !== 'string') throw new ValidationError(`summarize must resolve with the summary as a string, not ${text === null ? 'null' : typeof text}`);
  const summary: ChatMessage = { role: SUMMARY_ROLE, content: text };
  // The summary takes room too: what no longer fits beside it goes, oldest first, and the summary last of all.
  return dropOldest([summary, ...kept], window);
}

/** The messages `policy` keeps, checked: a result that does not end with the new message or still does not fit is trimmed by dropOldest. */
export async function applyPolicy(
  policy: ContextPolicy,
  summarize: Summarizer | undefined,
  messages: ChatMessage[],
  window: ContextWindow,
): Promise<ChatMessage[]> {
  if (window.fits(messages)) return messages;
  if (policy === 'drop-oldest') return dropOldest(messages, window);
  if (policy === 'summarize') return summarizeOldest(messages, window, summarize!);
  const last = messages[messages.length - 1];
  const kept = await policy([...messages], window);
  const endsWithLast = Array.isArray(kept) && kept.at(-1)?.role === last.role && kept.at(-1)?.content === last.content;
  return dropOldest(endsWithLast ? kept : messages, window);
}
