import type { RunTiming } from './protocol.js';

/**
 * Times one generation the same way in every JS runner (the C++ loop mirrors it): start when the request
 * starts, first token when the first new token is in hand, end at the last one.
 */
export class GenerationClock {
  private readonly start = performance.now();
  private first = 0;
  private newTokens = 0;

  /** Call once per decoding step, after its token(s) are available. */
  step(): void {
    if (this.newTokens++ === 0) this.first = performance.now();
  }

  /** `newTokens` overrides the step count when a step is not one token (e.g. a streamed text chunk). */
  finish(promptTokens: number, streams: number, newTokens = this.newTokens): RunTiming {
    if (this.newTokens === 0) throw new Error('the generation produced no token (or, for text streams, no text)');
    const end = performance.now();
    return {
      ttftMs: this.first - this.start,
      decodeMs: end - this.first,
      e2eMs: end - this.start,
      newTokens,
      streams,
      promptTokens,
    };
  }
}
