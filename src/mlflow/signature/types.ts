/**
 * MLflow's value types (`mlflow/types/schema.py`): the DataType scalars and the JSON-shaped Array,
 * Object (with Property), Map and Any types. Each knows its JSON dict, its Python repr and how two
 * inferred types merge.
 */
import { MlflowException } from '../errors.js';

export type DataTypeName = 'boolean' | 'integer' | 'long' | 'float' | 'double' | 'string' | 'binary' | 'datetime';
const DATA_TYPE_NAMES: readonly DataTypeName[] = [
  'boolean', 'integer', 'long', 'float', 'double', 'string', 'binary', 'datetime',
];

/** MLflow's scalar column types. `repr()` is the bare name; `toString()` is Python's `str()`: `DataType.string`. */
export class DataType {
  static readonly boolean = new DataType('boolean');
  static readonly integer = new DataType('integer');
  static readonly long = new DataType('long');
  static readonly float = new DataType('float');
  static readonly double = new DataType('double');
  static readonly string = new DataType('string');
  static readonly binary = new DataType('binary');
  static readonly datetime = new DataType('datetime');

  private constructor(readonly name: DataTypeName) {}

  static all(): DataType[] {
    return DATA_TYPE_NAMES.map((n) => DataType[n]);
  }

  static isName(name: unknown): name is DataTypeName {
    return typeof name === 'string' && (DATA_TYPE_NAMES as readonly string[]).includes(name);
  }

  /** `DataType[name]`, with MLflow's message for unknown names. */
  static fromName(name: unknown): DataType {
    if (!DataType.isName(name)) {
      throw new MlflowException(
        `Unsupported type '${String(name)}', expected instance of DataType or one of ${pyNameList(DATA_TYPE_NAMES)}`,
      );
    }
    return DataType[name];
  }

  toDict(): { type: string } {
    return { type: this.name };
  }

  repr(): string {
    return this.name;
  }

  toString(): string {
    return `DataType.${this.name}`;
  }

  equals(other: unknown): boolean {
    return other === this;
  }
}

function pyNameList(names: readonly string[]): string {
  return `[${names.map((n) => `'${n}'`).join(', ')}]`;
}

/** `Array(dtype)`: a JSON list whose items all have one type. */
export class ArrayType {
  readonly dtype: SchemaType;

  constructor(dtype: SchemaType | DataTypeName) {
    this.dtype = toSchemaType(dtype);
  }

  toDict(): Record<string, unknown> {
    return { type: 'array', items: this.dtype.toDict() };
  }

  repr(): string {
    return `Array(${this.dtype.repr()})`;
  }

  toString(): string {
    return this.repr();
  }

  equals(other: unknown): boolean {
    return other instanceof ArrayType && this.dtype.equals(other.dtype);
  }

  merge(other: SchemaType): ArrayType {
    if (other instanceof AnyType || this.equals(other)) return this;
    if (!(other instanceof ArrayType)) {
      throw new MlflowException(`Can't merge array with non-array type: ${typeName(other)}`);
    }
    if (this.dtype instanceof DataType) {
      throw new MlflowException(
        `Array types are incompatible for ${this.repr()} with dtype=${this.dtype} and ${other.repr()} with dtype=${other.dtype}`,
      );
    }
    return new ArrayType(this.dtype.merge(other.dtype));
  }
}

/** One named field of an Object, required unless told otherwise. */
export class Property {
  readonly dtype: SchemaType;

  constructor(
    readonly name: string,
    dtype: SchemaType | DataTypeName,
    readonly required = true,
  ) {
    if (typeof name !== 'string') {
      throw MlflowException.invalidParameterValue(`Expected name to be a string, got type ${typeof name}`);
    }
    this.dtype = toSchemaType(dtype);
  }

  /** `{name: {...type dict, required}}`. */
  toDict(): Record<string, Record<string, unknown>> {
    return { [this.name]: { ...this.dtype.toDict(), required: this.required } };
  }

  repr(): string {
    return `${this.name}: ${this.dtype.repr()} (${this.required ? 'required' : 'optional'})`;
  }

  equals(other: unknown): boolean {
    return (
      other instanceof Property && other.name === this.name && other.required === this.required &&
      this.dtype.equals(other.dtype)
    );
  }

