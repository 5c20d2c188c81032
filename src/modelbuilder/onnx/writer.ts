import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { AbortError } from '../../errors.js';
import { BufferedFile } from '../buffered-file.js';
import { type GraphBuilder, inlineTensor, valueInfo } from './graph.js';
import { DataTypes, type TensorSource, byteLength } from './tensor.js';

const { onnx } = onnxProto;

/** opset 21 for the ONNX domain, 1 for com.microsoft (GroupQueryAttention, MatMulNBits, ...). */
const OPSETS = [
  { domain: '', version: 21 },
  { domain: 'com.microsoft', version: 1 },
];
/** IR version 10 is the one that goes with opset 21. */
const IR_VERSION = 10;
/** Tensors smaller than this stay inline even in external-data models (as onnx's own saver does). */
const EXTERNAL_MIN_BYTES = 1024;
/** Offsets are aligned so ORT can mmap tensors on page-friendly boundaries. */
const ALIGN = 64;

export interface WriteProgress {
  bytesWritten: number;
  totalBytes: number;
}

export interface WriteOptions {
  /** Stream weights into `<filename>.data` instead of embedding them in the protobuf. */
  externalData: boolean;
  filename?: string;
  onProgress?: (p: WriteProgress) => void;
  /** Checked between chunks; an aborted write leaves a partial file behind and rejects with AbortError. */
  signal?: AbortSignal;
  producerVersion?: string;
}

/** Total weight bytes of a graph: what the writer streams and what disk it needs (plus the small protobuf). */
export function weightBytes(graph: GraphBuilder): number {
  return graph.initializers.reduce((n, t) => n + byteLength(t), 0);
}

/**
 * Writes `graph` as an ONNX model into `dir`. With `externalData`, weights go to `<filename>.data`
 * through a fixed-size buffer, one generated chunk at a time, so memory stays bounded whatever the size.
 */
export async function writeOnnxModel(graph: GraphBuilder, dir: string, opts: WriteOptions): Promise<string> {
  const filename = opts.filename ?? 'model.onnx';
  const totalBytes = weightBytes(graph);
  let bytesWritten = 0;
  const initializer: onnxProto.onnx.ITensorProto[] = [];

  const report = (n: number) => {
    if (opts.signal?.aborted) throw new AbortError('model build aborted', { cause: opts.signal.reason });
    bytesWritten += n;
    opts.onProgress?.({ bytesWritten, totalBytes });
  };

  if (opts.externalData) {
    const location = `${filename}.data`;
    const sink = await BufferedFile.create(path.join(dir, location));
    try {
      for (const t of graph.initializers) {
        const length = byteLength(t);
        if (length < EXTERNAL_MIN_BYTES) {
          initializer.push(inlineTensor(t));
          report(length);
          continue;
        }
        await sink.pad(ALIGN);
        const offset = sink.position;
        for (const chunk of t.chunks()) {
          await sink.write(chunk);
          report(chunk.byteLength);
        }
        if (sink.position - offset !== length) throw new Error(`tensor ${t.name} produced ${sink.position - offset} bytes, expected ${length}`);
        initializer.push(externalTensor(t, location, offset, length));
      }
    } finally {
      await sink.close();
    }
  } else {
    for (const t of graph.initializers) {
      initializer.push(inlineTensor(t));
      report(byteLength(t));
    }
  }

  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: OPSETS,
    producerName: 'ortgenai-node modelbuilder',
    producerVersion: opts.producerVersion ?? '',
    graph: {
      name: 'main_graph',
      node: graph.nodes,
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
      initializer,
    },
  });
  const file = path.join(dir, filename);
  await writeFile(file, onnx.ModelProto.encode(model).finish());
  return file;
}

function externalTensor(t: TensorSource, location: string, offset: number, length: number): onnxProto.onnx.ITensorProto {
  return {
    name: t.name,
    dataType: DataTypes[t.dataType].onnx,
    dims: t.dims,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}
