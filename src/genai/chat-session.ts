/**
 * `ChatSession`: a conversation with a model. It keeps the history and the system prompt, renders them with the
 * model's chat template, and keeps one Generator alive across turns so that a turn prefills only what the KV
 * cache does not hold yet: the ids of the templated conversation past their longest common prefix with the ids
 * the generator holds (rewinding the generator to that prefix where they diverge). When the conversation and the
 * room for the answer outgrow the model's context, a context policy (context-policy.ts) trims it first.
 */
import { z } from 'zod';
import { DisposedError, GenAIError, ValidationError } from '../errors.js';
import type { ChunkCallback, NativeGenerator } from '../native.js';
import { applyPolicy, type ContextPolicy, type ContextWindow, type Summarizer } from './context-policy.js';
import { decode, textStream, type FinishReason, type GenerateResult, type TextStream } from './generate.js';
import { DEFAULT_MAX_TOKENS, samplingOptionsShape, samplingSearchOptions, turnOptionsShape, type SamplingOptions } from './generate-options.js';
import { GeneratorSource } from './generator-source.js';
import type { Model } from './model.js';
import { NativeOwner } from './native-owner.js';
import { parseOptions } from './search-options.js';
import { commonPrefixLength } from './token-prefix.js';
import type { ChatMessage, Tokenizer } from './tokenizer.js';

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
}

export interface ChatTurnOptions {
  maxTokens?: number;
  /** The answer ends before the first occurrence of any of these. */
  stop?: string[];
  /** Ends the answer; the turn resolves with finishReason 'abort' and keeps what was said so far. */
  signal?: AbortSignal;
}

/** What the last turn cost. */
export interface ChatTurnStats {
  /** Tokens of the templated conversation the answer was generated after. */
  promptTokens: number;
  /** Of them, already in the generator's KV cache from earlier turns. */
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
  finishReason: FinishReason;
}

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', { message: `${what} must be a function` });

const sessionShape = {
  systemPrompt: z.string().optional(),
  template: z.string().min(1, 'template cannot be empty').optional(),
  maxTokens: turnOptionsShape.maxTokens,
  ...samplingOptionsShape,
  contextPolicy: z.union([z.enum(['drop-oldest', 'summarize']), fn<Exclude<ContextPolicy, string>>('contextPolicy')]).optional(),
  summarize: fn<Summarizer>('summarize').optional(),
  reuseCache: z.boolean().optional(),
  contextLength: z.number().int().min(2).optional(),
};
const sessionSchema = z.object(sessionShape).refine((o) => o.contextPolicy !== 'summarize' || o.summarize !== undefined, {
  message: "contextPolicy 'summarize' needs a summarize function",
  path: ['summarize'],
});
const SESSION_OPTION_NAMES = Object.keys(sessionShape);

const turnSchema = z.object(turnOptionsShape);
const TURN_OPTION_NAMES = Object.keys(turnOptionsShape);

const systemPromptSchema = z.string().optional();

export class ChatSession extends NativeOwner<NativeGenerator> {
  /** The model the session talks to (not disposed with the session). */
  readonly model: Model;
  private readonly source: GeneratorSource;
  private readonly options: z.infer<typeof sessionSchema>;
  private readonly contextLength: number | undefined;
  private system: string | undefined;
  private turns: ChatMessage[] = [];
  private answering = false;
  private stats: ChatTurnStats | undefined;

  private constructor(model: Model, source: GeneratorSource, options: z.infer<typeof sessionSchema>) {
    super(source.generator);
    this.model = model;
    this.source = source;
    this.options = options;
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
    const search = samplingSearchOptions({ ...o, searchOptions: {} });
    // The conversation grows over the turns: the generator may hold the whole context (trimming keeps it within).
    const context = o.contextLength ?? limit;
    if (context !== undefined) search.max_length = context;
    const tokenizer = model.acquireTokenizer();
    try {
      return new ChatSession(model, await GeneratorSource.open(model.native, { search, options: { searchOptions: {} }, tokenizer }), o);
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
    if (!parsed.success) throw new ValidationError('the system prompt must be a string (or undefined for none)');
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
    const o = parseOptions(turnSchema, options, TURN_OPTION_NAMES, 'chat turn option');
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

  private async answer(
    tokenizer: Tokenizer,
    user: ChatMessage,
    o: ChatTurnOptions,
    started: number,
    onText: ((chunk: string) => void) | undefined,
  ): Promise<GenerateResult> {
    const maxTokens = o.maxTokens ?? this.options.maxTokens ?? DEFAULT_MAX_TOKENS;
    const render = (messages: readonly ChatMessage[]) => tokenizer.encode(tokenizer.applyChatTemplate(this.withSystem(messages), { template: this.options.template }));
    const contextLength = this.contextLength;
    const asked = [...this.turns, user];
    let messages = asked;
    if (contextLength !== undefined) {
      const window: ContextWindow = { contextLength, fits: (m) => render(m).length + maxTokens <= contextLength, ...(o.signal ? { signal: o.signal } : {}) };
      messages = await applyPolicy(this.options.contextPolicy ?? 'drop-oldest', this.options.summarize, asked, window);
    }
    const ids = render(messages);
    const held = this.source.sequence();
    // At least one id is appended: the generator needs input to produce the next token from.
    const reused = this.options.reuseCache === false ? 0 : Math.min(commonPrefixLength(held, ids), ids.length - 1);
    const rewound = reused < held.length;
    if (rewound) this.source.rewindTo(reused);
    const prompt = ids.subarray(reused);
    // The answer's length is the generator's to keep: it ends between two steps, where a stop() could cut one short.
    const budgeted = { run: (p: Int32Array, onChunk: ChunkCallback) => this.source.run(p, onChunk, maxTokens), cancel: () => this.source.cancel() };
    // Unless the turn ends cleanly, nothing the generator holds is trusted (see GeneratorSource.interrupted).
    let settled = 0;
    try {
      const { result, taken, firstTokenAt } = await decode(budgeted, tokenizer, prompt, { stop: o.stop, signal: o.signal, onText });
      // Every id before the last one taken has been through the model (the library runs the last one only with
      // the next input): keep one fewer, so that the KV cache is rewound too (ORT-GenAI's non-shared cache refuses
      // a rewind to its own length, and appending after a generated token fails on it in 0.15) and the next turn
      // appends onto a state every id of which went through the model.
      if (!this.source.interrupted) settled = taken > 0 ? ids.length + taken - 2 : reused;
      this.turns = [...messages, { role: 'assistant', content: result.text }];
      this.stats = {
        promptTokens: ids.length,
        reusedTokens: reused,
        appendedTokens: prompt.length,
        rewound,
        trimmed: messages !== asked,
        ...(firstTokenAt === undefined ? {} : { ttftMs: firstTokenAt - started }),
        generatedTokens: result.completionTokens,
        finishReason: result.finishReason,
      };
      return result;
    } finally {
      if (!this.disposed && this.native.tokenCount() > settled) this.source.rewindTo(settled);
    }
  }

  private withSystem(messages: readonly ChatMessage[]): ChatMessage[] {
    return this.system === undefined ? [...messages] : [{ role: 'system', content: this.system }, ...messages];
  }

  private checkAlive(): void {
    if (this.disposed) throw new DisposedError('ChatSession');
  }
}
