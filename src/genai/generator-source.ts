/**
 * A token source over a Generator of the model's own: every option the library offers (beam search, guidance,
 * LoRA adapters, logprobs). A chat session keeps one alive across turns (rewindTo, sequence).
 */
import { GenAIError, GuidanceError, ValidationError } from '../errors.js';
import { binding, type ChunkCallback, type NativeGenerator, type NativeGeneratorParams, type NativeModel, type NativeTokenizer } from '../native.js';
import { applySearchOptions, LOGPROBS_REFUSED, type ParsedGenerateOptions } from './generate-options.js';
import type { RunOutcome, SourceRequest, TokenSource } from './token-source.js';

/** A grammar ORT-GenAI cannot build ("Error creating grammar: ...") is the caller's GuidanceError. */
function creationError(err: unknown, guidance: ParsedGenerateOptions['guidance']): unknown {
  if (guidance && err instanceof GenAIError && /grammar/i.test(err.message)) {
    return new GuidanceError(`invalid ${guidance.type} guidance: ${err.message}`, { cause: err });
  }
  return err;
}

/** Params for one Generator, with the request's search options and guidance set. */
function paramsFor(model: NativeModel, { search, options }: SourceRequest): NativeGeneratorParams {
  if ((search.num_beams ?? 1) > 1 && options.logprobs !== undefined) throw new ValidationError(LOGPROBS_REFUSED);
  const params = binding().GeneratorParams.create(model);
  try {
    applySearchOptions(params, search);
    if (options.guidance) params.setGuidance(options.guidance.type, options.guidance.data);
    return params;
  } catch (err) {
    params.dispose();
    throw err;
  }
}

export class GeneratorSource implements TokenSource {
  private cancelled = false;
  private native: NativeGenerator | undefined;
  // prepare(): what the first run() creates its Generator from (Generator.start), then undefined.
  private pending: NativeGeneratorParams | undefined;

  private constructor(
    // null under beam search: its tokens are only final at the end, so none are decoded on the way.
    private readonly tokenizer: NativeTokenizer | null,
    private readonly logprobs: number | null,
    private readonly guidance: ParsedGenerateOptions['guidance'],
  ) {}

  private static empty({ search, options, tokenizer }: SourceRequest): GeneratorSource {
    const beams = (search.num_beams ?? 1) > 1;
    return new GeneratorSource(beams ? null : tokenizer.native, options.logprobs ?? null, options.guidance);
  }

  /** Creates the Generator now (off the JS thread), for a source that is used before or across runs (a chat). */
  static async open(model: NativeModel, request: SourceRequest): Promise<GeneratorSource> {
    const params = paramsFor(model, request);
    const source = GeneratorSource.empty(request);
    try {
      source.native = await binding().Generator.create(model, params);
    } catch (err) {
      throw creationError(err, request.options.guidance);
    } finally {
      // The Generator keeps what it needs of them (native/generator.cc).
      params.dispose();
    }
    try {
      if (request.options.adapter) source.native.setActiveAdapter(request.options.adapter.adapters.native, request.options.adapter.name);
    } catch (err) {
      source.dispose();
      throw err;
    }
    return source;
  }

  /**
   * For one generation: the Generator is created by the first run(), in the same native job as its prefill, which
   * saves the creation's hand-over to the JS thread and back before the first token. With a LoRA adapter (set
   * between creation and run) it is created now, as open() does.
   */
  static async prepare(model: NativeModel, request: SourceRequest): Promise<GeneratorSource> {
    if (request.options.adapter) return GeneratorSource.open(model, request);
    const params = paramsFor(model, request);
    const source = GeneratorSource.empty(request);
    source.pending = params;
    return source;
  }

  /** The Generator (it holds its params itself); created by open(), or by a prepared source's first run(). */
  get generator(): NativeGenerator {
    if (!this.native) throw new GenAIError('the generator is created by its first run()');
    return this.native;
  }

  /**
   * See TokenSource.run; `maxNewTokens` ends the run after that many new tokens, between two steps (as
   * max_length does), where cancel() may cut a step short.
   */
  async run(prompt: Int32Array, onChunk: ChunkCallback, maxNewTokens?: number): Promise<RunOutcome> {
    this.cancelled = false;
    let outcome: RunOutcome;
    if (this.pending) {
      const params = this.pending;
      this.pending = undefined;
      let done: Promise<RunOutcome>;
      try {
        const started = binding().Generator.start(params, prompt, this.tokenizer, onChunk, this.logprobs, maxNewTokens ?? null);
        this.native = started.generator;
        done = started.done;
      } finally {
        params.dispose();
      }
      outcome = await done.catch((err: unknown) => {
        throw creationError(err, this.guidance);
      });
    } else {
      outcome = await this.generator.run(prompt, this.tokenizer, onChunk, this.logprobs, maxNewTokens ?? null);
    }
    // A stop sets ONNX Runtime's terminate flag (also when it comes as the run ends by itself), under which the
    // library refuses (or, in isDone(), aborts the process on) every later call: clear it so the generator can go on.
    if (this.cancelled) this.generator.setRuntimeOption('terminate_session', '0');
    return outcome;
  }

  cancel(): void {
    this.cancelled = true;
    this.native?.stop();
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
    this.native?.dispose();
    this.pending?.dispose();
  }
}
