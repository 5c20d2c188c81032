import onnxProto from 'onnx-proto';
import { GraphBuilder } from '../onnx/graph.js';
import { tensorFrom } from '../onnx/tensor.js';
import { BITS, BLOCK_SIZE, randomInt4Weight } from '../int4.js';
import { randomFloatTensor } from '../weights.js';

const INT32 = onnxProto.onnx.TensorProto.DataType.INT32;
const MS = 'com.microsoft';

export interface DecoderDims {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  contextLength: number;
  ropeTheta: number;
  rmsNormEps: number;
  /** MatMulNBits accuracy_level: 0 computes in float32, 4 quantizes activations to int8 (faster). */
  accuracyLevel: number;
}

export const headSize = (d: DecoderDims) => d.hiddenSize / d.numAttentionHeads;

/**
 * A Phi-3 style decoder with the node structure the official ORT-GenAI builder emits for CPU int4:
 * Gather embedding → per layer [SimplifiedLayerNormalization | SkipSimplifiedLayerNormalization] →
 * packed qkv MatMulNBits → GroupQueryAttention (rotary inside, shared past/present buffer) → o_proj →
 * SkipSimplifiedLayerNormalization → packed gate_up MatMulNBits → SiLU(gate)·up → down → ... → final
 * SkipSimplifiedLayerNormalization → lm_head MatMulNBits. Weights are random int4 (symmetric, block 32)
 * from `seed`; norms and the embedding stay float32, as in the official CPU int4 models.
 */