  merge(other: Property | AnyType): Property {
    if (other instanceof AnyType) return new Property(this.name, this.dtype, false);
    if (this.name !== other.name) throw new MlflowException("Can't merge properties with different names");
    const required = this.required && other.required;
    if (this.dtype instanceof DataType && other.dtype instanceof DataType) {
      if (this.dtype === other.dtype) return new Property(this.name, this.dtype, required);
      throw new MlflowException(`Properties are incompatible for ${this.dtype} and ${other.dtype}`);
    }
    if (this.dtype instanceof DataType) throw new MlflowException('Properties are incompatible');
    return new Property(this.name, this.dtype.merge(other.dtype), required);
  }

  static fromDict(name: string, dict: unknown): Property {
    if (!isRecord(dict) || !('type' in dict)) {
      throw new MlflowException(`Missing keys in Property \`${name}\`. Expected to find key \`type\``);
    }
    const { required = true, ...rest } = dict;
    return new Property(name, schemaTypeFromDict(rest), required !== false);
  }
}

/** `Object(properties)`: a JSON object with known keys; properties are kept sorted by name. */
export class ObjectType {
  readonly properties: readonly Property[];

  constructor(properties: readonly Property[]) {
    if (!Array.isArray(properties)) {
      throw MlflowException.invalidParameterValue(`Expected properties to be a list, got type ${typeof properties}`);
    }
    if (properties.length === 0) {
      throw MlflowException.invalidParameterValue('Creating Object with empty properties is not allowed.');
    }
    if (properties.some((p) => !(p instanceof Property))) {
      throw MlflowException.invalidParameterValue('Expected values to be instance of Property');
    }
    const names = properties.map((p) => p.name);
    const duplicates = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
    if (duplicates.length > 0) {
      throw MlflowException.invalidParameterValue(
        `Found duplicated property names: {${duplicates.map((d) => `'${d}'`).join(', ')}}`,
      );
    }
    this.properties = [...properties].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  toDict(): Record<string, unknown> {
    return { type: 'object', properties: Object.assign({}, ...this.properties.map((p) => p.toDict())) };
  }

  repr(): string {
    return `{${this.properties.map((p) => p.repr()).join(', ')}}`;
  }

  toString(): string {
    return this.repr();
  }

  equals(other: unknown): boolean {
    return (
      other instanceof ObjectType && other.properties.length === this.properties.length &&
      this.properties.every((p, i) => p.equals(other.properties[i]))
    );
  }

  /** Properties missing on either side become optional; shared ones merge (used by inference). */
  merge(other: SchemaType): ObjectType {
    if (other instanceof AnyType) {
      return new ObjectType(this.properties.map((p) => new Property(p.name, p.dtype, false)));
    }
    if (!(other instanceof ObjectType)) {
      throw new MlflowException(`Can't merge object with non-object type: ${typeName(other)}`);
    }
    if (this.equals(other)) return this;
    const mine = new Map(this.properties.map((p) => [p.name, p]));
    const theirs = new Map(other.properties.map((p) => [p.name, p]));
    const merged: Property[] = [];
    for (const [name, p] of mine) {
      const q = theirs.get(name);
      merged.push(q ? p.merge(q) : new Property(name, p.dtype, false));
    }
    for (const [name, q] of theirs) if (!mine.has(name)) merged.push(new Property(name, q.dtype, false));
    return new ObjectType(merged);
  }
}

/** `Map(value_type)`: a JSON object with string keys and values of one type. */
export class MapType {
  readonly valueType: SchemaType;

  constructor(valueType: SchemaType | DataTypeName) {
    this.valueType = toSchemaType(valueType);
  }

  toDict(): Record<string, unknown> {
    return { type: 'map', values: this.valueType.toDict() };
  }

  /** MLflow formats the value type with `str()`, hence `Map(str -> DataType.string)`. */
  repr(): string {
    return `Map(str -> ${this.valueType.toString()})`;
  }

  toString(): string {
    return this.repr();
  }

  equals(other: unknown): boolean {
    return other instanceof MapType && this.valueType.equals(other.valueType);
  }

