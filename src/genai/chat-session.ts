/**
 * `ChatSession`: a conversation with a model. It keeps the history and the system prompt, renders them with the
 * model's chat template, and keeps one Generator alive across turns so that a turn prefills only what the KV
 * cache does not hold yet: the ids of the templated conversation past their longest common prefix with the ids
 * the generator holds (rewinding the generator to that prefix where they diverge). When the conversation and the
 * room for the answer outgrow the model's context, a context policy (context-policy.ts) trims it first.
 *
 * With `functions` (chat-functions.ts), a turn is one or more rounds: an answer that parses as tool calls
 * (tool-calls.ts) has its handlers called, the calls and their results join the history, and the model answers
 * again, until it answers in text. A forced call (toolChoice 'required' / named) needs guidance, which ORT-GenAI
 * sets when a Generator is made: that round runs on a Generator of its own, which reuses no KV cache.
 */
import { z } from 'zod';
import { DisposedError, GenAIError, ToolRoundsError, ValidationError } from '../errors.js';
import type { ChunkCallback, NativeGenerator } from '../native.js';
import {
  ChatFunctions,
  checkToolChoice,
  functionsSchema,
  toolChoiceSchema,
  type ChatFunction,
  type ChatToolCall,
  type ToolChoice,
} from './chat-functions.js';
import { applyPolicy, type ContextPolicy, type ContextWindow, type Summarizer } from './context-policy.js';
import { decode, textStream, type Decoded, type FinishReason, type GenerateResult, type TextStream } from './generate.js';
import {
  DEFAULT_MAX_TOKENS,
  samplingOptionsShape,
  samplingSearchOptions,
  turnOptionsShape,
  type GenerateOptions,
  type SamplingOptions,
} from './generate-options.js';
import { GeneratorSource } from './generator-source.js';
import type { Model } from './model.js';
import { NativeOwner } from './native-owner.js';
import { parseOptions, type SearchOptions } from './search-options.js';
import { commonPrefixLength } from './token-prefix.js';
import type { ChatMessage, Tokenizer } from './tokenizer.js';
import { parseToolCalls, ToolCallStream, type ToolCall } from './tool-calls.js';

/** Tool-call rounds per turn at most, unless the session says otherwise. */
export const DEFAULT_MAX_TOOL_ROUNDS = 8;

/** Sampling (`temperature`, `topP`, ... as in GenerateOptions) is fixed for the session: its Generator is made once. */
export interface ChatSessionOptions extends SamplingOptions {
  systemPrompt?: string;
  /** A Jinja chat template instead of the model's (tokenizer_config.json). */
  template?: string;
  /** New tokens per answer at most, unless a turn says otherwise (default 256). */
  maxTokens?: number;
  /**
   * What to do when the conversation and `maxTokens` no longer fit in the model's context: 'drop-oldest'
   * (default; the system prompt stays), 'summarize' (with `summarize`), or a function of your own.
   */
  contextPolicy?: ContextPolicy;
  /** Writes the summary that replaces the dropped turns, for contextPolicy 'summarize'. */
  summarize?: Summarizer;
  /** Keep the KV cache across turns (default true); false prefills the whole conversation every turn. */
  reuseCache?: boolean;
  /**
   * The most tokens the conversation and an answer may take (default and upper bound: the model's
   * context_length). The session's KV cache is sized for it, so a smaller one saves memory on long-context models.
   */
  contextLength?: number;
  /** Functions the model may call, by name; their definitions reach it through the chat template's `tools`. */
  functions?: Record<string, ChatFunction>;
  /** Whether and what the model is to call (default 'auto'); a turn may say otherwise. */
  toolChoice?: ToolChoice;
  /**
   * Rounds of tool calls per turn at most (default 8): a model that asks for more ends the turn with a
   * ToolRoundsError.
   */
  maxToolRounds?: number;
}

export interface ChatTurnOptions {
  maxTokens?: number;
  /** The session's toolChoice for this turn. */
  toolChoice?: ToolChoice;
  /** The answer ends before the first occurrence of any of these. */
  stop?: string[];
  /** Ends the answer; the turn resolves with finishReason 'abort' and keeps what was said so far. */
  signal?: AbortSignal;
}

/**
 * What the last turn cost. A turn with tool calls is several rounds (answers the model gives): the token counts
 * add up over them.
 */
