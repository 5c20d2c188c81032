/**
 * Schemas: ColSpec / TensorSpec lists for inputs and outputs, ParamSpec lists for params
 * (`mlflow/types/schema.py`). JSON text and reprs match MLflow's byte for byte.
 */
import { MlflowException } from '../errors.js';
import { PyFloat, pyIsoformat, pyRepr, pyStr, pyTupleRepr, pyTypeName } from '../pycompat/repr.js';
import { pyJsonDumps, pyJsonLoads } from '../pycompat/json.js';
import {
  DataType, type DataTypeName, ObjectType, type SchemaType, isRecord, isSchemaType, maxOf, schemaTypeFromDict,
} from './types.js';
import { enforceParamDatatype, enforceType } from './values.js';

/** A column name: MLflow allows strings and, from pandas, integers (e.g. `0..27`). */
export type ColumnName = string | number;

/** One column of a column-based schema. */
export class ColSpec {
  readonly type: SchemaType;

  constructor(
    type: SchemaType | DataTypeName,
    readonly name?: ColumnName,
    readonly required = true,
  ) {
    if (typeof type === 'string') this.type = DataType.fromName(type);
    else if (isSchemaType(type)) this.type = type;
    else {
      throw new MlflowException(
        `Expected mlflow.types.schema.Datatype, mlflow.types.schema.Array, mlflow.types.schema.Object, mlflow.types.schema.Map, mlflow.types.schema.AnyType or str for the 'type' argument, but got ${String(type)}`,
      );
    }
  }

  /** `{"type", ["name"], "required"}`; Array/Object/Map put their own keys first. */
  toDict(): Record<string, unknown> {
    const d: Record<string, unknown> = { ...this.type.toDict() };
    if (this.name !== undefined) d.name = this.name;
    d.required = this.required;
    return d;
  }

  repr(): string {
    const req = this.required ? 'required' : 'optional';
    return this.name === undefined ? `${this.type.repr()} (${req})` : `${pyRepr(this.name)}: ${this.type.repr()} (${req})`;
  }

  equals(other: unknown): boolean {
    return other instanceof ColSpec && other.name === this.name && other.required === this.required &&
      this.type.equals(other.type);
  }

  /** Reads every generation: `required`, legacy `optional`, neither (1.x: required). */
  static fromDict(dict: Record<string, unknown>): ColSpec {
    if (!('type' in dict)) throw new MlflowException('Missing keys in ColSpec JSON. Expected to find key `type`');
    const { name, required, optional, ...typeDict } = dict;
    if (name !== undefined && name !== null && typeof name !== 'string' && typeof name !== 'number') {
      throw new MlflowException(`Expected the ColSpec name to be a string or an integer, got ${pyTypeName(name)}`);
    }
    const isRequired = required !== undefined && required !== null ? required !== false : optional !== true;
    return new ColSpec(schemaTypeFromDict(typeDict), name ?? undefined, isRequired);
  }
}

const DTYPE_NAME = /^(bool|u?int(8|16|32|64)|float(16|32|64|128)|complex(64|128|256)|object|str|bytes|datetime64(\[\w+\])?|timedelta64(\[\w+\])?|void)$/;

/** One tensor of a tensor-based schema: a numpy dtype name and a shape with `-1` for variable dimensions. */
export class TensorSpec {
  readonly shape: readonly number[];

