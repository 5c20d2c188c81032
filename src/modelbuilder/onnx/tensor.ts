import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** The element types our graphs use, with their ONNX enum and byte width. */
export const DataTypes = {
  float32: { onnx: onnx.TensorProto.DataType.FLOAT, bytes: 4 },
  uint8: { onnx: onnx.TensorProto.DataType.UINT8, bytes: 1 },
  int32: { onnx: onnx.TensorProto.DataType.INT32, bytes: 4 },
  int64: { onnx: onnx.TensorProto.DataType.INT64, bytes: 8 },
} as const;
export type DataType = keyof typeof DataTypes;

/**
 * A weight whose bytes are produced on demand, chunk by chunk, so the writer can stream multi-GB
 * presets to disk without ever holding a whole tensor (let alone the model) in memory.
 */
export interface TensorSource {
  name: string;
  dataType: DataType;
  dims: number[];
  /** Yields the little-endian raw bytes in order; their total length is `byteLength(this)`. */
  chunks(): Iterable<Uint8Array>;
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function byteLength(t: Pick<TensorSource, 'dataType' | 'dims'>): number {
  return elementCount(t.dims) * DataTypes[t.dataType].bytes;
}

/** A small tensor held in memory (constants, norm weights, rotary caches). */
export function tensorFrom(
  name: string,
  dataType: DataType,
  dims: number[],
  data: Float32Array | Uint8Array | Int32Array | BigInt64Array,
): TensorSource {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength !== byteLength({ dataType, dims })) {
    throw new RangeError(`tensor ${name}: ${bytes.byteLength} bytes do not fit dims [${dims}] of ${dataType}`);
  }
  return { name, dataType, dims, chunks: () => [bytes] };
}