export interface ChatTurnStats {
  /** Tokens of the templated conversation the answers were generated after. */
  promptTokens: number;
  /** Of them, already in the generator's KV cache from earlier turns and rounds. */
  reusedTokens: number;
  /** Of them, prefilled in this turn. */
  appendedTokens: number;
  /** The generator held ids the conversation no longer starts with, and was rewound to their common prefix. */
  rewound: boolean;
  /** The context policy trimmed the history for this turn. */
  trimmed: boolean;
  /** Milliseconds from the call to the first new token (undefined when none came). */
  ttftMs?: number;
  generatedTokens: number;
  /** How the last round ended. */
  finishReason: FinishReason;
  /** Answers the model gave in the turn: 1, plus one per round of tool calls. */
  rounds: number;
  /** Of them, forced calls (toolChoice 'required' / named) on a Generator of their own: they reuse no KV cache. */
  guidedRounds: number;
  /** The calls made, in order. */
  toolCalls: ChatToolCall[];
}

// A lone UTF-16 surrogate cannot become UTF-8: the chat template's JSON parser would fail on it in native code.
const LONE_SURROGATE = /\p{Cs}/u;
const UNICODE_TEXT = 'must be Unicode text (it holds a lone UTF-16 surrogate)';
const unicodeText = z.string().refine((t) => !LONE_SURROGATE.test(t), UNICODE_TEXT);

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', { message: `${what} must be a function` });

const sessionShape = {
  systemPrompt: unicodeText.optional(),
  template: z.string().min(1, 'template cannot be empty').optional(),
  maxTokens: turnOptionsShape.maxTokens,
  ...samplingOptionsShape,
  contextPolicy: z.union([z.enum(['drop-oldest', 'summarize']), fn<Exclude<ContextPolicy, string>>('contextPolicy')]).optional(),
  summarize: fn<Summarizer>('summarize').optional(),
  reuseCache: z.boolean().optional(),
  contextLength: z.number().int().min(2).optional(),
  functions: functionsSchema.optional(),
  toolChoice: toolChoiceSchema.optional(),
  maxToolRounds: z.number().int().min(0).optional(),
};
const sessionSchema = z.object(sessionShape).refine((o) => o.contextPolicy !== 'summarize' || o.summarize !== undefined, {
  message: "contextPolicy 'summarize' needs a summarize function",
  path: ['summarize'],
});
const SESSION_OPTION_NAMES = Object.keys(sessionShape);

const turnShape = { ...turnOptionsShape, toolChoice: toolChoiceSchema.optional() };
const turnSchema = z.object(turnShape);
const TURN_OPTION_NAMES = Object.keys(turnShape);

/** One answer of a turn, and what it cost. */
interface Round extends Decoded {
  /** The conversation it answered (the context policy may have trimmed it). */
  messages: ChatMessage[];
  promptTokens: number;
  reused: number;
  rewound: boolean;
}

const NEVER_ABORTED = new AbortController().signal;

const systemPromptSchema = unicodeText.optional();

export class ChatSession extends NativeOwner<NativeGenerator> {
  /** The model the session talks to (not disposed with the session). */
  readonly model: Model;
  private readonly source: GeneratorSource;
  /** What the session's Generator was made with; a guided round's Generator is made alike. */
  private readonly search: SearchOptions;
  private readonly options: z.infer<typeof sessionSchema>;
  private readonly functions: ChatFunctions | undefined;
  private readonly contextLength: number | undefined;
  private system: string | undefined;
  private turns: ChatMessage[] = [];
  private answering = false;
  /** The Generator of a guided round while it runs. */
  private guided: GeneratorSource | undefined;
  private stats: ChatTurnStats | undefined;

  private constructor(model: Model, source: GeneratorSource, search: SearchOptions, options: z.infer<typeof sessionSchema>) {
    super(source.generator);
    this.model = model;
    this.source = source;
    this.search = search;
    this.options = options;
    this.functions = options.functions && Object.keys(options.functions).length > 0 ? new ChatFunctions(options.functions) : undefined;
    this.contextLength = options.contextLength ?? model.contextLength;
    this.system = options.systemPrompt;
  }

  /** Starts a conversation: one Generator, made now, serves all its turns. */
  static async create(model: Model, options?: ChatSessionOptions): Promise<ChatSession> {
    const o = parseOptions(sessionSchema, options, SESSION_OPTION_NAMES, 'chat session option');
    const limit = model.contextLength;
    if (o.contextLength !== undefined && limit !== undefined && o.contextLength > limit) {
      throw new ValidationError(`contextLength ${o.contextLength} exceeds the model's context_length ${limit}`);
    }
    checkToolChoice(o.toolChoice, o.functions);
    const search = samplingSearchOptions({ ...o, searchOptions: {} });
    // The conversation grows over the turns: the generator may hold the whole context (trimming keeps it within).
    const context = o.contextLength ?? limit;
    if (context !== undefined) search.max_length = context;
    const tokenizer = model.acquireTokenizer();
    try {
      return new ChatSession(model, await GeneratorSource.open(model.native, { search, options: { searchOptions: {} }, tokenizer }), search, o);
    } finally {
      model.releaseTokenizer();
    }
  }

