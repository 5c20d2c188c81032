import { binding, type NativeTokenizer, type NativeTokenizerStream } from '../native.js';

export interface ChatMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface ChatTemplateOptions {
  /** A Jinja chat template; defaults to the one in tokenizer_config.json. */
  template?: string;
  /** Tool definitions as a JSON string, for templates that render them. */
  tools?: string;
  /** Append the assistant turn's opening (default true). */
  addGenerationPrompt?: boolean;
}

/** Incremental decoder: feed tokens one at a time, get text that never splits a multi-byte character. */
export class TokenizerStream {
  /** @internal */
  readonly native: NativeTokenizerStream;

  /** @internal */
  constructor(native: NativeTokenizerStream) {
    this.native = native;
  }

  /** Text completed by this token ('' while a character or word is still incomplete). */
  decode(token: number): string {
    return this.native.decode(token);
  }

  dispose(): void {
    this.native.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** The model's tokenizer (tokenizer.json + tokenizer_config.json). Get it from `model.tokenizer`. */
export class Tokenizer {
  /** @internal */
  readonly native: NativeTokenizer;

  /** @internal */
  constructor(native: NativeTokenizer) {
    this.native = native;
  }

  encode(text: string): Int32Array {
    return this.native.encode(text);
  }

  /** Encodes several texts off the JS thread; one unpadded Int32Array per text. */
  async encodeBatch(texts: string[]): Promise<Int32Array[]> {
    return this.native.encodeBatch(texts);
  }

  decode(tokens: Int32Array | number[]): string {
    return this.native.decode(tokens);
  }

  decodeBatch(sequences: (Int32Array | number[])[]): string[] {
    return this.native.decodeBatch(sequences);
  }

  /** The id of a string that is exactly one vocabulary entry; ValidationError otherwise. */
  toTokenId(text: string): number {
    return this.native.toTokenId(text);
  }

  get bosTokenId(): number {
    return this.native.bosTokenId;
  }

  get eosTokenIds(): number[] {
    return this.native.eosTokenIds;
  }

  get padTokenId(): number {
    return this.native.padTokenId;
  }

  /** Renders a conversation with the model's chat template (or `opts.template`). */
  applyChatTemplate(messages: ChatMessage[] | string, opts: ChatTemplateOptions = {}): string {
    const json = typeof messages === 'string' ? messages : JSON.stringify(messages);
    return this.native.applyChatTemplate(json, opts.template ?? null, opts.tools ?? null, opts.addGenerationPrompt ?? true);
  }

  createStream(): TokenizerStream {
    return new TokenizerStream(binding().TokenizerStream.create(this.native));
  }

  dispose(): void {
    this.native.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
