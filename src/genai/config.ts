import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../errors.js';
import { binding, type NativeConfig } from '../native.js';
import { NativeOwner } from './native-owner.js';

/** Refuses what is not a model folder with a message that says why (the library's own would be "std::bad_alloc"). */
export function checkModelFolder(dir: unknown): asserts dir is string {
  if (typeof dir !== 'string') throw new ValidationError(`a model folder must be a path string, got ${typeof dir}`);
  if (dir === '') throw new ValidationError('the model folder path is empty');
  const full = path.resolve(dir);
  if (!existsSync(full)) throw new ValidationError(`model folder not found: ${full}`);
  if (!statSync(full).isDirectory()) throw new ValidationError(`${full} is a file, not a model folder`);
  const config = path.join(full, 'genai_config.json');
  if (!existsSync(config)) throw new ValidationError(`${full} is not an ORT-GenAI model folder: it has no genai_config.json`);
  if (!statSync(config).isFile()) throw new ValidationError(`${config} is not a file`);
}

/** A model folder's genai_config.json, adjustable before `Model.load(config)`. */
export class Config extends NativeOwner<NativeConfig> {
  /** The folder the configuration was read from. */
  readonly path: string;
  /** @internal What overlay() merged, in order, so Model can tell the settings it reads itself. */
  readonly overlays: unknown[] = [];

  private constructor(native: NativeConfig, dir: string) {
    super(native);
    this.path = dir;
  }

  /** Reads `<dir>/genai_config.json` (off the JS thread). */
  static async load(dir: string): Promise<Config> {
    checkModelFolder(dir);
    return new Config(await binding().Config.load(dir), dir);
  }

  clearProviders(): void {
    this.native.clearProviders();
  }

  /** Adds an execution provider (e.g. 'cuda', 'dml') after the existing ones. */
  appendProvider(name: string): void {
    this.native.appendProvider(name);
  }

  setProviderOption(provider: string, key: string, value: string): void {
    this.native.setProviderOption(provider, key, value);
  }

  /** Merges JSON (a string or an object) over the configuration, e.g. `{ search: { max_length: 128 } }`. */
  overlay(json: string | object): void {
    const text = typeof json === 'string' ? json : JSON.stringify(json);
    this.native.overlay(text);
    this.overlays.push(JSON.parse(text));
  }
}
