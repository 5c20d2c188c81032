import { Rng } from './rng.js';
import { type TensorSource, elementCount } from './onnx/tensor.js';

const CHUNK_FLOATS = 1 << 18;

/** A float32 tensor of uniform random values around `mean`, generated in ~1 MB chunks. */
export function randomFloatTensor(name: string, dims: number[], seed: number, std: number, mean = 0): TensorSource {
  const total = elementCount(dims);
  return {
    name,
    dataType: 'float32',
    dims,
    *chunks() {
      const rng = new Rng(seed, name);
      for (let i = 0; i < total; i += CHUNK_FLOATS) {
        const out = rng.fillUniform(new Float32Array(Math.min(CHUNK_FLOATS, total - i)), std);
        if (mean) for (let j = 0; j < out.length; j++) out[j] += mean;
        yield new Uint8Array(out.buffer);
      }
    },
  };
}
