import { type DecoderDims, headSize } from '../graphs/decoder.js';
import type { GraphBuilder } from '../onnx/graph.js';
import type { TensorSource } from '../onnx/tensor.js';
import type { BuiltTokenizer } from '../tokenizer/index.js';
import type { GgufContent, GgufTensor } from './container.js';
import { q4_0FromMatMulNBits } from './q4-0.js';
import { tokenizerMetadata } from './tokenizer-metadata.js';

/**
 * Never "phi3" or "phi-3": llama.cpp gives models whose general.name contains either Phi-3's own token attributes
 * (right-stripping every special token, so text after one tokenizes differently from our tokenizer) and looks up
 * Phi-3's `</s>`, `<s>` and `<unk>`, which our GPT-2 vocabulary lacks: loading then fails with `_Map_base::at`.
 */
const MODEL_NAME = 'ortgenai-node generated model';
/** llama_ftype LLAMA_FTYPE_MOSTLY_Q4_0, and ggml's GGML_QNT_VERSION. */
const FILE_TYPE_Q4_0 = 2;
const QUANTIZATION_VERSION = 2;

/**
 * The decoder graph's model as llama.cpp's `phi3` architecture: the same tensors under llama.cpp's names (fused
 * attn_qkv in Q, K, V order; fused ffn_up as gate then up, which llama.cpp's SwiGLU splits the same way), the int4
 * MatMuls as Q4_0 with the same codes, embedding and norms float32 as in the ONNX model, and the hyperparameters
 * under `phi3.*`. Rotary is NEOX-style (halves), as GroupQueryAttention's non-interleaved rotary.
 */
export function phi3Gguf(graph: GraphBuilder, dims: DecoderDims, tokenizer: BuiltTokenizer, description: string): GgufContent {
  const byName = new Map(graph.initializers.map((t) => [t.name, t]));
  const source = (n: string): TensorSource => {
    const t = byName.get(n);
    if (!t) throw new Error(`the decoder graph has no initializer ${n}`);
    return t;
  };
  const f32 = (ggufName: string, onnxName: string): GgufTensor => {
    const t = source(onnxName);
    return { name: ggufName, dims: [...t.dims].reverse(), type: 'F32', chunks: () => t.chunks() };
  };
  const q4 = (ggufName: string, prefix: string, k: number, n: number): GgufTensor =>
    q4_0FromMatMulNBits(ggufName, source(`${prefix}.MatMul.weight_Q4`), source(`${prefix}.MatMul.weight_scales`), k, n);

  const hs = headSize(dims);
  const h = dims.hiddenSize;
  const qkv = (dims.numAttentionHeads + 2 * dims.numKeyValueHeads) * hs;
  const tensors: GgufTensor[] = [f32('token_embd.weight', 'model.embed_tokens.weight')];
  for (let i = 0; i < dims.numHiddenLayers; i++) {
    const l = `model.layers.${i}`;
    tensors.push(
      f32(`blk.${i}.attn_norm.weight`, `${l}.input_layernorm.weight`),
      q4(`blk.${i}.attn_qkv.weight`, `${l}.attn.qkv_proj`, h, qkv),
      q4(`blk.${i}.attn_output.weight`, `${l}.attn.o_proj`, dims.numAttentionHeads * hs, h),
      f32(`blk.${i}.ffn_norm.weight`, `${l}.post_attention_layernorm.weight`),
      q4(`blk.${i}.ffn_up.weight`, `${l}.mlp.gate_up_proj`, h, 2 * dims.intermediateSize),
      q4(`blk.${i}.ffn_down.weight`, `${l}.mlp.down_proj`, dims.intermediateSize, h),
    );
  }
  tensors.push(f32('output_norm.weight', 'model.norm.weight'), q4('output.weight', 'lm_head', h, dims.vocabSize));

  const u32 = (value: number) => ({ type: 'uint32', value }) as const;
  return {
    metadata: {
      'general.architecture': { type: 'string', value: 'phi3' },
      'general.name': { type: 'string', value: MODEL_NAME },
      'general.description': { type: 'string', value: description },
      'general.file_type': u32(FILE_TYPE_Q4_0),
      'general.quantization_version': u32(QUANTIZATION_VERSION),
      'phi3.context_length': u32(dims.contextLength),
      'phi3.embedding_length': u32(h),
      'phi3.feed_forward_length': u32(dims.intermediateSize),
      'phi3.block_count': u32(dims.numHiddenLayers),
      'phi3.attention.head_count': u32(dims.numAttentionHeads),
      'phi3.attention.head_count_kv': u32(dims.numKeyValueHeads),
      'phi3.attention.layer_norm_rms_epsilon': { type: 'float32', value: dims.rmsNormEps },
      'phi3.rope.dimension_count': u32(hs),
      'phi3.rope.freq_base': { type: 'float32', value: dims.ropeTheta },
      ...tokenizerMetadata(tokenizer),
    },
    tensors,
  };
}
