// The tiny-deterministic graph on its own, fed by hand through onnxruntime-node the way a generation
// loop feeds it: left padding, a growing KV cache carried between steps, explicit position ids.
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixtureModel } from '../helpers/fixtures.js';

let session: ort.InferenceSession;
let vocab: number;
beforeAll(async () => {
  session = await ort.InferenceSession.create(path.join(fixtureModel('tiny-deterministic'), 'model.onnx'));
  vocab = (session.outputMetadata.find((o) => o.name === 'logits') as { shape: (number | string)[] }).shape[2] as number;
});
afterAll(() => session.release());

const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);

function argmaxLast(logits: ort.Tensor): number[] {
  const [b, s, v] = logits.dims;
  const data = logits.data as Float32Array;
  return Array.from({ length: b }, (_, i) => {
    const row = data.subarray((i * s + s - 1) * v, (i * s + s) * v);
    return row.indexOf(Math.max(...row));
  });
}

it('follows the rule with left padding over several cached steps', async () => {
  const PAD = 0;
  let ids = [[PAD, PAD, 30, 31], [100, 7, 9, 11]];
  let mask = [[0, 0, 1, 1], [1, 1, 1, 1]];
  let positions = [[0, 0, 0, 1], [0, 1, 2, 3]];
  let pastKey = new ort.Tensor('float32', new Float32Array(0), [2, 1, 0, 1]);
  let pastValue = pastKey;
  const produced: number[][] = [[], []];
  for (let step = 0; step < 4; step++) {
    const out = await session.run({ input_ids: i64(ids), attention_mask: i64(mask), position_ids: i64(positions), 'past_key_values.0.key': pastKey, 'past_key_values.0.value': pastValue });
    const next = argmaxLast(out.logits);
    next.forEach((t, b) => produced[b].push(t));
    pastKey = out['present.0.key'];
    pastValue = out['present.0.value'];
    expect(pastKey.dims).toEqual([2, 1, mask[0].length, 1]); // the cache grows by the tokens just fed
    ids = next.map((t) => [t]);
    positions = positions.map((p) => [p.at(-1)! + 1]);
    mask = mask.map((m) => [...m, 1]);
  }
  expect(produced).toEqual([[32, 33, 34, 35], [104, 105, 106, 107]]);
  expect(vocab).toBeGreaterThan(107);
});

it('reads the first token from the cache, not from the current input', async () => {
  // A cache that says the sequence started with 5000 at position 0: the new token at position 1 follows it.
  const pastKey = new ort.Tensor('float32', Float32Array.of(0), [1, 1, 1, 1]);
  const pastValue = new ort.Tensor('float32', Float32Array.of(5000), [1, 1, 1, 1]);
  const out = await session.run({ input_ids: i64([[17]]), attention_mask: i64([[1, 1]]), position_ids: i64([[1]]), 'past_key_values.0.key': pastKey, 'past_key_values.0.value': pastValue });
  expect(argmaxLast(out.logits)).toEqual([5002]);
});