  constructor(
    readonly type: string,
    shape: readonly number[],
    readonly name?: string,
  ) {
    if (/^(str|bytes)\d+$/.test(type) || /^[<>|=]?[US]\d+$/.test(type)) {
      throw new MlflowException(
        `MLflow does not support size information in flexible numpy data types. Use np.dtype("${type.replace(/^[<>|=]?/, '').replace(/\d+$/, '').replace(/^U$/, 'str').replace(/^S$/, 'bytes')}") instead`,
      );
    }
    if (!DTYPE_NAME.test(type)) throw new MlflowException(`Unsupported numpy data type '${type}'`);
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d))) {
      throw new MlflowException(`Expected \`shape\` to be a list of integers, received ${pyRepr(shape)}`);
    }
    this.shape = [...shape];
  }

  get required(): true {
    return true;
  }

  toDict(): Record<string, unknown> {
    const spec = { type: 'tensor', 'tensor-spec': { dtype: this.type, shape: [...this.shape] } };
    return this.name === undefined ? spec : { name: this.name, ...spec };
  }

  repr(): string {
    const info = `Tensor(${pyRepr(this.type)}, ${pyTupleRepr(this.shape)})`;
    return this.name === undefined ? info : `${pyRepr(this.name)}: ${info}`;
  }

  equals(other: unknown): boolean {
    return other instanceof TensorSpec && other.name === this.name && other.type === this.type &&
      other.shape.length === this.shape.length && other.shape.every((d, i) => d === this.shape[i]);
  }

  static fromDict(dict: Record<string, unknown>): TensorSpec {
    if (!('tensor-spec' in dict) || !('type' in dict)) {
      throw new MlflowException('Missing keys in TensorSpec JSON. Expected to find keys `tensor-spec` and `type`');
    }
    if (dict.type !== 'tensor') throw new MlflowException('Type mismatch, TensorSpec expects `tensor` as the type');
    const info = dict['tensor-spec'];
    if (!isRecord(info) || !('dtype' in info) || !('shape' in info)) {
      throw new MlflowException('Missing keys in TensorSpec JSON. Expected to find keys `dtype` and `shape`');
    }
    return new TensorSpec(String(info.dtype), info.shape as number[], dict.name == null ? undefined : String(dict.name));
  }
}

export type InputSpec = ColSpec | TensorSpec;

/** A list of ColSpecs or of TensorSpecs (never mixed), all named or all unnamed. */
export class Schema {
  readonly inputs: readonly InputSpec[];

  constructor(inputs: readonly InputSpec[]) {
    if (!Array.isArray(inputs)) {
      throw MlflowException.invalidParameterValue(`Inputs of Schema must be a list, got type ${pyTypeName(inputs)}`);
    }
    if (inputs.length === 0) throw MlflowException.invalidParameterValue('Creating Schema with empty inputs is not allowed.');
    const named = inputs.map((x) => x.name !== undefined);
    if (!(named.every(Boolean) || named.every((n) => !n))) {
      throw new MlflowException(
        `Creating Schema with a combination of named and unnamed inputs is not allowed. Got input names ${pyRepr(inputs.map((x) => x.name ?? null))}`,
      );
    }
    const tensors = inputs.map((x) => x instanceof TensorSpec);
    if (!(tensors.every(Boolean) || inputs.every((x) => x instanceof ColSpec))) {
      throw new MlflowException(
        'Creating Schema with a combination of ColSpec and TensorSpec is not supported. Please choose one of ColSpec or TensorSpec',
      );
    }
    if (tensors.every(Boolean) && inputs.length > 1 && named.some((n) => !n)) {
      throw new MlflowException(
        'Creating Schema with multiple unnamed TensorSpecs is not supported. Please provide names for each TensorSpec.',
      );
    }
    if (named.every((n) => !n) && inputs.some((x) => !x.required)) {
      throw new MlflowException(
        'Creating Schema with unnamed optional inputs is not supported. Please name all inputs or make all inputs required.',
      );
    }
    this.inputs = [...inputs];
  }

  isTensorSpec(): boolean {
    return this.inputs[0] instanceof TensorSpec;
  }

  hasInputNames(): boolean {
    return this.inputs[0].name !== undefined;
  }

  /** Names, or positions for an unnamed schema (`x.name or i`). */
  inputNames(): ColumnName[] {
    return this.inputs.map((x, i) => x.name ?? i);
  }

  requiredInputNames(): ColumnName[] {
    return this.inputs.filter((x) => x.required).map((x) => x.name ?? this.inputs.indexOf(x));
  }

  optionalInputNames(): ColumnName[] {
    return this.inputs.filter((x) => !x.required).map((x) => x.name ?? this.inputs.indexOf(x));
  }

  toDict(): Record<string, unknown>[] {
    return this.inputs.map((x) => x.toDict());
  }

  /** `json.dumps` of the spec list, as stored in MLmodel. */
  toJson(): string {
    return pyJsonDumps(this.toDict());
  }

  repr(): string {
    return `[${this.inputs.map((x) => x.repr()).join(', ')}]`;
  }

  toString(): string {
    return this.repr();
  }

