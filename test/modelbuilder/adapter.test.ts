import { ByteBuffer } from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { ADAPTER_FORMAT_VERSION, deterministicShiftAdapter, encodeAdapter, tensorFrom } from '../../src/modelbuilder/index.js';

// Reads the file back by adapter_schema.fbs's field order (vtable slot 4 + 2·i), independently of the writer.
function field(bb: ByteBuffer, table: number, i: number): number {
  return bb.__offset(table, 4 + 2 * i);
}

function readAdapter(bytes: Uint8Array) {
  const bb = new ByteBuffer(bytes);
  const root = bb.readInt32(bb.position()) + bb.position();
  const p = field(bb, root, 3);
  const count = bb.__vector_len(root + p);
  const parameters = Array.from({ length: count }, (_, k) => {
    const t = bb.__indirect(bb.__vector(root + p) + 4 * k);
    const dims = Array.from({ length: bb.__vector_len(t + field(bb, t, 1)) }, (_, j) =>
      Number(bb.readInt64(bb.__vector(t + field(bb, t, 1)) + 8 * j)),
    );
    const rawAt = bb.__vector(t + field(bb, t, 3));
    return {
      name: bb.__string(t + field(bb, t, 0)) as string,
      dims,
      dataType: bb.readInt32(t + field(bb, t, 2)),
      rawAt,
      raw: bytes.slice(rawAt, rawAt + bb.__vector_len(t + field(bb, t, 3))),
    };
  });
  return {
    identifier: bb.getBufferIdentifier(),
    formatVersion: bb.readInt32(root + field(bb, root, 0)),
    adapterVersion: bb.readInt32(root + field(bb, root, 1)),
    modelVersion: bb.readInt32(root + field(bb, root, 2)),
    parameters,
  };
}

describe('encodeAdapter', () => {
  it('writes ONNX Runtime adapter format 1: TORT identifier, versions, parameters with dims, type and raw data', () => {
    const bytes = encodeAdapter(
      [
        ...deterministicShiftAdapter(4, 2),
        tensorFrom('odd.int64', 'int64', [3], BigInt64Array.of(1n, -2n, 3n)),
        tensorFrom('bytes', 'uint8', [5], Uint8Array.of(1, 2, 3, 4, 5)),
      ],
      { adapterVersion: 3, modelVersion: 7 },
    );
    const a = readAdapter(bytes);
    expect(a).toMatchObject({ identifier: 'TORT', formatVersion: ADAPTER_FORMAT_VERSION, adapterVersion: 3, modelVersion: 7 });
    expect(a.parameters.map(({ name, dims, dataType }) => ({ name, dims, dataType }))).toEqual([
      { name: 'lm_head.lora_A.MatMul.weight', dims: [1, 2], dataType: 1 },
      { name: 'lm_head.lora_B.MatMul.weight', dims: [2, 1], dataType: 1 },
      { name: 'odd.int64', dims: [3], dataType: 7 },
      { name: 'bytes', dims: [5], dataType: 2 },
    ]);
    expect(Array.from(new Float32Array(a.parameters[0].raw.buffer))).toEqual([2, 2]);
    expect(Array.from(new Float32Array(a.parameters[1].raw.buffer))).toEqual([1, 1]);
    expect(Array.from(new BigInt64Array(a.parameters[2].raw.buffer))).toEqual([1n, -2n, 3n]);
    expect(Array.from(a.parameters[3].raw)).toEqual([1, 2, 3, 4, 5]);
    // raw_data is force_align 8 in the schema: ORT reads tensors in place from the mapped file.
    for (const p of a.parameters) expect(p.rawAt % 8).toBe(0);
  });

  it('rejects two parameters of the same name', () => {
    const [a] = deterministicShiftAdapter(1);
    expect(() => encodeAdapter([a, a])).toThrow(/duplicate adapter parameter lm_head.lora_A.MatMul.weight/);
  });
});
