import type { NativeDisposable } from '../native.js';

/**
 * The public side of one native handle. `dispose()` frees it now (the garbage collector would, later and at
 * a time nobody picks), `using` does it at the end of a scope, and `disposed` tells whether it happened;
 * after that every call throws DisposedError from the native side, so no subclass checks it again.
 */
export abstract class NativeOwner<N extends NativeDisposable> {
  /** @internal */
  readonly native: N;

  protected constructor(native: N) {
    this.native = native;
  }

  /** True once `dispose()` ran (or the owner that holds this handle freed it). */
  get disposed(): boolean {
    return this.native.disposed;
  }

  /** Frees the native object now. Safe to call more than once. */
  dispose(): void {
    this.native.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