  equals(other: unknown): boolean {
    return other instanceof Schema && other.inputs.length === this.inputs.length &&
      this.inputs.every((x, i) => x.equals(other.inputs[i]));
  }

  static fromJson(text: string): Schema {
    const list = parseJsonList(text, 'schema');
    return new Schema(list.map((x) => (x.type === 'tensor' ? TensorSpec.fromDict(x) : ColSpec.fromDict(x))));
  }
}

function parseJsonList(text: string, what: string): Record<string, unknown>[] {
  let parsed: unknown;
  try {
    parsed = pyJsonLoads(text);
  } catch (error) {
    throw MlflowException.invalidParameterValue(`Invalid ${what} JSON ${pyRepr(text)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!Array.isArray(parsed) || parsed.some((x) => !isRecord(x))) {
    throw MlflowException.invalidParameterValue(`Invalid ${what} JSON ${pyRepr(text)}: expected a list of objects`);
  }
  return parsed as Record<string, unknown>[];
}

function isOneDimensional(value: unknown): value is unknown[] {
  return Array.isArray(value) && value.every((v) => !Array.isArray(v));
}

function ndim(value: unknown): number {
  return Array.isArray(value) ? 1 + maxOf(value.map(ndim), 0) : 0;
}

/** A value as Python holds it for a param type: numbers of float/double params are floats (`1.0`). */
function asPython(value: unknown, dtype: DataType | ObjectType): unknown {
  const isFloat = dtype === DataType.float || dtype === DataType.double;
  const one = (v: unknown): unknown => (isFloat && typeof v === 'number' ? new PyFloat(v) : v);
  return Array.isArray(value) ? value.map(one) : one(value);
}

/** One inference parameter: name, type (a DataType other than binary, or an Object), default, shape. */
export class ParamSpec {
  readonly dtype: DataType | ObjectType;
  readonly shape: readonly [-1] | null;
  readonly default: unknown;

  constructor(
    readonly name: string,
    dtype: DataType | ObjectType | DataTypeName,
    defaultValue: unknown,
    shape?: readonly number[] | null,
  ) {
    this.name = String(name);
    if (typeof dtype === 'string') {
      if (!DataType.isName(dtype)) {
        throw MlflowException.invalidParameterValue(
          `Unsupported type '${dtype}', expected instance of DataType or one of ${pyRepr(DataType.all().filter((t) => t !== DataType.binary).map((t) => t.name))}`,
        );
      }
      this.dtype = DataType[dtype];
    } else if (dtype instanceof DataType || dtype instanceof ObjectType) this.dtype = dtype;
    else throw new MlflowException(`'dtype' must be DataType, Object or str, got ${String(dtype)}`);
    if (this.dtype === DataType.binary) {
      throw MlflowException.invalidParameterValue(
        `Binary type is not supported for parameters, ParamSpec '${this.name}'has dtype 'binary'`,
      );
    }
    if (shape === undefined || shape === null) this.shape = null;
    else if (shape.length === 1 && shape[0] === -1) this.shape = [-1];
    else {
      this.default = defaultValue;
      throw MlflowException.invalidParameterValue(
        `Shape must be None for scalar or dictionary value, or (-1,) for 1D array value for ParamSpec ${this.repr()}), received ${pyTupleRepr(shape)}`,
      );
    }
    this.default = defaultValue; // so that repr() works while validating
    this.default = ParamSpec.validateTypeAndShape(this.repr(), defaultValue, this.dtype, this.shape);
  }

  /** `ParamSpec.validate_type_and_shape`: the converted value, or INVALID_PARAMETER_VALUE. */
  static validateTypeAndShape(
    spec: string,
    value: unknown,
    type: DataType | ObjectType,
    shape: readonly number[] | null,
  ): unknown {
    if (shape !== null && !isOneDimensional(value)) {
      throw MlflowException.invalidParameterValue(
        `Value must be a 1D array with shape (-1,) for param ${spec}, received ${pyTypeName(value)} with ndim ${ndim(value)}`,
      );
    }
    try {
      if (shape === null) {
        if (type instanceof DataType) return enforceParamDatatype(value, type);
        enforceType(value, type);
        return value;
      }
      return (value as unknown[]).map((v) => enforceParamDatatype(v, type as DataType));
    } catch (error) {
      if (!(error instanceof MlflowException)) throw error;
      throw MlflowException.invalidParameterValue(`Failed to validate type and shape for ${spec}, error: ${error.message}`, {
        cause: error,
      });
    }
  }

  /** Validate a value given at predict time against this spec. */
  validate(value: unknown): unknown {
    return ParamSpec.validateTypeAndShape(this.repr(), value, this.dtype, this.shape);
  }

  /** Key order `name, default, shape, type` (an Object type adds `properties` after `type`). */
  toDict(): Record<string, unknown> {
    const iso = (v: unknown) => (v instanceof Date ? pyIsoformat(v) : v);
    const value = Array.isArray(this.default) ? this.default.map(iso) : iso(this.default);
    return { name: this.name, default: value, shape: this.shape ? [...this.shape] : null, ...this.dtype.toDict() };
  }

  /** The dict with float params marked as floats, for Python-identical JSON (`1.0`, not `1`). */
  toJsonDict(): Record<string, unknown> {
    const d = this.toDict();
    return { ...d, default: this.dtype instanceof DataType ? asPython(d.default, this.dtype) : d.default };
  }

  repr(): string {
    const shape = this.shape ? ` (shape: ${pyTupleRepr(this.shape)})` : '';
    const d = this.default;
    const shown = d instanceof Date ? pyIsoformat(d, ' ')
      : Array.isArray(d) && this.dtype === DataType.datetime ? pyRepr(d.map((x) => (x instanceof Date ? pyIsoformat(x, ' ') : x)))
      : pyStr(asPython(d, this.dtype));
    return `${pyRepr(this.name)}: ${this.dtype.repr()} (default: ${shown})${shape}`;
  }

  equals(other: unknown): boolean {
    return other instanceof ParamSpec && other.name === this.name && this.dtype.equals(other.dtype) &&
      pyJsonDumps(other.toDict()) === pyJsonDumps(this.toDict());
  }

  /** Accepts `type` or the 2.5-era `dtype` key, in any key order. */
  static fromDict(dict: Record<string, unknown>): ParamSpec {
    const hasType = 'type' in dict || 'dtype' in dict;
    if (!('name' in dict) || !hasType || !('default' in dict)) {
      throw MlflowException.invalidParameterValue(
        `Missing keys in ParamSpec JSON. Expected to find keys \`name\`, \`type\`(or \`dtype\`) and \`default\`. Received keys: dict_keys(${pyRepr(Object.keys(dict))})`,
      );
    }
    const typeName = dict.type ?? dict.dtype;
    const dtype = typeName === 'object'
      ? (schemaTypeFromDict({ type: 'object', properties: dict.properties }) as ObjectType)
      : DataType.fromName(typeName);
    return new ParamSpec(String(dict.name), dtype, dict.default, (dict.shape as number[] | null | undefined) ?? null);
  }
}

