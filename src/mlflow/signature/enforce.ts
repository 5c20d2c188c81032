/**
 * Schema enforcement at predict time (`mlflow/models/utils.py` `_enforce_schema`,
 * `_enforce_params_schema`; `mlflow/pyfunc/__init__.py` `_validate_prediction_input`).
 *
 * For a ColSpec schema the input becomes what MLflow hands a pyfunc: a DataFrame. Here that is a
 * column-oriented table `{ [column]: unknown[] }` holding only the schema's columns, in schema order,
 * so `modelInput.prompt[0]` reads like `model_input["prompt"][0]`.
 *
 * Where JavaScript has no counterpart for a numpy width, numbers are accepted for `integer` (int32 range)
 * and `float` columns and tensors of JS numbers are accepted for any numeric dtype, as MLflow's
 * scoring server accepts them after casting a JSON payload to the schema's types. Typed arrays carry their
 * dtype and must match exactly.
 */
import { MlflowException } from '../errors.js';
import { type WarningSink, emitMlflowWarning, isTensorArray, typedArrayDtype } from './infer.js';
import { pyRepr, pyStr, pyTupleRepr, pyTypeName } from '../pycompat/repr.js';
import { type ColumnName, ColSpec, ParamSchema, Schema, TensorSpec } from './schema.js';
import { ArrayType, DataType, ObjectType, isRecord, maxOf } from './types.js';
import { enforceType, isScalar, pySet, toDatetime } from './values.js';

/** A DataFrame as the model sees it: column name → cell values, one per row. */
export type ColumnTable = Record<string, unknown[]>;

/** What `enforceInput` returns: a ColumnTable for ColSpec schemas, the (checked) tensor input otherwise. */
export type PyfuncInput = ColumnTable | unknown;

export interface EnforceOptions {
  /** Receives MLflow's warnings (extra inputs, ignored params). Default: process.emitWarning. */
  onWarning?: WarningSink;
}

interface Frame {
  columns: ColumnName[];
  cells: Map<string, unknown[]>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && !(value instanceof Date) && !ArrayBuffer.isView(value);
}

function frameFromColumns(entries: [ColumnName, unknown[]][]): Frame {
  return { columns: entries.map(([k]) => k), cells: new Map(entries.map(([k, v]) => [String(k), v])) };
}

/** `pd.DataFrame([dict])`: one row. */
function oneRow(dict: Record<string, unknown>): Frame {
  return frameFromColumns(Object.entries(dict).map(([k, v]) => [k, [v]]));
}

/** `pd.DataFrame(list)`: records, rows of values, or a single column `0`. */
function frameFromList(list: readonly unknown[]): Frame {
  if (list.length > 0 && list.every(isPlainObject)) {
    const names: string[] = [];
    for (const row of list) for (const k of Object.keys(row)) if (!names.includes(k)) names.push(k);
    return frameFromColumns(names.map((k) => [k, list.map((row) => (row as Record<string, unknown>)[k] ?? null)]));
  }
  if (list.length > 0 && list.every((r) => Array.isArray(r) || isTensorArray(r))) {
    const rows = list.map((r) => Array.from(r as ArrayLike<unknown>));
    const width = maxOf(rows.map((r) => r.length));
    return frameFromColumns(Array.from({ length: width }, (_, i) => [i, rows.map((r) => r[i] ?? null)]));
  }
  return frameFromColumns(list.length === 0 ? [] : [[0, [...list]]]);
}

/** `pd.DataFrame(dict)`: lists are columns (all of one length), scalars are broadcast. */
function frameFromDict(dict: Record<string, unknown>): Frame {
  const lengths = new Set(Object.values(dict).filter((v) => Array.isArray(v) || isTensorArray(v)).map((v) => (v as unknown[]).length));
  if (lengths.size > 1) {
    throw new MlflowException(
      'This model contains a column-based signature, which suggests a DataFrame input. There was an error casting the input data to a DataFrame: All arrays must be of the same length',
    );
  }
  const length = [...lengths][0] ?? 1;
  return frameFromColumns(
    Object.entries(dict).map(([k, v]) => [k, Array.isArray(v) || isTensorArray(v) ? Array.from(v as ArrayLike<unknown>) : Array(length).fill(v)]),
  );
}

