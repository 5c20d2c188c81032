import { dequantizeInt4 } from './int4.js';
import type { DecoderDims } from './graphs/decoder.js';
import type { LoadedModel } from './onnx/reader.js';

/**
 * A plain forward pass of the decoder graph (graphs/decoder.ts), written from the math rather than the
 * graph: int4 dequantization, RMSNorm, non-interleaved rotary from θ, causal grouped-query attention
 * and a SiLU-gated MLP. It reads the weights from the written ONNX file, so comparing its logits with
 * ORT-GenAI's checks that the graph computes what we meant. Single sequence, no cache; returns the
 * logits of every position, [tokens.length, vocab] row-major.
 */
export function referenceForward(model: LoadedModel, d: DecoderDims, tokens: readonly number[]): Float32Array {
  const S = tokens.length;
  const H = d.hiddenSize;
  const hs = H / d.numAttentionHeads;
  const qSize = d.numAttentionHeads * hs;
  const kvSize = d.numKeyValueHeads * hs;
  const I = d.intermediateSize;

  const linear = (prefix: string, x: Float32Array, k: number, n: number): Float32Array => {
    const packed = model.tensor(`${prefix}.MatMul.weight_Q4`).bytes;
    const w = dequantizeInt4(packed, model.floats(`${prefix}.MatMul.weight_scales`), k, n);
    return matmul(x, w, x.length / k, k, n);
  };
  const rmsNorm = (x: Float32Array, weight: string): Float32Array => {
    const gamma = model.floats(weight);
    const out = new Float32Array(x.length);
    for (let s = 0; s < x.length / H; s++) {
      let sq = 0;
      for (let i = 0; i < H; i++) sq += x[s * H + i] ** 2;
      const inv = 1 / Math.sqrt(sq / H + d.rmsNormEps);
      for (let i = 0; i < H; i++) out[s * H + i] = x[s * H + i] * inv * gamma[i];
    }
    return out;
  };

  const embedding = model.floats('model.embed_tokens.weight');
  let residual: Float32Array = new Float32Array(S * H);
  tokens.forEach((t, s) => residual.set(embedding.subarray(t * H, (t + 1) * H), s * H));
  let normed = rmsNorm(residual, 'model.layers.0.input_layernorm.weight');

  for (let l = 0; l < d.numHiddenLayers; l++) {
    const p = `model.layers.${l}`;
    const qkv = linear(`${p}.attn.qkv_proj`, normed, H, qSize + 2 * kvSize);
    const q = new Float32Array(S * qSize);
    const k = new Float32Array(S * kvSize);
    const v = new Float32Array(S * kvSize);
    for (let s = 0; s < S; s++) {
      const row = s * (qSize + 2 * kvSize);
      q.set(qkv.subarray(row, row + qSize), s * qSize);
      k.set(qkv.subarray(row + qSize, row + qSize + kvSize), s * kvSize);
      v.set(qkv.subarray(row + qSize + kvSize, row + qSize + 2 * kvSize), s * kvSize);
    }
    rotate(q, S, d.numAttentionHeads, hs, d.ropeTheta);
    rotate(k, S, d.numKeyValueHeads, hs, d.ropeTheta);
    const attn = attention(q, k, v, S, d.numAttentionHeads, d.numKeyValueHeads, hs);

    residual = add(linear(`${p}.attn.o_proj`, attn, qSize, H), residual);
    normed = rmsNorm(residual, `${p}.post_attention_layernorm.weight`);

    const gateUp = linear(`${p}.mlp.gate_up_proj`, normed, H, 2 * I);
    const act = new Float32Array(S * I);
    for (let s = 0; s < S; s++) {
      for (let i = 0; i < I; i++) {
        const gate = gateUp[s * 2 * I + i];
        act[s * I + i] = (gate / (1 + Math.exp(-gate))) * gateUp[s * 2 * I + I + i];
      }
    }
    residual = add(linear(`${p}.mlp.down_proj`, act, I, H), residual);
    normed = rmsNorm(residual, l + 1 < d.numHiddenLayers ? `model.layers.${l + 1}.input_layernorm.weight` : 'model.norm.weight');
  }
  return linear('lm_head', normed, H, d.vocabSize);
}

function matmul(x: Float32Array, w: Float32Array, rows: number, k: number, n: number): Float32Array {
  const out = new Float32Array(rows * n);
  const acc = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    acc.fill(0);
    for (let i = 0; i < k; i++) {
      const xi = x[r * k + i];
      const wRow = i * n;
      for (let j = 0; j < n; j++) acc[j] += xi * w[wRow + j];
    }
    out.set(acc, r * n);
  }
  return out;
}

function add(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((x, i) => x + b[i]);
}

/** Rotary embedding, halves layout: element i pairs with i + hs/2; position = token index. */
function rotate(x: Float32Array, S: number, heads: number, hs: number, theta: number): void {
  const half = hs / 2;
  for (let s = 0; s < S; s++) {
    for (let h = 0; h < heads; h++) {
      const base = (s * heads + h) * hs;
      for (let i = 0; i < half; i++) {
        const angle = s * theta ** (-(2 * i) / hs);
        const c = Math.cos(angle);
        const sn = Math.sin(angle);
        const a = x[base + i];
        const b = x[base + i + half];
        x[base + i] = a * c - b * sn;
        x[base + i + half] = b * c + a * sn;
      }
    }
  }
}

/** Causal attention; query head h reads key/value head floor(h / (heads / kvHeads)). */
function attention(q: Float32Array, k: Float32Array, v: Float32Array, S: number, heads: number, kvHeads: number, hs: number): Float32Array {
  const out = new Float32Array(S * heads * hs);
  const group = heads / kvHeads;
  const scale = 1 / Math.sqrt(hs);
  const scores = new Float64Array(S);
  for (let h = 0; h < heads; h++) {
    const kvh = Math.floor(h / group);
    for (let s = 0; s < S; s++) {
      let max = -Infinity;
      for (let t = 0; t <= s; t++) {
        let dot = 0;
        for (let i = 0; i < hs; i++) dot += q[(s * heads + h) * hs + i] * k[(t * kvHeads + kvh) * hs + i];
        scores[t] = dot * scale;
        max = Math.max(max, scores[t]);
      }
      let sum = 0;
      for (let t = 0; t <= s; t++) sum += scores[t] = Math.exp(scores[t] - max);
      for (let t = 0; t <= s; t++) {
        const w = scores[t] / sum;
        for (let i = 0; i < hs; i++) out[(s * heads + h) * hs + i] += w * v[(t * kvHeads + kvh) * hs + i];
      }
    }
  }
  return out;
}
