/**
 * `Engine`: ORT-GenAI's request scheduler (`OgaEngine`). Generations submitted to one Engine share the model's
 * decode steps (one batched forward pass per step) instead of each running its own Generator. One executor job per
 * Engine runs the step loop (native/engine_loop.cc) over whichever Engine API the library has (0.15's step API or
 * 0.16+'s events); every request streams its tokens to JS like `model.stream()`.
 *
 * ORT-GenAI 0.15.2 and 0.18.0 on CPU batch statically: up to 4 requests run together and requests submitted
 * meanwhile wait until that batch has finished. See the README ("Engine") for when it pays off and when `model.generate()` (one
 * Generator per call, all running in parallel) is the better choice.
 *
 * On 0.16+ (0.18.0) the Engine reserves KV cache for genai_config's `search.max_length` positions for every request
 * and ends a request there: that is each request's limit, prompt included (load the model with `maxLength`).
 *
 * `dispose()` stops the step loop after its current step and frees the engine: requests still running reject
 * with DisposedError; the model stays usable (and is not disposed).
 */
import { binding, type NativeEngine } from '../native.js';
import { EngineSource } from './engine-source.js';
import { runGeneration, streamGeneration, type GenerateResult, type GenerationModel, type TextStream } from './generate.js';
import type { GenerateOptions } from './generate-options.js';
import type { Model } from './model.js';
import { NativeOwner } from './native-owner.js';
import type { OpenTokenSource } from './token-source.js';

/**
 * The model as a 0.16+ Engine's requests see it: bound by the configured search.max_length as well as the context,
 * so a longer request is cut (finishReason 'length') and a prompt that fills it is refused here, in our words
 * rather than the library's ("must leave room for at least one generated token before max_session_tokens").
 */
function boundByMaxLength(model: Model): GenerationModel {
  return {
    get vocabSize() {
      return model.vocabSize;
    },
    get sequenceLimit() {
      const context = model.sequenceLimit;
      const maxLength = model.maxLength;
      if (maxLength === undefined || (context !== undefined && context.tokens <= maxLength)) return context;
      return { tokens: maxLength, what: "this Engine's request limit (genai_config search.max_length; Model.load's maxLength option sets it)" };
    },
    acquireTokenizer: () => model.acquireTokenizer(),
    releaseTokenizer: () => model.releaseTokenizer(),
  };
}

export class Engine extends NativeOwner<NativeEngine> {
  /** The model whose requests this Engine schedules. */
  readonly model: Model;
  // Each generation is one request of this Engine.
  private readonly openSource: OpenTokenSource;
  private readonly requestModel: GenerationModel;

  private constructor(model: Model, native: NativeEngine) {
    super(native);
    this.model = model;
    // 0.15's step API sizes each request by its own max_length; 0.16+ (events) by the configured one.
    this.requestModel = binding().runtimeInfo().engineApi === 'events' ? boundByMaxLength(model) : model;
    const modelNative = model.native;
    this.openSource = async (request) => EngineSource.open(native, modelNative, request);
  }

  /**
   * Creates an Engine for a loaded model. Rejects with a GenAIError when ORT-GenAI cannot schedule the model
   * (0.15.2 accepts decoder-only models such as Phi-3 and refuses e.g. GPT-2 graphs).
   */
  static async create(model: Model): Promise<Engine> {
    return new Engine(model, await binding().Engine.create(model.native));
  }

  /**
   * Generates a completion through the Engine: the same options and result as `model.generate()`, except beam
   * search, guidance, LoRA adapters and logprobs, which the Engine does not run (ValidationError). An aborted
   * request ends at once with finishReason 'abort'. Rejects with DisposedError if the Engine is disposed while the
   * request runs.
   */
  generate(input: string | number[] | Int32Array, options?: GenerateOptions): Promise<GenerateResult> {
    return runGeneration(this.requestModel, this.openSource, input, options);
  }

  /** Streams a completion through the Engine; see `generate()` and `model.stream()`. */
  stream(input: string | number[] | Int32Array, options?: GenerateOptions): TextStream {
    return streamGeneration(this.requestModel, this.openSource, input, options);
  }
}
