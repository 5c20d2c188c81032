// When an Engine's queued requests reach ORT-GenAI (see native/engine.cc, Flush()).
import type { NativeEngine } from '../native.js';

const starting = new WeakSet<NativeEngine>();

/**
 * Starts the requests queued on an engine once the current turn of the event loop is over, so requests submitted
 * together (e.g. one Promise.all) reach the library together: its static batch is formed from what is queued at
 * its first step, and a request that started alone would make the others wait for its whole generation.
 */
export function startSoon(engine: NativeEngine): void {
  if (starting.has(engine)) return;
  starting.add(engine);
  setImmediate(() => {
    starting.delete(engine);
    if (!engine.disposed) engine.flush();
  });
}
