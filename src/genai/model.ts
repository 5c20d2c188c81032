import path from 'node:path';
import { DisposedError, GenAIError, ValidationError } from '../errors.js';
import { binding, type NativeModel } from '../native.js';
import type { RuntimeOptions } from '../runtime.js';
import { checkModelFolder, Config } from './config.js';
import { readGenAIConfig } from './genai-config.js';
import { runGeneration, streamGeneration, type GenerateResult, type GenerationModel, type TextStream } from './generate.js';
import type { GenerateOptions, SequenceLimit } from './generate-options.js';
import { GeneratorSource } from './generator-source.js';
import { NativeOwner } from './native-owner.js';
import type { OpenTokenSource } from './token-source.js';
import { Tokenizer } from './tokenizer.js';

export interface ModelLoadOptions {
  /**
   * ONNX Runtime intra-op threads for the decoder. ORT-GenAI 0.15.2 otherwise uses half the hardware threads
   * unless genai_config.json sets `session_options.intra_op_num_threads`.
   */
  threads?: number;
  /** Execution provider to use instead of the configured ones ('cpu' clears them; 'cuda', 'dml', ...). */
  provider?: string;
  /**
   * genai_config.json's `search.max_length`: the longest sequence (prompt + new tokens) of an Engine request.
   * ORT-GenAI 0.16+ Engines reserve KV cache for this many positions for every request they run (phi3-mini's
   * configured 4096: 3.2 GB a request), so set it to what your requests need. `model.generate()` sizes each
   * generation by its own prompt and maxTokens and does not depend on it.
   */
  maxLength?: number;
  /**
   * Where the runtime libraries come from, e.g. `{ python: '/venv/bin/python' }` for the official
   * onnxruntime-genai wheel of a Python environment (like ORTGENAI_PYTHON). The runtime is process-wide: this
   * applies to the first load; a later load that asks for another runtime fails with RuntimeLoadError.
   */
  runtime?: RuntimeOptions;
}

interface ConfigFacts {
  contextLength?: number;
  vocabSize?: number;
  maxLength?: number;
}

/** context_length, vocab_size and search.max_length from genai_config.json, as `overlays` (Config.overlay) leave them. */
async function readConfigFacts(dir: string, overlays: readonly unknown[]): Promise<ConfigFacts> {
  let layers: readonly unknown[] = overlays;
  try {
    layers = [await readGenAIConfig(dir), ...overlays];
  } catch {
    // Loaded by the library but unreadable here: the overlays still count.
  }
  const facts: ConfigFacts = {};
  for (const layer of layers) {
    const { model: m, search } = (layer ?? {}) as { model?: { context_length?: unknown; vocab_size?: unknown }; search?: { max_length?: unknown } };
    if (typeof m?.context_length === 'number') facts.contextLength = m.context_length;
    if (typeof m?.vocab_size === 'number') facts.vocabSize = m.vocab_size;
    if (typeof search?.max_length === 'number') facts.maxLength = search.max_length;
  }
  return facts;
}

function maxLengthOverlay(maxLength: number) {
  return { search: { max_length: maxLength } };
}

/** An ORT-GenAI model (`og.Model`) with its tokenizer. */
export class Model extends NativeOwner<NativeModel> implements GenerationModel {
  /** The model folder. */
  readonly path: string;
  private readonly facts: ConfigFacts;
  // The tokenizer, or why the folder has none: the model loads without one, as in the library.
  private readonly ownTokenizer: Tokenizer | Error;
  // Generations holding the tokenizer: dispose() frees it only once they have all ended.
  private generations = 0;
  // Each generation runs on a Generator of its own.
  private readonly openSource: OpenTokenSource = (request) => GeneratorSource.prepare(this.native, request);

  private constructor(native: NativeModel, tokenizer: Tokenizer | Error, dir: string, facts: ConfigFacts) {
    super(native);
    this.ownTokenizer = tokenizer;
    this.path = dir;
    this.facts = facts;
  }

