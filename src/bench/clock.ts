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

/** Several generations at once: the slowest first token, total time, tokens per stream. */
export function combineConcurrent(start: number, timings: RunTiming[]): RunTiming {
  const e2eMs = performance.now() - start;
  const ttftMs = Math.max(...timings.map((t) => t.ttftMs));
  return {
    ttftMs,
    decodeMs: e2eMs - ttftMs,
    e2eMs,
    newTokens: Math.round(timings.reduce((s, t) => s + t.newTokens, 0) / timings.length),
    streams: timings.reduce((s, t) => s + t.streams, 0),
    promptTokens: timings[0].promptTokens,
  };
}