  /** The conversation so far: the system prompt (if any), then user and assistant messages (and summaries). */
  get messages(): ChatMessage[] {
    return this.withSystem(this.turns);
  }

  get systemPrompt(): string | undefined {
    return this.system;
  }

  /** Takes effect from the next turn (the KV cache is rewound past it then). */
  set systemPrompt(text: string | undefined) {
    const parsed = systemPromptSchema.safeParse(text);
    if (!parsed.success) throw new ValidationError(`the system prompt must be a string or undefined, and ${UNICODE_TEXT}`);
    this.system = parsed.data;
  }

  /** What the last turn cost; undefined before the first. */
  get lastTurn(): ChatTurnStats | undefined {
    return this.stats;
  }

  /** Forgets the conversation (the system prompt stays). */
  reset(): void {
    this.checkAlive();
    this.turns = [];
  }

  /** Sends a user message and resolves with the whole answer, which joins the history. */
  generate(text: string, options?: ChatTurnOptions): Promise<GenerateResult> {
    return this.turn(text, options);
  }

  /** Sends a user message and streams the answer; `.result` resolves like generate(). */
  stream(text: string, options?: ChatTurnOptions): TextStream {
    return textStream(options?.signal, (signal, onText) => this.turn(text, { ...options, signal }, onText));
  }

  private async turn(text: string, options: ChatTurnOptions | undefined, onText?: (chunk: string) => void): Promise<GenerateResult> {
    const started = performance.now();
    this.checkAlive();
    if (typeof text !== 'string' || text === '') throw new ValidationError('a chat message must be a non-empty string');
    if (LONE_SURROGATE.test(text)) throw new ValidationError(`a chat message ${UNICODE_TEXT}`);
    const o = parseOptions(turnSchema, options, TURN_OPTION_NAMES, 'chat turn option');
    checkToolChoice(o.toolChoice, this.options.functions);
    if (this.answering) throw new GenAIError('a ChatSession answers one message at a time; await the answer before sending the next');
    this.answering = true;
    const tokenizer = this.model.acquireTokenizer();
    try {
      return await this.answer(tokenizer, { role: 'user', content: text }, o, started, onText);
    } finally {
      this.model.releaseTokenizer();
      this.answering = false;
    }
  }

  /** The rounds of one turn: answers, and the calls they ask for, until an answer in text. */
  private async answer(
    tokenizer: Tokenizer,
    user: ChatMessage,
    o: ChatTurnOptions,
    started: number,
    onText: ((chunk: string) => void) | undefined,
  ): Promise<GenerateResult> {
    const functions = this.functions;
    const choice = o.toolChoice ?? this.options.toolChoice ?? 'auto';
    const maxRounds = this.options.maxToolRounds ?? DEFAULT_MAX_TOOL_ROUNDS;
    const toolCalls: ChatToolCall[] = [];
    const turn: Omit<ChatTurnStats, 'finishReason'> = { promptTokens: 0, reusedTokens: 0, appendedTokens: 0, rewound: false, trimmed: false, generatedTokens: 0, rounds: 0, guidedRounds: 0, toolCalls };
    let conversation = [...this.turns, user];
    for (;;) {
      // A handler may have disposed the session.
      this.checkAlive();
      // A forced call is the turn's first answer; the answers after the calls are the model's to choose.
      const roundChoice: ToolChoice = turn.rounds === 0 || choice === 'none' ? choice : 'auto';
      const reading = functions !== undefined && roundChoice !== 'none';
      const guidance = functions?.guidance(roundChoice);
      // Text that may be a call is held back until the answer is complete, and not streamed if it is one.
      const held = reading && onText ? new ToolCallStream(functions.names) : undefined;
      const round = await this.round(tokenizer, conversation, o, guidance, held ? (chunk) => emit(onText, held.push(chunk)) : onText);
      const { result } = round;
      turn.trimmed ||= round.messages !== conversation;
      conversation = round.messages;
      turn.rounds += 1;
      if (guidance) turn.guidedRounds += 1;
      turn.promptTokens += round.promptTokens;
      turn.reusedTokens += round.reused;
      turn.appendedTokens += round.promptTokens - round.reused;
      turn.rewound ||= round.rewound;
      turn.generatedTokens += result.completionTokens;
      if (turn.ttftMs === undefined && round.firstTokenAt !== undefined) turn.ttftMs = round.firstTokenAt - started;
      this.stats = { ...turn, finishReason: result.finishReason };
      let calls: ToolCall[] = [];
      if (held) {
        const end = held.end();
        calls = end.toolCalls;
        if (calls.length === 0) emit(onText, end.content);
      } else if (reading) {
        calls = parseToolCalls(result.text, functions.names).toolCalls;
      }
      // An aborted answer is kept as it is, never acted upon.
      if (result.finishReason === 'abort') calls = [];
      if (calls.length === 0) {
        this.turns = [...conversation, { role: 'assistant', content: result.text }];
        return result;
      }
      if (turn.rounds > maxRounds) {
        this.turns = conversation;
        throw new ToolRoundsError(maxRounds);
      }
      const made = await functions!.call(calls, o.signal ?? NEVER_ABORTED);
      toolCalls.push(...made.calls);
      if (made.aborted) {
        // The round's calls did not all get a result: the history keeps the rounds before it.
        this.turns = conversation;
        this.stats = { ...turn, finishReason: 'abort' };
        return { ...result, text: '', finishReason: 'abort' };
      }
      conversation = [...conversation, { role: 'assistant', content: result.text, tool_calls: calls }, ...made.messages];
      this.turns = conversation;
    }
  }

