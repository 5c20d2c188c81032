import { readFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface LoadedTensor {
  dims: number[];
  dataType: number;
  /** Raw little-endian bytes, copied so typed-array views are aligned. */
  bytes: Uint8Array;
}

export interface LoadedModel {
  proto: onnxProto.onnx.ModelProto;
  tensor(name: string): LoadedTensor;
  floats(name: string): Float32Array;
}

/** Reads an ONNX file and its initializers, inline or external, for inspection and reference passes. */
export async function readOnnxModel(file: string): Promise<LoadedModel> {
  const proto = onnx.ModelProto.decode(await readFile(file));
  const externalFiles = new Map<string, Buffer>();
  const byName = new Map<string, LoadedTensor>();
  for (const t of proto.graph?.initializer ?? []) {
    let bytes: Uint8Array;
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const info = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
      const location = path.join(path.dirname(file), String(info.location));
      let data = externalFiles.get(location);
      if (!data) externalFiles.set(location, (data = await readFile(location)));
      const offset = Number(info.offset ?? 0);
      bytes = data.subarray(offset, offset + Number(info.length));
    } else {
      bytes = t.rawData ?? new Uint8Array(0);
    }
    byName.set(t.name ?? '', { dims: (t.dims ?? []).map(Number), dataType: t.dataType ?? 0, bytes: new Uint8Array(bytes) });
  }
  const tensor = (name: string) => {
    const t = byName.get(name);
    if (!t) throw new Error(`no initializer named ${name}`);
    return t;
  };
  return {
    proto,
    tensor,
    floats: (name) => {
      const t = tensor(name);
      return new Float32Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength / 4);
    },
  };
}