  merge(other: SchemaType): MapType {
    if (other instanceof AnyType || this.equals(other)) return this;
    if (!(other instanceof MapType)) throw new MlflowException(`Can't merge map with non-map type: ${typeName(other)}`);
    if (this.valueType instanceof DataType) {
      throw new MlflowException(
        `Map types are incompatible for ${this.repr()} with value_type=${this.valueType} and ${other.repr()} with value_type=${other.valueType}`,
      );
    }
    return new MapType(this.valueType.merge(other.valueType));
  }
}

/** `AnyType`: any JSON value including null; never validated. */
export class AnyType {
  toDict(): Record<string, unknown> {
    return { type: 'any' };
  }

  repr(): string {
    return 'Any';
  }

  toString(): string {
    return 'Any';
  }

  equals(other: unknown): boolean {
    return other instanceof AnyType;
  }

  merge(other: SchemaType): SchemaType {
    if (other instanceof AnyType || other instanceof DataType) return other;
    return other.merge(this);
  }
}

export type SchemaType = DataType | ArrayType | ObjectType | MapType | AnyType;

function toSchemaType(t: SchemaType | DataTypeName): SchemaType {
  if (typeof t === 'string') {
    if (!DataType.isName(t)) {
      throw new MlflowException(
        `Unsupported type '${t}', expected instance of DataType, Array, Object, Map or one of ${pyNameList(DATA_TYPE_NAMES)}`,
      );
    }
    return DataType[t];
  }
  if (!isSchemaType(t)) {
    throw new MlflowException(
      `Expected mlflow.types.schema.Datatype, mlflow.types.schema.Array, mlflow.types.schema.Object, mlflow.types.schema.Map, mlflow.types.schema.AnyType or str for the 'dtype' argument, but got ${String(t)}`,
    );
  }
  return t;
}

export function isSchemaType(t: unknown): t is SchemaType {
  return t instanceof DataType || t instanceof ArrayType || t instanceof ObjectType || t instanceof MapType ||
    t instanceof AnyType;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The largest of `values`, or `empty` when there are none. Request data can hold hundreds of thousands of
 * rows, and `Math.max(...values)` throws a RangeError (call stack) from about 120,000 arguments.
 */
export function maxOf(values: Iterable<number>, empty = -Infinity): number {
  let max = empty;
  for (const v of values) if (v > max) max = v;
  return max;
}

function typeName(t: SchemaType): string {
  return t instanceof DataType ? 'DataType' : t instanceof ArrayType ? 'Array' : t instanceof ObjectType ? 'Object'
    : t instanceof MapType ? 'Map' : 'AnyType';
}

/** Read a type dict (`{"type": "string"}`, `{"type": "array", "items": ...}`, ...) with MLflow's checks. */
export function schemaTypeFromDict(dict: Record<string, unknown>): SchemaType {
  switch (dict.type) {
    case 'array': {
      if (!('items' in dict)) throw new MlflowException('Missing keys in Array JSON. Expected to find keys `items` and `type`');
      if (!isRecord(dict.items)) throw new MlflowException('Expected items to be a dictionary of Object JSON');
      if (!('type' in dict.items)) {
        throw new MlflowException("Missing keys in Array's items JSON. Expected to find key `type`");
      }
      return new ArrayType(schemaTypeFromDict(dict.items));
    }
    case 'object': {
      if (!('properties' in dict)) {
        throw new MlflowException('Missing keys in Object JSON. Expected to find keys `properties` and `type`');
      }
      const props = dict.properties;
      if (!isRecord(props) || Object.values(props).some((p) => !isRecord(p))) {
        throw new MlflowException('Expected properties to be a dictionary of Property JSON');
      }
      return new ObjectType(Object.entries(props).map(([name, p]) => Property.fromDict(name, p)));
    }
    case 'map': {
      if (!('values' in dict)) throw new MlflowException('Missing keys in Map JSON. Expected to find keys `values` and `type`');
      if (!isRecord(dict.values)) throw new MlflowException('Expected values to be a dictionary of Object JSON');
      if (!('type' in dict.values)) {
        throw new MlflowException("Missing keys in Map's items JSON. Expected to find key `type`");
      }
      return new MapType(schemaTypeFromDict(dict.values));
    }
    case 'any':
      return new AnyType();
    default:
      return DataType.fromName(dict.type);
  }
}
