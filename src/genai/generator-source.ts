/**
 * A token source over a Generator of the model's own: every option the library offers (beam search, guidance,
 * LoRA adapters, logprobs). A chat session keeps one alive across turns (rewindTo, sequence).
 */
import { GenAIError, GuidanceError, ValidationError } from '../errors.js';
import { binding, type ChunkCallback, type NativeGenerator, type NativeModel, type NativeTokenizer } from '../native.js';
import { applySearchOptions, LOGPROBS_REFUSED } from './generate-options.js';
import type { RunOutcome, SourceRequest, TokenSource } from './token-source.js';

export class GeneratorSource implements TokenSource {
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

  async run(prompt: Int32Array, onChunk: ChunkCallback): Promise<RunOutcome> {
    const outcome = await this.generator.run(prompt, this.tokenizer, onChunk, this.logprobs);
    // A stop sets ONNX Runtime's terminate flag, under which the library refuses (or, in isDone(), aborts the
    // process on) every later call: clear it so the generator can go on.
    if (outcome === 'stopped') this.generator.setRuntimeOption('terminate_session', '0');
    return outcome;
  }

  cancel(): void {
    this.generator.stop();
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
