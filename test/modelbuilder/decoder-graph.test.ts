// tiny-random has the node structure the official ORT-GenAI builder emits for Phi-3 on CPU (int4).
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { type LoadedModel, readOnnxModel } from '../../src/modelbuilder/onnx/reader.js';
import { fixtureModel } from '../helpers/fixtures.js';

let model: LoadedModel;
let nodes: onnxProto.onnx.INodeProto[];
const attr = (n: onnxProto.onnx.INodeProto, name: string) => {
  const a = n.attribute!.find((x) => x.name === name)!;
  return a.type === onnxProto.onnx.AttributeProto.AttributeType.FLOAT ? a.f : Number(a.i);
};

beforeAll(async () => {
  model = await readOnnxModel(path.join(fixtureModel('tiny-random'), 'model.onnx'));
  nodes = model.proto.graph!.node!;
});

it('imports opset 21 and com.microsoft 1', () => {
  expect(model.proto.opsetImport!.map((o) => [o.domain, Number(o.version)])).toEqual([['', 21], ['com.microsoft', 1]]);
  expect(Number(model.proto.irVersion)).toBe(10);
});

it('uses the official builder ops per layer', () => {
  const count = (op: string) => nodes.filter((n) => n.opType === op).length;
  const layers = 2;
  expect(count('GroupQueryAttention')).toBe(layers);
  expect(count('MatMulNBits')).toBe(4 * layers + 1); // qkv, o, gate_up, down per layer + lm_head
  expect(count('SimplifiedLayerNormalization')).toBe(1);
  expect(count('SkipSimplifiedLayerNormalization')).toBe(2 * layers);
  expect(nodes.find((n) => n.opType === 'Gather' && n.name === '/model/embed_tokens/Gather')).toBeDefined();
});

it('quantizes every MatMul to int4 with blocks of 32', () => {
  for (const n of nodes.filter((x) => x.opType === 'MatMulNBits')) {
    expect(n.domain).toBe('com.microsoft');
    expect(attr(n, 'bits')).toBe(4);
    expect(attr(n, 'block_size')).toBe(32);
    const [, packed, scales] = n.input!;
    const K = attr(n, 'K');
    const N = attr(n, 'N');
    expect(model.tensor(packed).dims).toEqual([N, K / 32, 16]);
    expect(model.tensor(scales).dims).toEqual([(N * K) / 32]);
  }
});

it('runs rotary inside GroupQueryAttention with the past/present KV of each layer', () => {
  for (const [i, n] of nodes.filter((x) => x.opType === 'GroupQueryAttention').entries()) {
    expect(attr(n, 'do_rotary')).toBe(1);
    expect(attr(n, 'num_heads')).toBe(4);
    expect(attr(n, 'kv_num_heads')).toBe(2);
    expect(n.input!.slice(3, 5)).toEqual([`past_key_values.${i}.key`, `past_key_values.${i}.value`]);
    expect(n.input!.slice(7)).toEqual(['cos_cache', 'sin_cache']);
    expect(n.output!.slice(1)).toEqual([`present.${i}.key`, `present.${i}.value`]);
  }
  expect(model.tensor('cos_cache').dims).toEqual([512, 8]);
});
