import { ValidationError } from '../errors.js';
import { binding, type NativeGenerator, type NativeTensor } from '../native.js';
import type { Adapters } from './adapters.js';
import type { GeneratorParams } from './generator-params.js';
import type { Model } from './model.js';
import { NativeOwner } from './native-owner.js';
import { checkTokenIds } from './token-ids.js';

/**
 * Stepwise generation (ORT-GenAI's `og.Generator`). Calls that run the model return Promises (which also carry
 * argument and use-after-dispose errors) and run off the JS thread; the others are synchronous. Calls on one
 * Generator are serialised: a synchronous call while an async one is still running throws a GenAIError instead of
 * blocking.
 */
export class Generator extends NativeOwner<NativeGenerator> {
  private readonly batchSize: number;
  // Rows of the logits: batch_size × num_beams.
  private readonly rows: number;
  private readonly vocabSize: number | undefined;

  private constructor(native: NativeGenerator, batchSize: number, rows: number, vocabSize: number | undefined) {
    super(native);
    this.batchSize = batchSize;
    this.rows = rows;
    this.vocabSize = vocabSize;
  }

  static async create(model: Model, params: GeneratorParams): Promise<Generator> {
    const batchSize = params.getSearchOption('batch_size');
    const rows = batchSize * params.getSearchOption('num_beams');
    return new Generator(await binding().Generator.create(model.native, params.native), batchSize, rows, model.vocabSize);
  }

  /** Appends prompt tokens (batch_size × length, row-major) and runs the prefill. */
  async appendTokens(tokens: Int32Array | number[]): Promise<void> {
    if (typeof tokens?.length === 'number' && tokens.length % this.batchSize !== 0) {
      throw new ValidationError(`appendTokens got ${tokens.length} ids, not a multiple of batch_size ${this.batchSize}`);
    }
    checkTokenIds(tokens, this.vocabSize, 'token');
    return this.native.appendTokens(tokens);
  }

  /** One sequence per batch entry, of any lengths; the library pads them. */
  async appendTokenSequences(sequences: (Int32Array | number[])[]): Promise<void> {
    if (Array.isArray(sequences)) for (const s of sequences) checkTokenIds(s, this.vocabSize, 'token');
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

  /**
   * The last position's logits, shape [batch × beams, 1, vocab]. Runs the model if the step has not yet. Refused
   * (GenAIError) with num_beams > 1 on ORT-GenAI before 0.18, which crashes the process there.
   */
  getLogits(): { data: Float32Array; shape: number[]; type: string } {
    return this.native.getLogits();
  }

  /**
   * Replaces the logits the next token is chosen from ([batch × beams × vocab] values), also before the first step
   * or right after appendTokens, as the library allows.
   */
  setLogits(data: Float32Array): void {
    // The library checks the size only once it has logits of its own; before, a wrong size is read out of bounds.
    if (this.vocabSize !== undefined && data?.length !== undefined && data.length !== this.rows * this.vocabSize) {
      throw new ValidationError(`setLogits got ${data.length} values, expected ${this.rows * this.vocabSize} (batch × beams × vocab)`);
    }
    this.native.setLogits(data);
  }

  /**
   * A copy of a model output (e.g. 'logits') from the last run. ORT-GenAI before 0.18 crashes on names it does not
   * know, so there only 'logits' after a run is answered.
   */
  getOutput(name: string): NativeTensor {
    return this.native.getOutput(name);
  }

  /**
   * Sets an extra model input the library does not fill itself. `type` is needed only for float16, bfloat16
   * (bits in a Uint16Array) and bool (a Uint8Array); otherwise the typed array says it.
   */
  setModelInput(name: string, tensor: { data: NativeTensor['data']; shape: number[]; type?: string }): void {
    this.native.setModelInput(name, tensor);
  }

  setRuntimeOption(key: string, value: string): void {
    this.native.setRuntimeOption(key, value);
  }

  setActiveAdapter(adapters: Adapters, name: string): void {
    this.native.setActiveAdapter(adapters.native, name);
  }
}
