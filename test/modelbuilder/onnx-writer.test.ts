// The streaming external-data writer, on a tiny config (the large presets are too big for tests):
// weights land byte-identical in model.onnx.data, aligned, and ONNX Runtime computes the same logits
// from it as from the inline fixture. Runs the raw graph with onnxruntime-node, no ORT-GenAI.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS, buildTokenizer, planModel } from '../../src/modelbuilder/index.js';
import { decoderGraph } from '../../src/modelbuilder/graphs/decoder.js';
import { readOnnxModel } from '../../src/modelbuilder/onnx/reader.js';
import { elementCount } from '../../src/modelbuilder/onnx/tensor.js';
import { writeOnnxModel } from '../../src/modelbuilder/onnx/writer.js';
import { FIXTURE_SEED, fixtureModel } from '../helpers/fixtures.js';

const preset = PRESETS['tiny-random'];
if (preset.kind !== 'decoder') throw new Error('tiny-random is a decoder preset');
const vocabSize = buildTokenizer().vocabSize;
const dims = { ...preset.dims, vocabSize };

let dir: string;
const progress: { bytesWritten: number; totalBytes: number }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ortgenai-writer-'));
  await writeOnnxModel(decoderGraph(dims, FIXTURE_SEED), dir, { externalData: true, onProgress: (p) => progress.push(p) });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function lastLogits(modelFile: string, tokens: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelFile);
  const hs = dims.hiddenSize / dims.numAttentionHeads;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [1, tokens.length]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(tokens.length).fill(1n), [1, tokens.length]),
  };
  for (let i = 0; i < dims.numHiddenLayers; i++) {
    for (const kv of ['key', 'value']) {
      feeds[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, dims.numKeyValueHeads, 0, hs]);
    }
  }
  const { logits } = await session.run(feeds);
  await session.release();
  return (logits.data as Float32Array).slice((tokens.length - 1) * vocabSize);
}

describe('external data writer', () => {
  it('keeps the protobuf small and puts the weights, aligned, in model.onnx.data', async () => {
    const model = await stat(path.join(dir, 'model.onnx'));
    const data = await stat(path.join(dir, 'model.onnx.data'));
    expect(model.size).toBeLessThan(64 * 1024);
    expect(data.size).toBeGreaterThan(10e6);

    const external = await readOnnxModel(path.join(dir, 'model.onnx'));
    const inline = await readOnnxModel(path.join(fixtureModel('tiny-random'), 'model.onnx'));
    const inits = external.proto.graph!.initializer!;
    let externalCount = 0;
    for (const t of inits) {
      // Buffer.equals: vitest's element-wise toEqual takes minutes on megabyte arrays.
      expect(Buffer.from(external.tensor(t.name!).bytes).equals(inline.tensor(t.name!).bytes), t.name!).toBe(true);
      if (t.dataLocation === 1) {
        externalCount++;
        const offset = Number(t.externalData!.find((e) => e.key === 'offset')!.value);
        expect(offset % 64).toBe(0);
      }
    }
    expect(externalCount).toBeGreaterThan(10);
  });

  it('reports monotonic progress that ends at the total', () => {
    const total = progress[0].totalBytes;
    expect(progress.at(-1)).toEqual({ bytesWritten: total, totalBytes: total });
    for (let i = 1; i < progress.length; i++) expect(progress[i].bytesWritten).toBeGreaterThanOrEqual(progress[i - 1].bytesWritten);
  });

  it('gives ONNX Runtime the same logits as the inline model', async () => {
    const tokens = [464, 2068, 7586, 21831];
    const fromExternal = await lastLogits(path.join(dir, 'model.onnx'), tokens);
    const fromInline = await lastLogits(path.join(fixtureModel('tiny-random'), 'model.onnx'), tokens);
    expect(fromExternal.length).toBe(vocabSize);
    expect(Buffer.from(fromExternal.buffer).equals(Buffer.from(fromInline.buffer))).toBe(true);
  });
});

describe('large presets', () => {
  it('plan phi3-mini at Phi-3-mini-4k size without generating its weights', () => {
    const { graph, plan } = planModel('phi3-mini', FIXTURE_SEED);
    expect(plan.spec).toMatchObject({ numHiddenLayers: 32, hiddenSize: 3072, numAttentionHeads: 32, numKeyValueHeads: 32, headSize: 96, contextLength: 4096 });
    expect(plan.spec.vocabSize).toBe(32064);
    for (const name of ['model.embed_tokens.weight', 'lm_head.MatMul.weight_Q4']) {
      expect(graph.initializers.find((t) => t.name === name)?.dims[0], name).toBe(32064);
    }
    expect(plan.externalData).toBe(true);
    // Phi-3-mini-4k's 3.82B: embeddings and an untied lm_head of 32064 rows, 32 × (qkv, o, gate_up, down, 2 norms), final norm.
    const layer = 3072 * 9216 + 3072 * 3072 + 3072 * 16384 + 8192 * 3072 + 2 * 3072;
    expect(plan.parameterCount).toBe(2 * 32064 * 3072 + 32 * layer + 3072);
    expect(plan.weightBytes).toBeGreaterThan(2.5e9);
    // Bounded memory: the biggest tensor comes out in chunks of at most a megabyte.
    const biggest = graph.initializers.reduce((a, b) => (elementCount(a.dims) > elementCount(b.dims) ? a : b));
    const first = biggest.chunks()[Symbol.iterator]().next().value!;
    expect(first.byteLength).toBeLessThanOrEqual(1 << 20);
  });

  it('plan small at about 30M parameters', () => {
    const { plan } = planModel('small', FIXTURE_SEED);
    expect(plan.parameterCount).toBeGreaterThan(25e6);
    expect(plan.parameterCount).toBeLessThan(40e6);
  });
});

it('the fixture tokenizer files are the ones written next to the model', async () => {
  const written = await readFile(path.join(fixtureModel('tiny-random'), 'tokenizer.json'), 'utf8');
  expect(written).toBe(buildTokenizer().files['tokenizer.json']);
});
