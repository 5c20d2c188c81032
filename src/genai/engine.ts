/**
 * `Engine`: ORT-GenAI's request scheduler (`OgaEngine`). Generations submitted to one Engine share the model's
 * decode steps (one batched forward pass per step) instead of each running its own Generator. One native thread per
 * Engine runs the step loop (native/engine.cc); every request streams its tokens to JS like `model.stream()`.
 *
 * ORT-GenAI 0.15.2 on CPU batches statically: up to 4 requests run together and requests submitted meanwhile wait
 * until that batch has finished. See the README ("Engine") for when it pays off and when `model.generate()` (one
 * Generator per call, all running in parallel) is the better choice.
 */
import { binding, type NativeEngine } from '../native.js';
import { runGeneration, streamGeneration, type GenerateOptions, type GenerateResult, type TextStream } from './generate.js';
import type { Model } from './model.js';

export class Engine {
  /** The model whose requests this Engine schedules. */
  readonly model: Model;
  /** @internal */
  readonly native: NativeEngine;

  private constructor(model: Model, native: NativeEngine) {
    this.model = model;
    this.native = native;
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
   * search and guidance, which the Engine does not run (ValidationError). An aborted request ends at once with
   * finishReason 'abort'. Rejects with DisposedError if the Engine is disposed while the request runs.
   */
  generate(input: string | number[] | Int32Array, options?: GenerateOptions): Promise<GenerateResult> {
    return runGeneration(this.model, input, options, undefined, this.native);
  }

  /** Streams a completion through the Engine; see `generate()` and `model.stream()`. */
  stream(input: string | number[] | Int32Array, options?: GenerateOptions): TextStream {
    return streamGeneration(this.model, input, options, this.native);
  }

  get disposed(): boolean {
    return this.native.disposed;
  }

  /**
   * Stops the step thread after its current step and frees the engine. Requests still running reject with
   * DisposedError; the model stays usable (and is not disposed).
   */
  dispose(): void {
    this.native.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
