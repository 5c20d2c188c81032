/**
 * Loads the addon (prebuilds/ or build/Release via node-gyp-build) and the runtime libraries, once per thread.
 * The order matters: ORT-GenAI aborts the whole process if it cannot find ONNX Runtime, so the addon loads
 * ONNX Runtime by absolute path first and ORT-GenAI only after that succeeded.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DisposedError, GenAIError, RuntimeLoadError, ValidationError } from './errors.js';
import { resolveRuntimeLibraries, type RuntimeLibraries, type RuntimeOptions } from './runtime.js';

const require = createRequire(import.meta.url);
/** Package root: one level above both src/ (tests) and dist/ (published). */
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---- The raw binding's shape (native/*.cc). The public classes in src/genai wrap these. ----

export interface NativeDisposable {
  dispose(): void;
  readonly disposed: boolean;
}
export interface NativeConfig extends NativeDisposable {
  clearProviders(): void;
  appendProvider(name: string): void;
  setProviderOption(provider: string, key: string, value: string): void;
  overlay(json: string): void;
}
export interface NativeModel extends NativeDisposable {
  readonly type: string;
  readonly deviceType: string;
}
export interface NativeGeneratorParams extends NativeDisposable {
  setSearchNumber(name: string, value: number): void;
  setSearchBool(name: string, value: boolean): void;
  getSearchNumber(name: string): number;
  getSearchBool(name: string): boolean;
  setGuidance(type: string, data: string, enableFfTokens?: boolean): void;
}
/** A tensor copied between JS and ORT-GenAI; float16/bfloat16 travel as their bits in a Uint16Array. */
export interface NativeTensor {
  type: string;
  shape: number[];
  data: Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;
}
export interface NativeTokenizer extends NativeDisposable {
  encode(text: string): Int32Array;
  encodeBatch(texts: string[]): Promise<{ data: Int32Array; shape: [number, number] }>;
  updateOptions(options: Record<string, string>): void;
  decode(tokens: Int32Array | number[]): string;
  decodeBatch(sequences: (Int32Array | number[])[]): string[];
  toTokenId(text: string): number;
  applyChatTemplate(messagesJson: string, template: string | null, tools: string | null, addGenerationPrompt: boolean): string;
  readonly bosTokenId: number;
  readonly padTokenId: number;
  readonly eosTokenIds: number[];
  readonly botTokenId: number;
  readonly eotTokenId: number;
  readonly borTokenId: number;
  readonly eorTokenId: number;
}
export interface NativeTokenizerStream extends NativeDisposable {
  decode(token: number): string;
}
export interface NativeAdapters extends NativeDisposable {
  loadAdapter(file: string, name: string): Promise<void>;
  unloadAdapter(name: string): void;
}
export interface NativeGenerator extends NativeDisposable {
  appendTokens(tokens: Int32Array | number[]): Promise<void>;
  appendTokenSequences(sequences: (Int32Array | number[])[]): Promise<void>;
  generateNextToken(): Promise<void>;
  isDone(): boolean;
  tokenCount(): number;
  getNextTokens(): Int32Array;
  getSequence(index: number): Int32Array;
  rewindTo(length: number): void;
  getLogits(): NativeTensor & { data: Float32Array };
  setLogits(logits: Float32Array): void;
  getOutput(name: string): NativeTensor;
  setModelInput(name: string, tensor: Partial<Pick<NativeTensor, 'type'>> & Omit<NativeTensor, 'type'>): void;
  setRuntimeOption(key: string, value: string): void;
  setActiveAdapter(adapters: NativeAdapters, name: string): void;
  /**
   * Prefill `prompt` (if given) and decode until done or stop(), on a native thread. Tokens arrive in batches with
   * their decoded text (only with a tokenizer) and, per token, where its text ends (UTF-16 index into `text`).
   */
  run(
    prompt: Int32Array | number[] | null,
    tokenizer: NativeTokenizer | null,
    onChunk: ChunkCallback,
    topLogprobs?: number | null,
    /** Ends the loop after this many new tokens, between two steps (a stop() may cut one short). */
    maxNewTokens?: number | null,
  ): Promise<'done' | 'stopped'>;
  stop(): void;
}
/**
 * With `topLogprobs` given to run(), single-sequence deliveries carry each token's log-probability and its
 * `topLogprobs` most likely alternatives (`topIds`/`topLogprobs`, that many per token, most likely first),
 * computed in the native loop from the logits the token was chosen from.
 */
export interface NativeLogprobs {
  logprobs: Float32Array;
  topIds: Int32Array;
  topLogprobs: Float32Array;
}
export type ChunkCallback = (tokens: Int32Array, text: string, ends: Int32Array, logprobs?: NativeLogprobs) => void;

