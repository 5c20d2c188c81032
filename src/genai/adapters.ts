import { binding, type NativeAdapters } from '../native.js';
import type { Model } from './model.js';

/** LoRA adapters for a model; activate one per Generator with `generator.setActiveAdapter(adapters, name)`. */
export class Adapters {
  /** @internal */
  readonly native: NativeAdapters;

  constructor(model: Model) {
    this.native = binding().Adapters.create(model.native);
  }

  /** Loads an adapter file (.onnx_adapter) under `name` (off the JS thread). */
  async loadAdapter(file: string, name: string): Promise<void> {
    return this.native.loadAdapter(file, name);
  }

  unloadAdapter(name: string): void {
    this.native.unloadAdapter(name);
  }

  dispose(): void {
    this.native.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
