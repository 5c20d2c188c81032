import { binding, type NativeConfig } from '../native.js';

/** A model folder's genai_config.json, adjustable before `Model.load(config)`. */
export class Config {
  /** @internal */
  readonly native: NativeConfig;
  /** The folder the configuration was read from. */
  readonly path: string;

  private constructor(native: NativeConfig, path: string) {
    this.native = native;
    this.path = path;
  }

  /** Reads `<dir>/genai_config.json` (off the JS thread). */
  static async load(dir: string): Promise<Config> {
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
    this.native.overlay(typeof json === 'string' ? json : JSON.stringify(json));
  }

  dispose(): void {
    this.native.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