  /** Loads a model folder (or a prepared Config) off the JS thread. */
  static async load(dirOrConfig: string | Config, options: ModelLoadOptions = {}): Promise<Model> {
    for (const key of ['threads', 'maxLength'] as const) {
      const value = options[key];
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
        throw new ValidationError(`${key} must be a positive integer, got ${value}`);
      }
    }
    if (!(dirOrConfig instanceof Config)) checkModelFolder(dirOrConfig);
    const dir = typeof dirOrConfig === 'string' ? dirOrConfig : dirOrConfig.path;
    // The facts as the library will see them, read before the options' overlays go into a caller's Config.
    const layers = dirOrConfig instanceof Config ? [...dirOrConfig.overlays] : [];
    if (options.maxLength !== undefined) layers.push(maxLengthOverlay(options.maxLength));
    const facts = await readConfigFacts(dir, layers);
    // The library takes a longer one silently, and a 0.16+ Engine would reserve KV cache for positions no request
    // can reach.
    if (options.maxLength !== undefined && facts.contextLength !== undefined && options.maxLength > facts.contextLength) {
      throw new ValidationError(`maxLength ${options.maxLength} exceeds the model's context_length ${facts.contextLength}`);
    }
    const b = binding(options.runtime);
    const adjust = options.threads !== undefined || options.provider !== undefined || options.maxLength !== undefined;
    const config = typeof dirOrConfig === 'string' ? (adjust ? await Config.load(dir) : undefined) : dirOrConfig;
    let native: NativeModel;
    try {
      if (config && options.provider !== undefined) {
        config.clearProviders();
        if (options.provider !== 'cpu') config.appendProvider(options.provider);
      }
      if (config && options.threads !== undefined) {
        config.overlay({ model: { decoder: { session_options: { intra_op_num_threads: options.threads } } } });
      }
      if (config && options.maxLength !== undefined) config.overlay(maxLengthOverlay(options.maxLength));
      native = await b.Model.load(config ? config.native : dir);
    } finally {
      if (config && config !== dirOrConfig) config.dispose();
    }
    let tokenizer: Tokenizer | Error;
    try {
      tokenizer = new Tokenizer(await b.Tokenizer.create(native));
    } catch (cause) {
      tokenizer = cause as Error;
    }
    return new Model(native, tokenizer, dir, facts);
  }

  /** Created with the model and disposed with it; GenAIError when the folder has no usable tokenizer files. */
  get tokenizer(): Tokenizer {
    this.checkAlive();
    if (this.ownTokenizer instanceof Tokenizer) return this.ownTokenizer;
    throw new GenAIError(`the model in ${path.resolve(this.path)} has no tokenizer: ${this.ownTokenizer.message}`, {
      cause: this.ownTokenizer,
    });
  }

  /** From genai_config.json (and Config overlays), when readable: the most tokens a sequence may hold. */
  get contextLength(): number | undefined {
    this.checkAlive();
    return this.facts.contextLength;
  }

  /**
   * genai_config.json's `search.max_length` (after Config overlays and the `maxLength` load option), when readable:
   * on ORT-GenAI 0.16+ the Engine's limit for one request, prompt included.
   */
  get maxLength(): number | undefined {
    this.checkAlive();
    return this.facts.maxLength;
  }

  /** @internal See GenerationModel: generations on a Generator of their own are bound by the context only. */
  get sequenceLimit(): SequenceLimit | undefined {
    const tokens = this.contextLength;
    return tokens === undefined ? undefined : { tokens, what: "the model's context" };
  }

  /** From genai_config.json (and Config overlays), when readable: token ids are checked against it. */
  get vocabSize(): number | undefined {
    this.checkAlive();
    return this.facts.vocabSize;
  }

  /** The model type from genai_config.json (e.g. 'phi3', 'gpt2'). */
  get type(): string {
    return this.native.type;
  }

  /** Where the model runs ('CPU', 'CUDA', ...). */
  get deviceType(): string {
    return this.native.deviceType;
  }

  /** Generates a completion; see GenerateOptions. Never blocks the event loop. */
  generate(input: string | number[] | Int32Array, options?: GenerateOptions): Promise<GenerateResult> {
    return runGeneration(this, this.openSource, input, options);
  }

  /** Streams a completion as text chunks; `.result` resolves with the full GenerateResult. */
  stream(input: string | number[] | Int32Array, options?: GenerateOptions): TextStream {
    return streamGeneration(this, this.openSource, input, options);
  }

  /**
   * @internal The tokenizer for one generation, kept alive past dispose() until `releaseTokenizer()`, so that a
   * generation running when the model is disposed still ends normally.
   */
  acquireTokenizer(): Tokenizer {
    const tokenizer = this.tokenizer;
    this.generations++;
    return tokenizer;
  }

  /** @internal */
  releaseTokenizer(): void {
    if (--this.generations === 0 && this.disposed) this.freeTokenizer();
  }

  /** Frees the model and its tokenizer. Generations still running keep what they need until they end. */
  override dispose(): void {
    super.dispose();
    if (this.generations === 0) this.freeTokenizer();
  }

  private freeTokenizer(): void {
    if (this.ownTokenizer instanceof Tokenizer) this.ownTokenizer.dispose();
  }

  private checkAlive(): void {
    if (this.disposed) throw new DisposedError('Model');
  }
}