/** The DataFrame MLflow builds from a pyfunc input for a ColSpec schema. */
function toFrame(data: unknown, schema: Schema): Frame {
  if (isScalar(data)) return frameFromColumns([[0, [data]]]);
  if (isPlainObject(data)) {
    const complex = schema.inputs.some((x) => x instanceof ColSpec && (x.type instanceof ArrayType || x.type instanceof ObjectType));
    const rowLike = Object.values(data).every(
      (v) => v === null || v === undefined || isScalar(v) || (Array.isArray(v) && v.every((i) => typeof i === 'string')),
    );
    return complex || rowLike ? oneRow(data) : frameFromDict(data);
  }
  if (Array.isArray(data)) return frameFromList(data);
  if (isTensorArray(data)) return frameFromColumns([[0, Array.from(data as ArrayLike<unknown>)]]);
  throw new MlflowException(`Expected input to be DataFrame. Found: ${pyTypeName(data)}`);
}

// 'str': pandas 3 (what MLflow 3.18 installs) gives a column of strings, missing values allowed, its string
// dtype instead of object.
type ColumnDtype = 'bool' | 'int64' | 'float64' | 'datetime64[ns]' | 'str' | 'object';

const isMissing = (v: unknown) => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));

/** The dtype pandas gives a column of these values (after `infer_objects`). */
function columnDtype(values: readonly unknown[]): ColumnDtype {
  const present = values.filter((v) => !isMissing(v));
  const hasMissing = present.length < values.length;
  if (present.length === 0) return values.length > 0 && values.every((v) => typeof v === 'number') ? 'float64' : 'object';
  if (present.every((v) => typeof v === 'number')) {
    return !hasMissing && present.every((v) => Number.isInteger(v)) ? 'int64' : 'float64';
  }
  if (!hasMissing && present.every((v) => typeof v === 'bigint')) return 'int64';
  if (!hasMissing && present.every((v) => typeof v === 'boolean')) return 'bool';
  if (present.every((v) => v instanceof Date)) return 'datetime64[ns]';
  if (present.every((v) => typeof v === 'string')) return 'str';
  return 'object';
}

const NUMPY_NAME: Record<string, string> = {
  boolean: 'bool', integer: 'int32', long: 'int64', float: 'float32', double: 'float64', string: '<U0', binary: '|S0',
  datetime: 'datetime64[ns]',
};

const INT_HINT =
  ' Hint: the type mismatch is likely caused by missing values. Integer columns in python can not represent ' +
  'missing values and are therefore encoded as floats. The best way to avoid this problem is to infer the model ' +
  'schema based on a realistic data sample (training dataset) that includes missing values. Alternatively, you can ' +
  'declare integer columns as doubles (float64) whenever these columns may have missing values. See `Handling ' +
  'Integers With Missing Values <https://www.mlflow.org/docs/latest/models.html#handling-integers-with-missing-values>`_ ' +
  'for more details.';

