import { AbortError } from '../../errors.js';
import { BufferedFile } from '../buffered-file.js';
import type { WriteProgress } from '../onnx/writer.js';

/**
 * The GGUF container (version 3) as ggml's docs/gguf.md specifies it: header, key/value metadata, tensor infos,
 * padding to the alignment, then the tensor data, each tensor at an aligned offset. Little-endian throughout.
 */
const MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
const VERSION = 3;
/** `general.alignment`'s default; we write it explicitly too. */
export const GGUF_ALIGNMENT = 32;

/** gguf_metadata_value_type. */
const VALUE_TYPES = { uint8: 0, int8: 1, uint16: 2, int16: 3, uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9, uint64: 10, int64: 11, float64: 12 } as const;
/** The numeric value types we write (64-bit integers are not needed for our metadata). */
type NumberType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

export type GgufValue =
  | { type: NumberType; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: 'string'; values: readonly string[] }
  | { type: 'array'; itemType: 'int32' | 'uint32' | 'float32'; values: ArrayLike<number> };

/** ggml_type: the element types our files use, with their block size in elements and bytes. */
export const GGML_TYPES = {
  F32: { id: 0, blockElements: 1, blockBytes: 4 },
  F16: { id: 1, blockElements: 1, blockBytes: 2 },
  Q4_0: { id: 2, blockElements: 32, blockBytes: 18 },
} as const;
export type GgmlType = keyof typeof GGML_TYPES;

export interface GgufTensor {
  name: string;
  /** ggml order: ne[0] (the contiguous dimension, e.g. a weight's input size) first. */
  dims: readonly number[];
  type: GgmlType;
  /** The tensor's bytes in order, in that type's layout; their total is `ggufTensorBytes(this)`. */
  chunks(): Iterable<Uint8Array>;
}

export interface GgufContent {
  metadata: Record<string, GgufValue>;
  tensors: readonly GgufTensor[];
}

export interface GgufWriteOptions {
  onProgress?: (p: WriteProgress) => void;
  /** Checked between chunks; an aborted write leaves a partial file behind and rejects with AbortError. */
  signal?: AbortSignal;
}

export function ggufTensorBytes(t: Pick<GgufTensor, 'dims' | 'type' | 'name'>): number {
  const { blockElements, blockBytes } = GGML_TYPES[t.type];
  if (t.dims[0] % blockElements) throw new RangeError(`tensor ${t.name}: ne[0]=${t.dims[0]} is not a multiple of ${t.type}'s ${blockElements}`);
  return (t.dims.reduce((a, b) => a * b, 1) / blockElements) * blockBytes;
}

const align = (n: number) => Math.ceil(n / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;

/** Writes `content` to `file`, streaming the tensor data chunk by chunk (memory stays bounded for GB models). */
export async function writeGguf(file: string, content: GgufContent, opts: GgufWriteOptions = {}): Promise<void> {
  const metadata = { 'general.alignment': { type: 'uint32', value: GGUF_ALIGNMENT } as GgufValue, ...content.metadata };
  const sizes = content.tensors.map(ggufTensorBytes);
  const offsets: number[] = [];
  let dataBytes = 0;
  for (const size of sizes) {
    offsets.push(dataBytes);
    dataBytes = align(dataBytes + size);
  }

  const head = new HeadWriter();
  head.u32(MAGIC);
  head.u32(VERSION);
  head.u64(BigInt(content.tensors.length));
  head.u64(BigInt(Object.keys(metadata).length));
  for (const [key, value] of Object.entries(metadata)) {
    head.string(key);
    head.value(value);
  }
  content.tensors.forEach((t, i) => {
    head.string(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(BigInt(d));
    head.u32(GGML_TYPES[t.type].id);
    head.u64(BigInt(offsets[i]));
  });

  const sink = await BufferedFile.create(file);
  let bytesWritten = 0;
  try {
    await sink.write(head.bytes());
    await sink.pad(GGUF_ALIGNMENT);
    const dataStart = sink.position;
    for (const [i, t] of content.tensors.entries()) {
      await sink.pad(GGUF_ALIGNMENT);
      if (sink.position - dataStart !== offsets[i]) throw new Error(`tensor ${t.name} lands at ${sink.position - dataStart}, expected ${offsets[i]}`);
      for (const chunk of t.chunks()) {
        if (opts.signal?.aborted) throw new AbortError('model build aborted', { cause: opts.signal.reason });
        await sink.write(chunk);
        bytesWritten += chunk.byteLength;
        opts.onProgress?.({ bytesWritten, totalBytes: dataBytes });
      }
      const written = sink.position - dataStart - offsets[i];
      if (written !== sizes[i]) throw new Error(`tensor ${t.name} produced ${written} bytes, expected ${sizes[i]}`);
    }
  } finally {
    await sink.close();
  }
}

/** The header and metadata, built in memory (a vocabulary's strings are a few MB at most). */
class HeadWriter {
  private parts: Buffer[] = [];

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }

  private put(size: number, write: (b: Buffer) => void): void {
    const b = Buffer.alloc(size);
    write(b);
    this.parts.push(b);
  }

  u32(n: number): void {
    this.put(4, (b) => b.writeUInt32LE(n));
  }

  u64(n: bigint): void {
    this.put(8, (b) => b.writeBigUInt64LE(n));
  }

  string(s: string): void {
    const utf8 = Buffer.from(s, 'utf8');
    this.u64(BigInt(utf8.length));
    this.parts.push(utf8);
  }

  value(v: GgufValue): void {
    this.u32(VALUE_TYPES[v.type]);
    if (v.type === 'array') {
      this.u32(VALUE_TYPES[v.itemType]);
      this.u64(BigInt(v.values.length));
      if (v.itemType === 'string') for (const s of v.values as readonly string[]) this.string(s);
      else this.numbers(v.itemType, v.values as ArrayLike<number>);
      return;
    }
    if (v.type === 'string') this.string(v.value);
    else if (v.type === 'bool') this.put(1, (b) => b.writeUInt8(v.value ? 1 : 0));
    else this.numbers(v.type, [v.value]);
  }

  private numbers(type: NumberType, values: ArrayLike<number>): void {
    const width = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8 }[type];
    const method = ({
      uint8: 'writeUInt8', int8: 'writeInt8', uint16: 'writeUInt16LE', int16: 'writeInt16LE', uint32: 'writeUInt32LE',
      int32: 'writeInt32LE', float32: 'writeFloatLE', float64: 'writeDoubleLE',
    } as const)[type];
    this.put(width * values.length, (b) => {
      for (let i = 0; i < values.length; i++) b[method](values[i], i * width);
    });
  }
}
