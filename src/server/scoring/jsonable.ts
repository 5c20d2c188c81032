import { pyIsoformat } from '../../mlflow/pycompat/repr.js';

/**
 * JSON text of a prediction, as MLflow's `_get_jsonable_obj` + `NumpyEncoder` make it: typed arrays
 * become lists, bytes become base64 (`base64.encodebytes`: lines of 76 characters, each ending in a
 * newline), datetimes ISO text, bigints numbers, Maps and Sets objects and lists.
 */
export function predictionsToJson(value: unknown): string {
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key]; // before Date#toJSON ran
    if (raw instanceof Date) return pyIsoformat(raw);
    if (typeof v === 'bigint') return Number(v);
    if (v instanceof Uint8Array) return encodeBytes(v);
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? Number(x) : x));
    if (v instanceof Map) return Object.fromEntries(v);
    if (v instanceof Set) return [...v];
    return v;
  });
  return text ?? 'null';
}

function encodeBytes(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return b64.replace(/.{1,76}/g, (line) => `${line}\n`);
}