/** `_enforce_mlflow_datatype`: a whole column against a scalar DataType. */
function enforceColumn(name: ColumnName, values: unknown[], t: DataType): unknown[] {
  const dtype = columnDtype(values);
  const numbers = values.filter((v) => !isMissing(v)) as number[];
  switch (t.name) {
    case 'string':
      if (dtype === 'object' || dtype === 'str') return values; // MLflow passes object columns as strings unchecked
      break;
    case 'binary':
      if (dtype === 'object' || dtype === 'str') return values;
      break;
    case 'boolean':
      if (dtype === 'bool' || dtype === 'object') return values; // object: left as is, like MLflow
      break;
    case 'long':
      if (dtype === 'int64') return values;
      break;
    case 'integer':
      if (dtype === 'int64' && numbers.every((v) => typeof v !== 'number' || Math.abs(v) <= 2 ** 31)) return values;
      break;
    case 'float':
    case 'double':
      if (dtype === 'int64' || dtype === 'float64') return values.map((v) => (typeof v === 'bigint' ? Number(v) : v));
      break;
    case 'datetime':
      if (dtype === 'datetime64[ns]') return values;
      if (dtype === 'object') {
        return values.map((v) => {
          if (isMissing(v)) return null;
          const d = toDatetime(v);
          if (!d) throw new MlflowException(`Failed to convert column ${String(name)} from type object to ${t}.`);
          return d;
        });
      }
      break;
  }
  const hint = dtype === 'float64' && (t === DataType.integer || t === DataType.long) && values.some(isMissing) &&
    numbers.every((v) => Number.isInteger(v)) ? INT_HINT : '';
  throw new MlflowException(
    `Incompatible input types for column ${String(name)}. Can not safely convert ${dtype} to ${NUMPY_NAME[t.name]}.${hint}`,
  );
}

function enforceColSpec(name: ColumnName, values: unknown[], spec: ColSpec): unknown[] {
  if (spec.type instanceof DataType) return enforceColumn(name, values, spec.type);
  return values.map((cell) => enforceType(cell, spec.type, spec.required));
}

function enforceColumnSchema(frame: Frame, schema: Schema): ColumnTable {
  const table: ColumnTable = {};
  if (schema.hasInputNames()) {
    for (const spec of schema.inputs as ColSpec[]) {
      const values = frame.cells.get(String(spec.name));
      if (values === undefined) {
        if (spec.required) {
          throw new MlflowException(
            `The input column '${String(spec.name)}' is required by the model signature but missing from the input data.`,
          );
        }
        continue;
      }
      table[String(spec.name)] = enforceColSpec(spec.name!, values, spec);
    }
    return table;
  }
  frame.columns.slice(0, schema.inputs.length).forEach((col, i) => {
    table[String(col)] = enforceColSpec(col, frame.cells.get(String(col))!, schema.inputs[i] as ColSpec);
  });
  return table;
}

interface TensorInfo {
  shape: number[];
  dtype: string;
  /** Built from JS numbers, which have no width: any numeric dtype may be asked for. */
  untypedNumbers: boolean;
}

/** Shape and numpy dtype of a typed array or nested JS arrays (ragged → 1-D object array, like numpy). */
function tensorInfo(value: unknown): TensorInfo {
  if (isTensorArray(value)) return { shape: [value.length], dtype: typedArrayDtype(value), untypedNumbers: false };
  const shape: number[] = [];
  let level: unknown = value;
  while (Array.isArray(level) || isTensorArray(level)) {
    shape.push((level as ArrayLike<unknown>).length);
    level = (level as ArrayLike<unknown>)[0];
  }
  const leaves: unknown[] = [];
  const typed = new Set<string>();
  let rectangular = true;
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(v) || isTensorArray(v)) rectangular = false;
      else leaves.push(v);
      return;
    }
    if (isTensorArray(v)) {
      if (depth !== shape.length - 1 || v.length !== shape[depth]) rectangular = false;
      typed.add(typedArrayDtype(v));
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      rectangular = false;
      return;
    }
    for (const item of v) walk(item, depth + 1);
  };
  walk(value, 0);
  if (!rectangular) return { shape: [shape[0] ?? 0], dtype: 'object', untypedNumbers: false };
  if (typed.size > 0) return { shape, dtype: typed.size === 1 && leaves.length === 0 ? [...typed][0] : 'object', untypedNumbers: false };
  let dtype = 'object';
  if (leaves.every((v) => typeof v === 'boolean')) dtype = 'bool';
  else if (leaves.every((v) => typeof v === 'number')) dtype = leaves.every((v) => Number.isInteger(v)) ? 'int64' : 'float64';
  else if (leaves.every((v) => typeof v === 'string')) dtype = 'str';
  else if (leaves.every((v) => v instanceof Uint8Array)) dtype = 'bytes';
  return { shape, dtype, untypedNumbers: dtype === 'int64' || dtype === 'float64' };
}