  /** One answer after `asked` (trimmed by the context policy first): on the session's Generator, or a guided one. */
  private async round(
    tokenizer: Tokenizer,
    asked: ChatMessage[],
    o: ChatTurnOptions,
    guidance: GenerateOptions['guidance'],
    onText: ((chunk: string) => void) | undefined,
  ): Promise<Round> {
    const maxTokens = o.maxTokens ?? this.options.maxTokens ?? DEFAULT_MAX_TOKENS;
    const tools = this.functions?.templateTools();
    const render = (messages: readonly ChatMessage[]) =>
      tokenizer.encode(tokenizer.applyChatTemplate(this.withSystem(messages, tools), { template: this.options.template, ...(tools ? { tools } : {}) }));
    const contextLength = this.contextLength;
    let messages = asked;
    if (contextLength !== undefined) {
      const window: ContextWindow = { contextLength, fits: (m) => render(m).length + maxTokens <= contextLength, ...(o.signal ? { signal: o.signal } : {}) };
      messages = await applyPolicy(this.options.contextPolicy ?? 'drop-oldest', this.options.summarize, asked, window);
    }
    const ids = render(messages);
    const decodeOptions = { stop: o.stop, signal: o.signal, onText };
    if (guidance) {
      const guided = await GeneratorSource.open(this.model.native, { search: this.search, options: { searchOptions: {}, guidance }, tokenizer });
      this.guided = guided;
      try {
        this.checkAlive();
        const decoded = await decode(budgeted(guided, maxTokens), tokenizer, ids, decodeOptions);
        return { ...decoded, messages, promptTokens: ids.length, reused: 0, rewound: false };
      } finally {
        this.guided = undefined;
        guided.dispose();
      }
    }
    const held = this.source.sequence();
    // At least one id is appended: the generator needs input to produce the next token from.
    const reused = this.options.reuseCache === false ? 0 : Math.min(commonPrefixLength(held, ids), ids.length - 1);
    const rewound = reused < held.length;
    if (rewound) this.source.rewindTo(reused);
    // Unless the round ends cleanly, nothing the generator holds is trusted (see GeneratorSource.interrupted).
    let settled = 0;
    try {
      const decoded = await decode(budgeted(this.source, maxTokens), tokenizer, ids.subarray(reused), decodeOptions);
      // Every id before the last one taken has been through the model (the library runs the last one only with
      // the next input): keep one fewer, so that the KV cache is rewound too (ORT-GenAI's non-shared cache refuses
      // a rewind to its own length, and appending after a generated token fails on it in 0.15) and the next turn
      // appends onto a state every id of which went through the model.
      if (!this.source.interrupted) settled = decoded.taken > 0 ? ids.length + decoded.taken - 2 : reused;
      return { ...decoded, messages, promptTokens: ids.length, reused, rewound };
    } finally {
      if (!this.disposed && this.native.tokenCount() > settled) this.source.rewindTo(settled);
    }
  }

  /** The system prompt first; with tools, also in its `tools` field (where Phi-4-mini's template reads them). */
  private withSystem(messages: readonly ChatMessage[], tools?: string): ChatMessage[] {
    return this.system === undefined ? [...messages] : [{ role: 'system', content: this.system, ...(tools ? { tools } : {}) }, ...messages];
  }

  /** Frees the session's Generator, and stops and frees a guided round's. */
  override dispose(): void {
    this.guided?.dispose();
    super.dispose();
  }

  private checkAlive(): void {
    if (this.disposed) throw new DisposedError('ChatSession');
  }
}

/** The answer's length is the generator's to keep: it ends between two steps, where a stop() could cut one short. */
function budgeted(source: GeneratorSource, maxTokens: number) {
  return { run: (p: Int32Array, onChunk: ChunkCallback) => source.run(p, onChunk, maxTokens), cancel: () => source.cancel() };
}

function emit(onText: ((chunk: string) => void) | undefined, text: string): void {
  if (text !== '') onText?.(text);
}
