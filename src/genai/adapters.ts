import { existsSync } from 'node:fs';
import path from 'node:path';
import { GenAIError, ValidationError } from '../errors.js';
import { binding, type NativeAdapters, type NativeModel } from '../native.js';
import { NativeOwner } from './native-owner.js';

/**
 * LoRA adapters for a model (`og.Adapters`). Activate one per generation with `generator.setActiveAdapter(adapters,
 * name)` or `model.generate(prompt, { adapter: { adapters, name } })`. The library refuses to unload an adapter
 * that a live Generator has active; disposing the Adapters object itself is safe at any time (generators keep
 * what they use).
 */
export class Adapters extends NativeOwner<NativeAdapters> {
  /** `model`: a loaded Model (typed by what it owns, so that this module need not import the Model's). */
  constructor(model: NativeOwner<NativeModel>) {
    super(binding().Adapters.create(model.native));
  }

  /** Loads an adapter file (`.onnx_adapter`, ONNX Runtime's LoRA format) under `name`, off the JS thread. */
  async loadAdapter(file: string, name: string): Promise<void> {
    if (typeof name !== 'string' || name === '') throw new ValidationError('an adapter name must be a non-empty string');
    const resolved = path.resolve(file);
    try {
      await this.native.loadAdapter(resolved, name);
    } catch (err) {
      if (!(err instanceof GenAIError)) throw err;
      // ONNX Runtime names neither the file nor a missing one ("Invalid fd was supplied: -1").
      const reason = existsSync(resolved) ? err.message.trim() : 'no such file';
      throw new GenAIError(`cannot load adapter '${name}' from ${resolved}: ${reason}`, { cause: err });
    }
  }

  /** Frees a loaded adapter; throws a GenAIError while a live Generator has it active. */
  unloadAdapter(name: string): void {
    this.native.unloadAdapter(name);
  }
}