export function decoderGraph(d: DecoderDims, seed: number): GraphBuilder {
  const hs = headSize(d);
  if (!Number.isInteger(hs) || hs % 2) throw new RangeError(`head size ${hs} must be an even integer`);
  const g = new GraphBuilder();
  const inputIds = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const kvShape = (len: string) => ['batch_size', d.numKeyValueHeads, len, hs];
  for (let i = 0; i < d.numHiddenLayers; i++) {
    g.input(`past_key_values.${i}.key`, 'float32', kvShape('past_sequence_length'));
    g.input(`past_key_values.${i}.value`, 'float32', kvShape('past_sequence_length'));
  }
  g.output('logits', 'float32', ['batch_size', 'sequence_length', d.vocabSize]);
  for (let i = 0; i < d.numHiddenLayers; i++) {
    g.output(`present.${i}.key`, 'float32', kvShape('total_sequence_length'));
    g.output(`present.${i}.value`, 'float32', kvShape('total_sequence_length'));
  }

  // GroupQueryAttention wants per-sequence "last index" lengths and the total length, both int32.
  const m = '/model/attn_mask_reformat/attn_mask_subgraph';
  const maskSum = g.op('ReduceSum', `${m}/ReduceSum`, [mask, g.int64([1])], { keepdims: 0 });
  const seqlensK = g.op('Cast', `${m}/Sub/Cast`, [g.op('Sub', `${m}/Sub`, [maskSum, g.int64([1])])], { to: INT32 });
  const totalLen = g.op('Cast', `${m}/Gather/Cast`, [
    g.op('Gather', `${m}/Gather`, [g.op('Shape', `${m}/Shape`, [mask]), g.int64(1)], { axis: 0 }),
  ], { to: INT32 });
  const [cos, sin] = rotaryCaches(g, d.contextLength, hs, d.ropeTheta);

  const embeds = g.op('Gather', '/model/embed_tokens/Gather', [
    g.initializer(randomFloatTensor('model.embed_tokens.weight', [d.vocabSize, d.hiddenSize], seed, 1)),
    inputIds,
  ]);

  const norm = (name: string, weight: string, input: string, skip?: string, last = false): { out: string; residual: string } => {
    const gamma = g.initializer(randomFloatTensor(weight, [d.hiddenSize], seed, 0.1, 1));
    const epsilon = { float: d.rmsNormEps };
    if (!skip) {
      const out = g.op('SimplifiedLayerNormalization', `${name}/SimplifiedLayerNorm`, [input, gamma], { axis: -1, epsilon, stash_type: 1 });
      return { out, residual: input };
    }
    // Outputs: normed, mean, inv_std_var, input+skip (the residual the next block adds to).
    const [out, , , residual] = g.node('SkipSimplifiedLayerNormalization', `${name}/SkipLayerNorm`, [input, skip, gamma], { epsilon }, { outputs: last ? 1 : 4, domain: MS });
    return { out, residual };
  };
  const matmul = (name: string, input: string, k: number, n: number, std: number, output?: string): string => {
    const w = randomInt4Weight(`${name.slice(1).replaceAll('/', '.')}.MatMul`, k, n, std, seed);
    const attrs = { K: k, N: n, bits: BITS, block_size: BLOCK_SIZE, accuracy_level: d.accuracyLevel };
    const inputs = [input, g.initializer(w.packed), g.initializer(w.scales)];
    return g.node('MatMulNBits', `${name}/MatMul`, inputs, attrs, { domain: MS, outputs: output ? [output] : 1 })[0];
  };

  let x = norm('/model/layers.0/input_layernorm', 'model.layers.0.input_layernorm.weight', embeds);
  const qkvSize = (d.numAttentionHeads + 2 * d.numKeyValueHeads) * hs;
  for (let i = 0; i < d.numHiddenLayers; i++) {
    const l = `/model/layers.${i}`;
    const qkv = matmul(`${l}/attn/qkv_proj`, x.out, d.hiddenSize, qkvSize, 1 / Math.sqrt(d.hiddenSize));
    const [attn] = g.node('GroupQueryAttention', `${l}/attn/GroupQueryAttention`,
      [qkv, '', '', `past_key_values.${i}.key`, `past_key_values.${i}.value`, seqlensK, totalLen, cos, sin],
      {
        num_heads: d.numAttentionHeads, kv_num_heads: d.numKeyValueHeads, scale: { float: 1 / Math.sqrt(hs) },
        do_rotary: 1, rotary_interleaved: 0, local_window_size: -1,
      },
      { outputs: [`${l}/attn/GroupQueryAttention/output_0`, `present.${i}.key`, `present.${i}.value`], domain: MS });
    const o = matmul(`${l}/attn/o_proj`, attn, d.numAttentionHeads * hs, d.hiddenSize, 1 / Math.sqrt(d.hiddenSize));
    const post = norm(`${l}/post_attention_layernorm`, `model.layers.${i}.post_attention_layernorm.weight`, o, x.residual);

    const gateUp = matmul(`${l}/mlp/gate_up_proj`, post.out, d.hiddenSize, 2 * d.intermediateSize, 1 / Math.sqrt(d.hiddenSize));
    const gate = g.op('Slice', `${l}/mlp/gate/Slice`, [gateUp, g.int64([0]), g.int64([d.intermediateSize]), g.int64([-1])]);
    const up = g.op('Slice', `${l}/mlp/up/Slice`, [gateUp, g.int64([d.intermediateSize]), g.int64([2 * d.intermediateSize]), g.int64([-1])]);
    const silu = g.op('Mul', `${l}/mlp/act_fn/Mul`, [gate, g.op('Sigmoid', `${l}/mlp/act_fn/Sigmoid`, [gate])]);
    const down = matmul(`${l}/mlp/down_proj`, g.op('Mul', `${l}/mlp/Mul`, [silu, up]), d.intermediateSize, d.hiddenSize, 1 / Math.sqrt(d.intermediateSize));

    x = i + 1 < d.numHiddenLayers
      ? norm(`/model/layers.${i + 1}/input_layernorm`, `model.layers.${i + 1}.input_layernorm.weight`, down, post.residual)
      : norm('/model/layers.final_norm_layernorm', 'model.norm.weight', down, post.residual, true);
  }
  matmul('/lm_head', x.out, d.hiddenSize, d.vocabSize, 1 / Math.sqrt(d.hiddenSize), 'logits');
  return g;
}

/** cos/sin caches [contextLength, headSize/2] for non-interleaved rotary embeddings. */
function rotaryCaches(g: GraphBuilder, contextLength: number, hs: number, theta: number): [string, string] {
  const half = hs / 2;
  const cos = new Float32Array(contextLength * half);
  const sin = new Float32Array(contextLength * half);
  for (let p = 0; p < contextLength; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * theta ** (-(2 * i) / hs);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return [
    g.initializer(tensorFrom('cos_cache', 'float32', [contextLength, half], cos)),
    g.initializer(tensorFrom('sin_cache', 'float32', [contextLength, half], sin)),
  ];
}
