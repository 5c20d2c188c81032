/**
 * Stop strings over streamed text. Text that might be the beginning of a stop string is held back until the next
 * chunk decides it, so a stream never emits part of a stop string.
 */
export class StopMatcher {
  private pending = '';

  constructor(private readonly stops: readonly string[]) {}

  /** Adds a chunk; returns the text safe to emit and whether a stop string was completed (text before it only). */
  push(chunk: string): { emit: string; hit: boolean } {
    if (this.stops.length === 0) return { emit: chunk, hit: false };
    this.pending += chunk;
    let first = -1;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at !== -1 && (first === -1 || at < first)) first = at;
    }
    if (first !== -1) {
      const emit = this.pending.slice(0, first);
      this.pending = '';
      return { emit, hit: true };
    }
    const keep = this.heldBack();
    const emit = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    return { emit, hit: false };
  }

  /** The generation ended without a stop string: whatever was held back is plain text. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  /** Length of the longest suffix of `pending` that is a proper prefix of some stop string. */
  private heldBack(): number {
    let keep = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, this.pending.length); n > keep; n--) {
        if (this.pending.endsWith(stop.slice(0, n))) {
          keep = n;
          break;
        }
      }
    }
    return keep;
  }
}