/** `_enforce_tensor_spec`: shape (with -1 wildcards) and dtype. */
function enforceTensorSpec(value: unknown, spec: TensorSpec): unknown {
  const { shape, dtype, untypedNumbers } = tensorInfo(value);
  const expected = spec.shape;
  if (expected.length === 1 && expected[0] === -1 && spec.type === 'object') return value;
  if (expected.length > 1 && expected.slice(1).includes(-1) && shape.length === 1 && dtype === 'object') return value;
  const mismatch = () =>
    new MlflowException(`Shape of input ${pyTupleRepr(shape)} does not match expected shape ${pyTupleRepr(expected)}.`);
  if (shape.length !== expected.length) throw mismatch();
  expected.forEach((d, i) => {
    if (d !== -1 && d !== shape[i]) throw mismatch();
  });
  if (dtype === spec.type) return value;
  if (untypedNumbers && (/^float/.test(spec.type) || (/^u?int/.test(spec.type) && dtype === 'int64'))) return value;
  throw new MlflowException(`dtype of input ${dtype} does not match expected dtype ${spec.type}`);
}

const isArrayLike = (v: unknown) => Array.isArray(v) || isTensorArray(v);

function pyClassOf(value: unknown): string {
  return `<class '${pyTypeName(value)}'>`;
}

function enforceTensorSchema(data: unknown, schema: Schema): unknown {
  const specs = schema.inputs as TensorSpec[];
  if (schema.hasInputNames()) {
    if (!isPlainObject(data)) {
      throw MlflowException.invalidParameterValue(
        'This model contains a tensor-based model signature with input names, which suggests a dictionary input mapping input name to tensor, or a pandas DataFrame input containing columns mapping input name to flattened list value from tensor, but an input of type ' +
          `${pyClassOf(data)} was found.`,
      );
    }
    const out: Record<string, unknown> = {};
    for (const spec of specs) {
      const value = data[spec.name!];
      if (!isArrayLike(value)) {
        throw MlflowException.invalidParameterValue(
          `This model contains a tensor-based model signature with input names, which suggests a dictionary input mapping input name to a numpy array, but a dict with value type ${pyClassOf(value)} was found.`,
        );
      }
      out[spec.name!] = enforceTensorSpec(value, spec);
    }
    return out;
  }
  if (!isArrayLike(data)) {
    throw MlflowException.invalidParameterValue(
      'This model contains a tensor-based model signature with no input names, which suggests a numpy array input or a pandas dataframe input with proper column values, but an input of type ' +
        `${pyClassOf(data)} was found.`,
    );
  }
  return enforceTensorSpec(data, specs[0]);
}

/** `_enforce_schema` without the outer wrapping. */
function enforceSchema(data: unknown, schema: Schema, onWarning: WarningSink): PyfuncInput {
  let input = data;
  let frame: Frame | undefined;
  if (!schema.isTensorSpec()) frame = toFrame(input, schema);
  if (schema.hasInputNames()) {
    const required = schema.requiredInputNames();
    const optional = new Set(schema.optionalInputNames().map(String));
    let actual: ColumnName[] = [];
    if (required.length === 1 && schema.inputs.length === 1 && schema.isTensorSpec() && isArrayLike(input)) {
      input = { [String(required[0])]: input };
      actual = required;
    } else if (frame) actual = frame.columns;
    else if (isPlainObject(input)) actual = Object.keys(input);
    const actualSet = new Set(actual.map(String));
    const requiredSet = new Set(required.map(String));
    const missing = required.filter((c) => !actualSet.has(String(c)));
    const extra = actual.filter((c) => !requiredSet.has(String(c)) && !optional.has(String(c)));
    if (missing.length > 0) {
      let message = `Model is missing inputs ${pyRepr(missing)}.`;
      if (extra.length > 0) message += ` Note that there were extra inputs: ${pyRepr(extra)}.`;
      throw new MlflowException(message);
    }
    if (extra.length > 0) {
      onWarning(
        `Found extra inputs in the model input that are not defined in the model signature: \`${pyRepr(extra)}\`. These inputs will be ignored.`,
      );
    }
  } else if (frame && frame.columns.length < schema.inputs.length) {
    throw new MlflowException(
      `Model inference is missing inputs. The model signature declares ${schema.inputs.length} inputs  but the provided value only has ${frame.columns.length} inputs. Note: the inputs were not named in the signature so we can only verify their count.`,
    );
  }
  return frame ? enforceColumnSchema(frame, schema) : enforceTensorSchema(input, schema);
}

