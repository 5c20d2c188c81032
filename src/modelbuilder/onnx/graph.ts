import onnxProto from 'onnx-proto';
import { DataTypes, type DataType, type TensorSource, tensorFrom } from './tensor.js';

const { onnx } = onnxProto;
const Attr = onnx.AttributeProto.AttributeType;

export type AttributeValue = number | number[] | string | { float: number } | { floats: number[] } | TensorSource;
/** A dimension is either fixed or a symbolic name such as `batch_size`. */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  dataType: DataType;
  shape: Dim[];
}

/**
 * Collects nodes, graph inputs/outputs and initializers for one ONNX graph. Integers become INT(S)
 * attributes; floats must be wrapped (`{ float: 0.5 }`) because JS cannot tell 1 from 1.0.
 */
export class GraphBuilder {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly initializers: TensorSource[] = [];
  private readonly names = new Set<string>();

  input(name: string, dataType: DataType, shape: Dim[]): string {
    this.inputs.push({ name, dataType, shape });
    return name;
  }

  output(name: string, dataType: DataType, shape: Dim[]): void {
    this.outputs.push({ name, dataType, shape });
  }

  initializer(t: TensorSource): string {
    if (this.names.has(t.name)) throw new Error(`duplicate initializer ${t.name}`);
    this.names.add(t.name);
    this.initializers.push(t);
    return t.name;
  }

  /** A shared int64 constant (a scalar, or a list such as axes or a shape), named after its value. */
  int64(value: number | number[]): string {
    const values = typeof value === 'number' ? [value] : value;
    const name = `/model/constants/INT64/${typeof value === 'number' ? value : `[${values.join(',')}]`}`;
    if (!this.names.has(name)) {
      const dims = typeof value === 'number' ? [] : [values.length];
      this.initializer(tensorFrom(name, 'int64', dims, BigInt64Array.from(values.map(BigInt))));
    }
    return name;
  }

  /** A shared float32 scalar constant. */
  float(value: number): string {
    const name = `/model/constants/FLOAT/${value}`;
    if (!this.names.has(name)) this.initializer(tensorFrom(name, 'float32', [], Float32Array.of(value)));
    return name;
  }

  /**
   * Adds a node and returns its output names. `outputs` defaults to one output named
   * `<name>/output_0`, the naming scheme of the official ORT-GenAI model builder.
   */
  node(
    opType: string,
    name: string,
    inputs: string[],
    attrs: Record<string, AttributeValue> = {},
    opts: { outputs?: string[] | number; domain?: string } = {},
  ): string[] {
    const outs = opts.outputs ?? 1;
    const outputs = typeof outs === 'number' ? Array.from({ length: outs }, (_, i) => `${name}/output_${i}`) : outs;
    this.nodes.push({
      opType,
      name,
      input: inputs,
      output: outputs,
      domain: opts.domain ?? '',
      attribute: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
    });
    return outputs;
  }

  /** Shorthand for a node with a single output. */
  op(opType: string, name: string, inputs: string[], attrs: Record<string, AttributeValue> = {}, domain?: string): string {
    return this.node(opType, name, inputs, attrs, { domain })[0];
  }
}

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError(`attribute ${name}: wrap float values as { float }`);
    return { name, type: Attr.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: Attr.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: Attr.INTS, ints: value };
  if ('float' in value) return { name, type: Attr.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: Attr.FLOATS, floats: value.floats };
  return { name, type: Attr.TENSOR, t: inlineTensor(value) };
}

/** A TensorProto with its bytes inline (for attributes and small initializers). */
export function inlineTensor(t: TensorSource): onnxProto.onnx.ITensorProto {
  const parts = [...t.chunks()];
  const raw = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  return { name: t.name, dataType: DataTypes[t.dataType].onnx, dims: t.dims, rawData: raw };
}

export function valueInfo(v: ValueInfo): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: DataTypes[v.dataType].onnx,
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}
