/**
 * A token source over one request scheduled by an Engine. What the Engine cannot run is refused when the source is
 * opened: beam search, guidance (ORT-GenAI 0.15's requests have no guidance logits processor), LoRA adapters (no
 * SetActiveAdapter for requests in the C API), logprobs.
 */
import { DisposedError, ValidationError } from '../errors.js';
import { binding, type ChunkCallback, type NativeEngine, type NativeEngineRequest, type NativeGeneratorParams, type NativeModel, type NativeTokenizer } from '../native.js';
import { startSoon } from './engine-batching.js';
import { applySearchOptions, LOGPROBS_REFUSED } from './generate-options.js';
import type { RunOutcome, SourceRequest, TokenSource } from './token-source.js';

export class EngineSource implements TokenSource {
  private cancelled = false;

  private constructor(
    private readonly engine: NativeEngine,
    private readonly request: NativeEngineRequest,
    private readonly params: NativeGeneratorParams,
    private readonly tokenizer: NativeTokenizer,
  ) {}

  static open(engine: NativeEngine, model: NativeModel, { search, options, tokenizer }: SourceRequest): EngineSource {
    if ((search.num_beams ?? 1) > 1) throw new ValidationError('the Engine runs greedy or sampled search, not beam search (num_beams > 1)');
    if (options.guidance) throw new ValidationError('the Engine does not support guidance; use model.generate()');
    if (options.adapter) throw new ValidationError('the Engine does not support LoRA adapters; use model.generate()');
    if (options.logprobs !== undefined) throw new ValidationError(LOGPROBS_REFUSED);
    const params = binding().GeneratorParams.create(model);
    try {
      applySearchOptions(params, search);
      return new EngineSource(engine, engine.createRequest(params), params, tokenizer.native);
    } catch (err) {
      params.dispose();
      throw err;
    }
  }

  async run(prompt: Int32Array, onChunk: ChunkCallback): Promise<RunOutcome> {
    const running = this.request.run(prompt, this.tokenizer, onChunk);
    startSoon(this.engine);
    const outcome = await running;
    // Stopped by nobody here: the Engine was disposed with this request in flight.
    if (outcome === 'stopped' && !this.cancelled) throw new DisposedError('Engine');
    return outcome;
  }

  cancel(): void {
    this.cancelled = true;
    this.request.stop();
  }

  dispose(): void {
    this.request.dispose();
    this.params.dispose();
  }
}
