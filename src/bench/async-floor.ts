// What one `await` on work done by another thread costs on this machine with none of our code involved: a
// worker_thread spins waiting for a request (as the addon's executor workers do after a job), busy-works for as
// long as the C++ loop's step takes, and answers by postMessage. The time per round trip beyond the work is the
// platform's: mostly waking the JS thread, idle meanwhile, on this VM. Any API that awaits once per token pays a
// cost of this kind, so it is the yardstick for the stepwise API's overhead.
import { Worker } from 'node:worker_threads';
import { median } from './stats.js';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { flag, workUs } = workerData;
let seen = 0;
for (;;) {
  while (Atomics.load(flag, 0) === seen) {}
  seen = Atomics.load(flag, 0);
  if (seen < 0) break;
  const t0 = performance.now();
  while ((performance.now() - t0) * 1000 < workUs) {}
  parentPort.postMessage(seen);
}
`;

/** Median over `rounds` of the per-step time beyond `workUs`, in µs, for `steps` awaited round trips each. */
export async function measureAsyncFloor(workUs: number, steps: number, rounds: number): Promise<number> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER, { eval: true, workerData: { flag, workUs } });
  let answered: () => void = () => {};
  worker.on('message', () => answered());
  const perRound: number[] = [];
  try {
    let request = 0;
    for (let r = 0; r < rounds + 1; r++) {
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) {
        const reply = new Promise<void>((resolve) => (answered = resolve));
        Atomics.store(flag, 0, ++request);
        await reply;
      }
      if (r > 0) perRound.push(((performance.now() - t0) * 1000) / steps - workUs); // round 0 warms up
    }
  } finally {
    Atomics.store(flag, 0, -1);
    await worker.terminate();
  }
  return median(perRound);
}