/** The params a model accepts at predict time. */
export class ParamSchema {
  readonly params: readonly ParamSpec[];

  constructor(params: readonly ParamSpec[]) {
    if (!Array.isArray(params) || params.some((p) => !(p instanceof ParamSpec))) {
      throw MlflowException.invalidParameterValue('ParamSchema inputs only accept ParamSpec');
    }
    const names = params.map((p) => p.name);
    const duplicates = names.filter((n, i) => names.indexOf(n) !== i);
    if (duplicates.length > 0) {
      throw MlflowException.invalidParameterValue(`Duplicated parameters found in schema: ${pyRepr(duplicates)}`);
    }
    this.params = [...params];
  }

  toDict(): Record<string, unknown>[] {
    return this.params.map((p) => p.toDict());
  }

  toJson(): string {
    return pyJsonDumps(this.params.map((p) => p.toJsonDict()));
  }

  repr(): string {
    return `[${this.params.map((p) => p.repr()).join(', ')}]`;
  }

  toString(): string {
    return this.repr();
  }

  equals(other: unknown): boolean {
    return other instanceof ParamSchema && other.params.length === this.params.length &&
      this.params.every((p, i) => p.equals(other.params[i]));
  }

  static fromJson(text: string): ParamSchema {
    return new ParamSchema(parseJsonList(text, 'params schema').map((x) => ParamSpec.fromDict(x)));
  }
}
