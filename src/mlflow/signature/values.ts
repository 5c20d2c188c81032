/**
 * Checking one value against one type, with MLflow's conversion rules and messages
 * (`mlflow/models/utils.py`: `_enforce_type`, `_enforce_array`, `_enforce_object`, `_enforce_map`,
 * `_enforce_param_datatype`).
 *
 * JavaScript values stand in for Python's: an integral number is an `int`, any other number a `float`,
 * `Date` a datetime, `Uint8Array` bytes, a plain object a dict, an array a list.
 */
import { MlflowException } from '../errors.js';
import { pyRepr, pyStr, pyTypeName } from '../pycompat/repr.js';
import { AnyType, ArrayType, DataType, MapType, ObjectType, type SchemaType, isRecord } from './types.js';

/** Python's `str(type(x))`, e.g. `<class 'int'>`, as `_enforce_param_datatype` prints it. */
export function pyClass(value: unknown): string {
  return `<class '${pyTypeName(value)}'>`;
}

function isNoneOrNaN(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));
}

/** numpy's `np.isscalar` for JS values: strings, numbers, booleans, bytes. */
export function isScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ||
    typeof value === 'bigint' || value instanceof Uint8Array;
}

const ISO_DATETIME = /^\d{4}-\d{2}(-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?)?)?$/;

/** `np.datetime64(value)`: ISO text or a Date; undefined when it cannot be read. */
export function toDatetime(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value !== 'string' || !ISO_DATETIME.test(value.trim())) return undefined;
  let text = value.trim().replace(' ', 'T');
  // numpy reads zone-less text as UTC; JS would read it as local time.
  if (/T/.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/.test(text)) text += 'Z';
  text = text.replace(/(\.\d{3})\d+/, '$1');
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * Whether a scalar is acceptable for a DataType, and the converted value. Numbers from JS carry no width,
 * so `integer` accepts any int32-range integer and `float` any number; this is what MLflow's serving path
 * does after casting a JSON column to the schema's dtype.
 */
export function convertScalar(value: unknown, dtype: DataType): { ok: true; value: unknown } | { ok: false } {
  switch (dtype.name) {
    case 'string':
      return typeof value === 'string' ? { ok: true, value } : { ok: false };
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : { ok: false };
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2 ** 31
        ? { ok: true, value } : { ok: false };
    case 'long':
      return (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint'
        ? { ok: true, value } : { ok: false };
    case 'float':
    case 'double':
      return typeof value === 'number' ? { ok: true, value } : { ok: false };
    case 'binary':
      return value instanceof Uint8Array ? { ok: true, value } : { ok: false };
    case 'datetime': {
      const d = toDatetime(value);
      return d ? { ok: true, value: d } : { ok: false };
    }
  }
}

/** `_enforce_type(data, type, required)`: one cell of an Array/Object/Map column, or a nested value. */
export function enforceType(data: unknown, type: SchemaType, required = true): unknown {
  if (type instanceof DataType) return enforceDatatype(data, type, required);
  if (type instanceof ArrayType) return enforceArray(data, type, required);
  if (type instanceof ObjectType) return enforceObject(data, type, required);
  if (type instanceof MapType) return enforceMap(data, type, required);
  return data; // AnyType is never validated
}

function enforceDatatype(data: unknown, dtype: DataType, required: boolean): unknown {
  if (!required && isNoneOrNaN(data)) return null;
  if (!isScalar(data) && !(dtype === DataType.datetime && data instanceof Date)) {
    throw new MlflowException(`Expected data to be scalar, got ${pyTypeName(data)}`);
  }
  const converted = convertScalar(data, dtype);
  if (!converted.ok) {
    throw MlflowException.invalidParameterValue(`Failed to enforce schema of data \`${pyStr(data)}\` with dtype \`${dtype.name}\``, {
      errorClass: 'SCHEMA_ENFORCEMENT_FAILED',
    });
  }
  return converted.value;
}

function enforceArray(data: unknown, arr: ArrayType, required: boolean): unknown {
  if ((!required || arr.dtype instanceof AnyType) && (data == null || (Array.isArray(data) && data.length === 0))) {
    return data;
  }
  if (!Array.isArray(data)) {
    throw new MlflowException(`Expected data to be list or numpy array, got ${pyTypeName(data)}`);
  }
  return data.map((item) => enforceType(item, arr.dtype, required));
}

function enforceObject(data: unknown, obj: ObjectType, required: boolean): unknown {
  if (!required && (data == null || (isRecord(data) && Object.keys(data).length === 0))) return data;
  if (!isRecord(data) || data instanceof Date || data instanceof Uint8Array) {
    throw new MlflowException(
      `Failed to enforce schema of '${pyStr(data)}' with type '${obj.repr()}'. Expected data to be dictionary, got ${pyTypeName(data)}`,
    );
  }
  const properties = new Map(obj.properties.map((p) => [p.name, p]));
  const missing = obj.properties.filter((p) => p.required && !(p.name in data)).map((p) => p.name);
  if (missing.length > 0) throw new MlflowException(`Missing required properties: ${pySet(missing)}`);
  const invalid = Object.keys(data).filter((k) => !properties.has(k));
  if (invalid.length > 0) throw new MlflowException(`Invalid properties not defined in the schema found: ${pySet(invalid)}`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    const prop = properties.get(key)!;
    try {
      out[key] = enforceType(value, prop.dtype, prop.required);
    } catch (error) {
      if (!(error instanceof MlflowException)) throw error;
      throw new MlflowException(
        `Failed to enforce schema for key \`${key}\`. Expected type ${prop.toDict()[key].type}, received type ${pyTypeName(value)}`,
        'INTERNAL_ERROR',
        { cause: error },
      );
    }
  }
  return out;
}

function enforceMap(data: unknown, map: MapType, required: boolean): unknown {
  const empty = data == null || (isRecord(data) && Object.keys(data).length === 0);
  if ((!required || map.valueType instanceof AnyType) && empty) return data;
  if (!isRecord(data) || data instanceof Date || data instanceof Uint8Array) {
    throw new MlflowException(`Expected data to be a dict, got ${pyTypeName(data)}`);
  }
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, enforceType(v, map.valueType, required)]));
}

/** Python's repr of a set of strings. Python's order is arbitrary; ours is the schema's. */
export function pySet(items: readonly unknown[]): string {
  return `{${items.map(pyRepr).join(', ')}}`;
}

/**
 * `_enforce_param_datatype`: a scalar param value against its DataType. Allowed: int for long/float/double,
 * any number for float/double, anything datetime-like for datetime. Returns the converted value.
 */
export function enforceParamDatatype(value: unknown, dtype: DataType): unknown {
  if (value === null || value === undefined) return null;
  if (dtype === DataType.datetime) {
    const d = toDatetime(value);
    if (!d) {
      throw MlflowException.invalidParameterValue(
        typeof value === 'number'
          ? `Failed to convert value to \`${dtype}\`. It must be convertible to datetime.date/datetime, got \`${pyStr(value)}\``
          : `Failed to convert value \`${pyStr(value)}\` from type \`${pyClass(value)}\` to \`${dtype}\``,
      );
    }
    return d;
  }
  if (!isScalar(value)) {
    throw MlflowException.invalidParameterValue(`Value must be a scalar for type \`${dtype}\`, got \`${pyStr(value)}\``);
  }
  const converted = dtype !== DataType.binary ? convertScalar(value, dtype) : { ok: false as const };
  if (converted.ok) return converted.value;
  throw MlflowException.invalidParameterValue(
    `Can not safely convert \`${pyClass(value)}\` to \`${dtype}\` for value \`${pyStr(value)}\``,
  );
}
