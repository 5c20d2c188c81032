import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../errors.js';
import { binding, type NativeModel } from '../native.js';
import { Config } from './config.js';
import { runGeneration, streamGeneration, type GenerateOptions, type GenerateResult, type TextStream } from './generate.js';
import { Tokenizer } from './tokenizer.js';

export interface ModelLoadOptions {
  /**
   * ONNX Runtime intra-op threads for the decoder. ORT-GenAI 0.15.2 otherwise uses half the hardware threads
   * unless genai_config.json sets `session_options.intra_op_num_threads`.
   */
  threads?: number;
  /** Execution provider to use instead of the configured ones ('cpu' clears them; 'cuda', 'dml', ...). */
  provider?: string;
}

interface ConfigFacts {
  contextLength?: number;
  vocabSize?: number;
}

function readConfigFacts(dir: string): ConfigFacts {
  try {
    const json = JSON.parse(readFileSync(path.join(dir, 'genai_config.json'), 'utf8'));
    const m = json?.model ?? {};
    return {
      contextLength: typeof m.context_length === 'number' ? m.context_length : undefined,
      vocabSize: typeof m.vocab_size === 'number' ? m.vocab_size : undefined,
    };
  } catch {
    return {};
  }
}

function checkFolder(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ValidationError(`model folder not found: ${path.resolve(dir)}`);
  }
  if (!existsSync(path.join(dir, 'genai_config.json'))) {
    throw new ValidationError(`${path.resolve(dir)} is not an ORT-GenAI model folder: it has no genai_config.json`);
  }
}

/** An ORT-GenAI model (`og.Model`) with its tokenizer. */
export class Model {
  /** @internal */
  readonly native: NativeModel;
  /** The model folder. */
  readonly path: string;
  /** Created with the model and disposed with it. */
  readonly tokenizer: Tokenizer;
  /** From genai_config.json, when readable: the most tokens a sequence may hold. */
  readonly contextLength: number | undefined;
  /** From genai_config.json, when readable: prompt ids are checked against it. */
  readonly vocabSize: number | undefined;

  private constructor(native: NativeModel, tokenizer: Tokenizer, dir: string) {
    this.native = native;
    this.tokenizer = tokenizer;
    this.path = dir;
    const facts = readConfigFacts(dir);
    this.contextLength = facts.contextLength;
    this.vocabSize = facts.vocabSize;
  }

  /** Loads a model folder (or a prepared Config) off the JS thread. */
  static async load(dirOrConfig: string | Config, options: ModelLoadOptions = {}): Promise<Model> {
    if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
      throw new ValidationError(`threads must be a positive integer, got ${options.threads}`);
    }
    const b = binding();
    const dir = typeof dirOrConfig === 'string' ? dirOrConfig : dirOrConfig.path;
    if (typeof dirOrConfig === 'string') checkFolder(dir);
    const adjust = options.threads !== undefined || options.provider !== undefined;
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
      native = await b.Model.load(config ? config.native : dir);
    } finally {
      if (config && config !== dirOrConfig) config.dispose();
    }
    try {
      return new Model(native, new Tokenizer(await b.Tokenizer.create(native)), dir);
    } catch (err) {
      native.dispose();
      throw err;
    }
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
    return runGeneration(this, input, options);
  }

  /** Streams a completion as text chunks; `.result` resolves with the full GenerateResult. */
  stream(input: string | number[] | Int32Array, options?: GenerateOptions): TextStream {
    return streamGeneration(this, input, options);
  }

  /** Frees the model and its tokenizer. Generations still running keep what they need until they end. */
  dispose(): void {
    this.tokenizer.dispose();
    this.native.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
