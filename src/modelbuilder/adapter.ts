/**
 * LoRA adapter files (`.onnx_adapter`) as ONNX Runtime reads them for ORT-GenAI's `Adapters`: the flatbuffer of
 * onnxruntime/lora/adapter_format/adapter_schema.fbs (file identifier "TORT", format version 1). Each parameter
 * is a named tensor that replaces the graph input of the same name while the adapter is active, so a model takes
 * adapters only for inputs it declares (with defaults as initializers, for when none is active).
 */
import { writeFile } from 'node:fs/promises';
import { Builder } from 'flatbuffers';
import { DataTypes, type TensorSource, byteLength } from './onnx/tensor.js';

/** The only format version ONNX Runtime 1.20+ reads (adapter_format_version.h). */
export const ADAPTER_FORMAT_VERSION = 1;
const FILE_IDENTIFIER = 'TORT';
/** `raw_data:[uint8] (force_align: 8)`: ORT maps the tensors in place, so the bytes must suit any element type. */
const RAW_DATA_ALIGN = 8;

export interface AdapterOptions {
  /** Free for the adapter's author; ORT stores but does not check it. */
  adapterVersion?: number;
  /** The base model's version the adapter was made for; ORT stores but does not check it. */
  modelVersion?: number;
}

/** Encodes parameters as an adapter flatbuffer. */
export function encodeAdapter(parameters: TensorSource[], options: AdapterOptions = {}): Uint8Array {
  const names = new Set<string>();
  for (const p of parameters) {
    if (names.has(p.name)) throw new RangeError(`duplicate adapter parameter ${p.name}`);
    names.add(p.name);
  }
  const b = new Builder(1024 + parameters.reduce((n, p) => n + byteLength(p) + 64, 0));
  const offsets = parameters.map((p) => {
    const name = b.createString(p.name);
    b.startVector(8, p.dims.length, 8);
    for (let i = p.dims.length - 1; i >= 0; i--) b.addInt64(BigInt(p.dims[i]));
    const dims = b.endVector();
    const chunks = [...p.chunks()];
    const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    // createByteVector aligns to 1; preparing for the data first puts its start on an 8-byte boundary.
    b.prep(RAW_DATA_ALIGN, data.byteLength);
    const raw = b.createByteVector(data);
    b.startObject(4);
    b.addFieldOffset(0, name, 0);
    b.addFieldOffset(1, dims, 0);
    // The schema's TensorDataType numbers are ONNX's TensorProto.DataType ones.
    b.addFieldInt32(2, DataTypes[p.dataType].onnx, 0);
    b.addFieldOffset(3, raw, 0);
    return b.endObject();
  });
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
  const list = b.endVector();
  b.startObject(4);
  b.addFieldInt32(0, ADAPTER_FORMAT_VERSION, 0);
  b.addFieldInt32(1, options.adapterVersion ?? 0, 0);
  b.addFieldInt32(2, options.modelVersion ?? 0, 0);
  b.addFieldOffset(3, list, 0);
  b.finish(b.endObject(), FILE_IDENTIFIER);
  return b.asUint8Array();
}

/** Writes an adapter file (conventionally `<name>.onnx_adapter`) and returns its path. */
export async function writeAdapter(file: string, parameters: TensorSource[], options?: AdapterOptions): Promise<string> {
  await writeFile(file, encodeAdapter(parameters, options));
  return file;
}
