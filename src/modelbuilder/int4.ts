import { Rng } from './rng.js';
import type { TensorSource } from './onnx/tensor.js';

/** MatMulNBits layout used by the official builder for CPU int4: 4 bits, blocks of 32 along K. */
export const BITS = 4;
export const BLOCK_SIZE = 32;
const BLOB_BYTES = (BLOCK_SIZE * BITS) / 8;
/** Symmetric quantization: no zero_points input, so MatMulNBits uses the implicit zero point 8. */
const ZERO_POINT = 8;
/**
 * Random codes are uniform nibbles with code 0 (value -8) replaced by 8 (value 0), so values are -7..7
 * with mean exactly 0. Uniform 0..15 would have mean -0.5: summed over wide MatMuls that bias becomes
 * one shared direction that swamps the input, and deep presets then emit the same token for any prompt.
 */
const CENTER = Uint8Array.from({ length: 256 }, (_, b) => {
  const lo = b & 0x0f || ZERO_POINT;
  const hi = b >> 4 || ZERO_POINT;
  return (hi << 4) | lo;
});
/** Standard deviation of (code - zero point) for those codes: sqrt(2 * (1² + ... + 7²) / 16). */
const CODE_STD = Math.sqrt(17.5);
/** Rows of N generated per chunk: keeps chunks around a megabyte for any K. */
const CHUNK_BYTES = 1 << 20;

export interface Int4Weight {
  /** `<prefix>.weight_Q4`: uint8 [N, K/32, 16], two codes per byte, low nibble first. */
  packed: TensorSource;
  /** `<prefix>.weight_scales`: float32 [N * K/32]. */
  scales: TensorSource;
  k: number;
  n: number;
}

/**
 * A random int4 weight of logical shape [K, N] (y = x·W), generated directly in quantized form: the
 * codes are centred random nibbles and each block gets a scale near `std / CODE_STD`, so the
 * dequantized weight has roughly standard deviation `std`.
 */
export function randomInt4Weight(prefix: string, k: number, n: number, std: number, seed: number): Int4Weight {
  if (k % BLOCK_SIZE !== 0) throw new RangeError(`${prefix}: K=${k} is not a multiple of ${BLOCK_SIZE}`);
  const blocks = k / BLOCK_SIZE;
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / (blocks * BLOB_BYTES)));
  const packedName = `${prefix}.weight_Q4`;
  const scalesName = `${prefix}.weight_scales`;
  const base = std / CODE_STD;
  return {
    k,
    n,
    packed: {
      name: packedName,
      dataType: 'uint8',
      dims: [n, blocks, BLOB_BYTES],
      *chunks() {
        const rng = new Rng(seed, packedName);
        for (let row = 0; row < n; row += rowsPerChunk) {
          const bytes = rng.fillBytes(new Uint8Array(Math.min(rowsPerChunk, n - row) * blocks * BLOB_BYTES));
          for (let i = 0; i < bytes.length; i++) bytes[i] = CENTER[bytes[i]];
          yield bytes;
        }
      },
    },
    scales: {
      name: scalesName,
      dataType: 'float32',
      dims: [n * blocks],
      *chunks() {
        const rng = new Rng(seed, scalesName);
        for (let row = 0; row < n; row += rowsPerChunk) {
          const out = new Float32Array(Math.min(rowsPerChunk, n - row) * blocks);
          for (let i = 0; i < out.length; i++) out[i] = base * (0.5 + rng.next());
          yield new Uint8Array(out.buffer);
        }
      },
    },
  };
}

/** Dequantizes MatMulNBits data back to a row-major [K, N] float matrix (for the reference pass). */
export function dequantizeInt4(packed: Uint8Array, scales: Float32Array, k: number, n: number): Float32Array {
  const blocks = k / BLOCK_SIZE;
  const w = new Float32Array(k * n);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < blocks; b++) {
      const scale = scales[col * blocks + b];
      const blob = (col * blocks + b) * BLOB_BYTES;
      for (let i = 0; i < BLOCK_SIZE; i++) {
        const byte = packed[blob + (i >> 1)];
        const code = i & 1 ? byte >> 4 : byte & 0x0f;
        w[(b * BLOCK_SIZE + i) * n + col] = (code - ZERO_POINT) * scale;
      }
    }
  }
  return w;
}