/** One generation scheduled by an Engine: the same run/stop contract as NativeGenerator's token loop. */
export interface NativeEngineRequest extends NativeDisposable {
  run(prompt: Int32Array | number[], tokenizer: NativeTokenizer | null, onChunk: ChunkCallback): Promise<'done' | 'stopped'>;
  stop(): void;
}
export interface NativeEngine extends NativeDisposable {
  createRequest(params: NativeGeneratorParams): NativeEngineRequest;
  /** Starts the requests run() queued since the last flush (run() alone does not wake an idle engine). */
  flush(): void;
}

export interface NativeBinding {
  loadRuntime(ortPath: string, genaiPath: string): void;
  /**
   * genaiVersion: the loaded ORT-GenAI's release as its file states it ('' when unknown or not loaded).
   * engineApi: the Engine API the Engine drives, 'step' (0.15's OgaEngineStep) or 'events' (0.16+'s OgaEngineRun).
   */
  runtimeInfo(): { loaded: boolean; ortPath: string; genaiPath: string; genaiVersion: string; engineApi: '' | 'step' | 'events' };
  setErrorClasses(classes: { GenAIError: unknown; DisposedError: unknown; ValidationError: unknown }): void;
  setLogBool(name: string, value: boolean): void;
  setLogString(name: string, value: string): void;
  setLogCallback(callback: ((line: string) => void) | null): void;
  Config: { load(dir: string): Promise<NativeConfig> };
  Model: { load(dirOrConfig: string | NativeConfig): Promise<NativeModel> };
  GeneratorParams: { create(model: NativeModel): NativeGeneratorParams };
  Generator: {
    create(model: NativeModel, params: NativeGeneratorParams): Promise<NativeGenerator>;
    /**
     * create() and the generator's first run() in one native job, for the model the params were made for (even if
     * it is disposed meanwhile): `generator` at once (busy until the run ends; stop() works from the start), `done`
     * as run()'s, rejected with the creation's error if that fails.
     */
    start(
      params: NativeGeneratorParams,
      ...run: Parameters<NativeGenerator['run']>
    ): { generator: NativeGenerator; done: Promise<'done' | 'stopped'> };
  };
  Tokenizer: { create(model: NativeModel): Promise<NativeTokenizer> };
  TokenizerStream: { create(tokenizer: NativeTokenizer): NativeTokenizerStream };
  Adapters: { create(model: NativeModel): NativeAdapters };
  Engine: { create(model: NativeModel): Promise<NativeEngine> };
}

/**
 * How to build the addon from here. An installed package has no devDependencies, so it rebuilds through its own
 * install script (node-gyp-build, which runs npm's bundled node-gyp); a checkout has the npm script.
 */
function buildAdvice(): string {
  const installed = packageRoot.split(path.sep).includes('node_modules');
  const needs = 'needs python3, make and a C++17 compiler';
  return installed
    ? `build it from source by running 'npm rebuild ortgenai-node --ignore-scripts=false' in your project (${needs})`
    : `build it by running 'npm run build:native' in ${packageRoot} (${needs})`;
}

let addon: NativeBinding | undefined;
let runtime: RuntimeLibraries | undefined;
/** The interpreter a `runtime: { python }` option named for the loaded runtime, so the same option does not ask it again. */
let runtimePython: string | undefined;

/** The addon alone (no runtime libraries): enough for `runtimeInfo()`. */
export function loadAddon(): NativeBinding {
  if (addon) return addon;
  let loaded: NativeBinding;
  try {
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    loaded = nodeGypBuild(packageRoot) as NativeBinding;
  } catch (cause) {
    throw new RuntimeLoadError(
      `the ortgenai native addon is not built for ${process.platform}-${process.arch} (looked in ` +
        `${path.join(packageRoot, 'prebuilds')} and ${path.join(packageRoot, 'build', 'Release')}); ${buildAdvice()}`,
      { cause },
    );
  }
  loaded.setErrorClasses({ GenAIError, DisposedError, ValidationError });
  addon = loaded;
  return loaded;
}

/**
 * The addon with ONNX Runtime and ORT-GenAI loaded; throws RuntimeLoadError naming what is missing and where.
 * The runtime is process-wide: `options` decide it on the first load only (a later, different choice fails).
 */
export function binding(options?: RuntimeOptions): NativeBinding {
  const b = loadAddon();
  if (runtime && (!options?.python || options.python === runtimePython)) return b;
  const libs = resolveRuntimeLibraries(process.env, options);
  try {
    b.loadRuntime(libs.ort, libs.genai);
  } catch (cause) {
    throw new RuntimeLoadError((cause as Error).message, { cause });
  }
  const version = b.runtimeInfo().genaiVersion;
  runtime = { ...libs, ...(version ? { genaiVersion: version } : {}) };
  runtimePython = options?.python;
  return b;
}

/** Which runtime libraries this process uses, where they came from and their versions (resolving them, without loading, if nothing is loaded yet). */
export function runtimeLibraries(): RuntimeLibraries {
  return runtime ?? resolveRuntimeLibraries();
}
