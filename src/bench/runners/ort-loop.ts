// The JS peer written by hand: a greedy KV-cache loop straight on onnxruntime-node, what a Node user
// would write without a GenAI library. It reads input/output names from genai_config.json, so it runs
// the exact graph ORT-GenAI runs (growing caches instead of ORT-GenAI's shared max_length buffer).
import ort from 'onnxruntime-node';
import { GenerationClock } from '../clock.js';
import { argmaxRows } from '../greedy.js';
import type { ModelInfo } from '../model-info.js';
import type { ConcurrencyMode, RunnerSpec } from '../protocol.js';
import { unsupported, type LoadRunner } from '../runner.js';

interface CachePair {
  past: string;
  present: string;
}

function cachePairs(info: ModelInfo): CachePair[] {
  const i = info.inputNames;
  const o = info.outputNames;
  const layers = Array.from({ length: info.numHiddenLayers }, (_, n) => n);
  const fill = (pattern: string, n: number) => pattern.replace('%d', String(n));
  if (i.past_names) return layers.map((n) => ({ past: fill(i.past_names, n), present: fill(o.present_names ?? 'present_%d', n) }));
  return layers.flatMap((n) => [
    { past: fill(i.past_key_names ?? 'past_key_values.%d.key', n), present: fill(o.present_key_names ?? 'present.%d.key', n) },
    { past: fill(i.past_value_names ?? 'past_key_values.%d.value', n), present: fill(o.present_value_names ?? 'present.%d.value', n) },
  ]);
}

type IntType = 'int32' | 'int64';

function intTensor(type: IntType, values: number[], dims: number[]): ort.Tensor {
  return type === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims)
    : new ort.Tensor('int32', Int32Array.from(values), dims);
}

export const load: LoadRunner = async (spec: RunnerSpec, info: ModelInfo) => {
  const session = await ort.InferenceSession.create(info.onnxFile, {
    intraOpNumThreads: spec.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const meta = new Map(session.inputMetadata.map((m) => [m.name, m]));
  const names = {
    inputIds: info.inputNames.input_ids ?? 'input_ids',
    mask: info.inputNames.attention_mask ?? 'attention_mask',
    positions: info.inputNames.position_ids ?? 'position_ids',
    logits: info.outputNames.logits ?? 'logits',
  };
  const typeOf = (name: string): IntType => {
    const m = meta.get(name);
    return m?.isTensor && m.type === 'int32' ? 'int32' : 'int64';
  };
  const pairs = cachePairs(info);
  const emptyPast = (name: string, batch: number): ort.Tensor => {
    const m = meta.get(name);
    if (!m?.isTensor) throw new Error(`the graph has no tensor input named ${name}`);
    // Symbolic dims: the batch one gets the batch size, the sequence one starts empty.
    const dims = m.shape.map((d) => (typeof d === 'number' ? d : /batch/i.test(d) ? batch : 0));
    if (m.type !== 'float32' && m.type !== 'float16') throw new Error(`unsupported KV cache type ${m.type}`);
    return new ort.Tensor(m.type, m.type === 'float32' ? new Float32Array(0) : new Uint16Array(0), dims);
  };
  const promptLength = spec.promptIds.length;

  async function generateBatch(batch: number) {
    const clock = new GenerationClock();
    const rows: number[][] = Array.from({ length: batch }, () => []);
    const feeds: Record<string, ort.Tensor> = {};
    for (const p of pairs) feeds[p.past] = emptyPast(p.past, batch);
    let step = Array.from({ length: batch }, () => spec.promptIds).flat();
    let stepLength = promptLength;
    let total = 0;
    for (let produced = 0; produced < spec.genTokens; produced++) {
      feeds[names.inputIds] = intTensor(typeOf(names.inputIds), step, [batch, stepLength]);
      total += stepLength;
      feeds[names.mask] = intTensor(typeOf(names.mask), new Array(batch * total).fill(1), [batch, total]);
      if (meta.has(names.positions)) {
        const positions = Array.from({ length: stepLength }, (_, k) => total - stepLength + k);
        feeds[names.positions] = intTensor(typeOf(names.positions), Array(batch).fill(positions).flat(), [batch, stepLength]);
      }
      const out = await session.run(feeds);
      const logits = out[names.logits];
      if (logits.type !== 'float32') throw new Error(`logits are ${logits.type}; this loop reads float32 logits`);
      const next = argmaxRows(logits.data as Float32Array, batch, logits.dims, info.eosTokenIds);
      clock.step();
      next.forEach((t, b) => rows[b].push(t));
      for (const p of pairs) feeds[p.past] = out[p.present];
      step = next;
      stepLength = 1;
    }
    return { timing: clock.finish(promptLength, batch), tokens: rows[0] };
  }

  // Single streams only: the JS peers are compared with one stream (bench/run.ts lists no concurrency modes for them).
  function generate(mode: ConcurrencyMode) {
    if (mode === 'sequential') return generateBatch(spec.batch);
    return unsupported('ort-loop', mode);
  }

  return { generate, dispose: () => session.release() };
};
