import { binding, type NativeGenerator } from '../native.js';
import type { Adapters } from './adapters.js';
import type { GeneratorParams } from './generator-params.js';
import type { Model } from './model.js';

/**
 * Stepwise generation (ORT-GenAI's `og.Generator`). Calls that run the model return Promises (which also carry
 * argument and use-after-dispose errors) and run off the JS thread; the others are synchronous. Calls on one
 * Generator are serialised: a synchronous call while an async one is still running throws a GenAIError instead of
 * blocking.
 */
export class Generator {
  /** @internal */
  readonly native: NativeGenerator;

  private constructor(native: NativeGenerator) {
    this.native = native;
  }

  static async create(model: Model, params: GeneratorParams): Promise<Generator> {
    return new Generator(await binding().Generator.create(model.native, params.native));
  }

  /** Appends prompt tokens (batch_size × length, row-major) and runs the prefill. */
  async appendTokens(tokens: Int32Array | number[]): Promise<void> {
    return this.native.appendTokens(tokens);
  }

  /** One sequence per batch entry, of any lengths; the library pads them. */
  async appendTokenSequences(sequences: (Int32Array | number[])[]): Promise<void> {
    return this.native.appendTokenSequences(sequences);
  }

  async generateNextToken(): Promise<void> {
    return this.native.generateNextToken();
  }

  isDone(): boolean {
    return this.native.isDone();
  }

  /** The tokens chosen by the last step, one per sequence. */
  getNextTokens(): Int32Array {
    return this.native.getNextTokens();
  }

  /** The whole sequence `index` (prompt and generated tokens). */
  getSequence(index: number): Int32Array {
    return this.native.getSequence(index);
  }

  tokenCount(): number {
    return this.native.tokenCount();
  }

  rewindTo(length: number): void {
    this.native.rewindTo(length);
  }

  /** The last position's logits, shape [batch × beams, 1, vocab]. Runs the model if the step has not yet. */
  getLogits(): { data: Float32Array; shape: number[] } {
    return this.native.getLogits();
  }

  /** Replaces the logits returned by the preceding `getLogits()` before the next token is chosen. */
  setLogits(data: Float32Array): void {
    this.native.setLogits(data);
  }

  setRuntimeOption(key: string, value: string): void {
    this.native.setRuntimeOption(key, value);
  }

  setActiveAdapter(adapters: Adapters, name: string): void {
    this.native.setActiveAdapter(adapters.native, name);
  }

  dispose(): void {
    this.native.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