/**
 * Check and convert a predict input against the model's input schema, as `PyFuncModel.predict` does.
 * Any failure is an MlflowException INVALID_PARAMETER_VALUE:
 * `Failed to enforce schema of data '<data>' with schema '<schema>'. Error: <reason>`.
 */
export function enforceInput(data: unknown, schema: Schema, options: EnforceOptions = {}): PyfuncInput {
  try {
    return enforceSchema(data, schema, options.onWarning ?? emitMlflowWarning);
  } catch (error) {
    if (!(error instanceof MlflowException)) throw error;
    throw MlflowException.invalidParameterValue(
      `Failed to enforce schema of data '${pyStr(data)}' with schema '${schema.repr()}'. Error: ${error.message}`,
      { cause: error, errorClass: 'SCHEMA_ENFORCEMENT_FAILED' },
    );
  }
}

/**
 * `_enforce_params_schema`: unknown params dropped with a warning, missing ones filled with their
 * defaults, the rest validated and converted. Without a param schema every param is dropped (warning).
 */
export function enforceParams(
  params: unknown,
  schema?: ParamSchema | null,
  options: EnforceOptions = {},
): Record<string, unknown> {
  const onWarning = options.onWarning ?? emitMlflowWarning;
  if (!schema) {
    if (params === null || params === undefined || (isPlainObject(params) && Object.keys(params).length === 0)) return {};
    const info = isPlainObject(params)
      ? `Ignoring provided params: ${pyRepr(Object.keys(params))}`
      : 'Ignoring invalid params (not a dictionary).';
    onWarning(
      `\`params\` can only be specified at inference time if the model signature defines a params schema. This model does not define a params schema. ${info}`,
    );
    return {};
  }
  const given = params === null || params === undefined ? {} : params;
  if (!isPlainObject(given)) {
    throw MlflowException.invalidParameterValue(`Parameters must be a dictionary. Got type '${pyTypeName(given)}'.`);
  }
  const allowed = new Set(schema.params.map((p) => p.name));
  const ignored = Object.keys(given).filter((k) => !allowed.has(k));
  if (ignored.length > 0) {
    onWarning(
      `Unrecognized params ${pyRepr(ignored)} are ignored for inference. Supported params are: ${pySet([...allowed])}. To enable them, please add corresponding schema in ModelSignature.`,
    );
  }
  const out: Record<string, unknown> = {};
  const invalid: string[] = [];
  for (const spec of schema.params) {
    if (!(spec.name in given) || given[spec.name] === undefined) {
      out[spec.name] = spec.default;
      continue;
    }
    try {
      out[spec.name] = spec.validate(given[spec.name]);
    } catch (error) {
      if (!(error instanceof MlflowException)) throw error;
      invalid.push(`(${pyRepr(spec.name)}, ${pyRepr(error.message)})`);
    }
  }
  if (invalid.length > 0) throw MlflowException.invalidParameterValue(`Invalid parameters found: {${invalid.join(', ')}}`);
  return out;
}
