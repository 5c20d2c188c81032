/**
 * A token source over a Generator of the model's own: every option the library offers (beam search, guidance,
 * LoRA adapters, logprobs). A chat session keeps one alive across turns (rewindTo, sequence).
 */
import { GenAIError, GuidanceError, ValidationError } from '../errors.js';
import { binding, type ChunkCallback, type NativeGenerator, type NativeModel, type NativeTokenizer } from '../native.js';
import { applySearchOptions, LOGPROBS_REFUSED } from './generate-options.js';
import type { RunOutcome, SourceRequest, TokenSource } from './token-source.js';

export class GeneratorSource implements TokenSource {
  private cancelled = false;

  private constructor(
    /** The Generator (it holds its params itself). */
    readonly generator: NativeGenerator,
    // null under beam search: its tokens are only final at the end, so none are decoded on the way.
    private readonly tokenizer: NativeTokenizer | null,
    private readonly logprobs: number | null,
  ) {}

  static async open(model: NativeModel, { search, options, tokenizer }: SourceRequest): Promise<GeneratorSource> {
    const beams = (search.num_beams ?? 1) > 1;
    if (beams && options.logprobs !== undefined) throw new ValidationError(LOGPROBS_REFUSED);
    const params = binding().GeneratorParams.create(model);
    let generator: NativeGenerator;
    try {
      applySearchOptions(params, search);
      if (options.guidance) params.setGuidance(options.guidance.type, options.guidance.data);
      generator = await binding().Generator.create(model, params);
    } catch (err) {
      // A grammar ORT-GenAI cannot build ("Error creating grammar: ...") is the caller's GuidanceError.
      if (options.guidance && err instanceof GenAIError && /grammar/i.test(err.message)) {
        throw new GuidanceError(`invalid ${options.guidance.type} guidance: ${err.message}`, { cause: err });
      }
      throw err;
    } finally {
      // The Generator keeps what it needs of them (native/generator.cc).
      params.dispose();
    }
    const source = new GeneratorSource(generator, beams ? null : tokenizer.native, options.logprobs ?? null);
    try {
      if (options.adapter) generator.setActiveAdapter(options.adapter.adapters.native, options.adapter.name);
    } catch (err) {
      source.dispose();
      throw err;
    }
    return source;
  }

  /**
   * See TokenSource.run; `maxNewTokens` ends the run after that many new tokens, between two steps (as
   * max_length does), where cancel() may cut a step short.
   */
  async run(prompt: Int32Array, onChunk: ChunkCallback, maxNewTokens?: number): Promise<RunOutcome> {
    this.cancelled = false;
    const outcome = await this.generator.run(prompt, this.tokenizer, onChunk, this.logprobs, maxNewTokens ?? null);
    // A stop sets ONNX Runtime's terminate flag (also when it comes as the run ends by itself), under which the
    // library refuses (or, in isDone(), aborts the process on) every later call: clear it so the generator can go on.
    if (this.cancelled) this.generator.setRuntimeOption('terminate_session', '0');
    return outcome;
  }

  cancel(): void {
    this.cancelled = true;
    this.generator.stop();
  }

  /**
   * Whether cancel() ended the last run. It may have cut a step short, after which ORT-GenAI's non-shared KV
   * cache holds garbage that a rewind would copy: only a rewind to 0 is safe then.
   */
  get interrupted(): boolean {
    return this.cancelled;
  }

  sequence(): Int32Array {
    return this.generator.getSequence(0);
  }

  /** Forgets every id after the first `length` (their KV cache entries included). */
  rewindTo(length: number): void {
    this.generator.rewindTo(length);
  }

  dispose(): void {
    this.generator.dispose();
  }
}
