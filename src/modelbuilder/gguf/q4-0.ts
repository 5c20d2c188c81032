import { BLOCK_SIZE } from '../int4.js';
import type { TensorSource } from '../onnx/tensor.js';
import type { GgufTensor } from './container.js';
import { toFloat16Bits } from './float16.js';

/** block_q4_0: a float16 scale, then 16 bytes holding 32 codes; value = (code - 8) · scale. */
const Q4_0_BYTES = 18;
const HALF = BLOCK_SIZE / 2;

/**
 * The same int4 weight as ggml Q4_0. MatMulNBits (symmetric, block 32 along K, implicit zero point 8) and Q4_0
 * quantize identically — code - 8 times a per-block scale, rows of N with K contiguous — and differ only in
 * layout: MatMulNBits packs elements 2j, 2j+1 into byte j (low nibble first) and keeps float32 scales apart;
 * Q4_0 packs elements j and j+16 into byte j and puts a float16 scale before each block. The codes are kept
 * exactly; only the scales round to float16.
 */
export function q4_0FromMatMulNBits(name: string, packed: TensorSource, scales: TensorSource, k: number, n: number): GgufTensor {
  return {
    name,
    dims: [k, n],
    type: 'Q4_0',
    *chunks() {
      // Both sources yield the same rows per chunk (int4.ts generates them in step), so they pair up.
      const scaleChunks = scales.chunks()[Symbol.iterator]();
      for (const codes of packed.chunks()) {
        const next = scaleChunks.next();
        if (next.done) throw new Error(`${name}: the scales end before the codes`);
        const s = new Float32Array(next.value.buffer, next.value.byteOffset, next.value.byteLength / 4);
        if (codes.byteLength !== s.length * HALF) throw new Error(`${name}: a chunk of ${codes.byteLength} code bytes has ${s.length} scales`);
        yield repack(codes, s);
      }
    },
  };
}

function repack(codes: Uint8Array, scales: Float32Array): Uint8Array {
  const out = new Uint8Array(scales.length * Q4_0_BYTES);
  const view = new DataView(out.buffer);
  const element = new Uint8Array(BLOCK_SIZE);
  for (let b = 0; b < scales.length; b++) {
    const from = b * HALF;
    for (let j = 0; j < HALF; j++) {
      const byte = codes[from + j];
      element[2 * j] = byte & 0x0f;
      element[2 * j + 1] = byte >> 4;
    }
    const to = b * Q4_0_BYTES;
    view.setUint16(to, toFloat16Bits(scales[b]), true);
    for (let j = 0; j < HALF; j++) out[to + 2 + j] = element[j] | (element[j + HALF] << 4);
  }
  return out;
}
