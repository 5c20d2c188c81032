/**
 * Signature inference from example data (`mlflow/types/utils.py`: `_infer_schema`,
 * `_infer_datatype`, `_infer_param_schema`; `mlflow/models/signature.py`: `infer_signature`).
 *
 * JS values map to MLflow types as Python values do: string → string, integral number → long, other
 * number → double, boolean, Uint8Array/Buffer → binary, Date → datetime, null/NaN/[]/{} → Any, plain
 * object → Object, array → Array (or one row per object for a list of objects), and the other typed
 * arrays (Float32Array, Int32Array, ...) → TensorSpec, as numpy arrays do.
 */
import { MlflowException } from '../errors.js';
import { ModelSignature } from './model-signature.js';
import { pyRepr, pyTypeName } from '../pycompat/repr.js';
import { ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec } from './schema.js';
import { AnyType, ArrayType, DataType, ObjectType, Property, type SchemaType, isRecord, maxOf } from './types.js';
import { isScalar } from './values.js';

export type WarningSink = (message: string) => void;

/** Default for MLflow's `_logger.warning` / `warnings.warn`: a Node process warning. */
export const emitMlflowWarning: WarningSink = (message) => process.emitWarning(message, { type: 'MlflowWarning' });

const MULTIPLE_TYPES_ERROR_MSG =
  'Expected all values in the list to be of the same type. To specify a model signature with a list containing ' +
  'elements of multiple types, define the signature manually using the Array(AnyType()) type from mlflow.models.schema.';

const INTEGER_COLUMNS_HINT =
  'Hint: Inferred schema contains integer column(s). Integer columns in Python cannot represent missing values. ' +
  'If your input data contains missing values at inference time, it will be encoded as floats and will cause a ' +
  'schema enforcement error. The best way to avoid this problem is to infer the model schema based on a realistic ' +
  'data sample (training dataset) that includes missing values. Alternatively, you can declare integer columns as ' +
  'doubles (float64) whenever these columns may have missing values. See `Handling Integers With Missing Values ' +
  '<https://www.mlflow.org/docs/latest/models.html#handling-integers-with-missing-values>`_ for more details.';

type NumericTypedArray =
  | Int8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array
  | Float64Array | BigInt64Array | BigUint64Array;

/** Typed arrays other than Uint8Array (which is bytes) play numpy's ndarray. */
export function isTensorArray(value: unknown): value is NumericTypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof Uint8Array) && !(value instanceof DataView);
}

/** numpy dtype name of a typed array. */
export function typedArrayDtype(value: NumericTypedArray): string {
  if (value instanceof Uint8ClampedArray) return 'uint8';
  if (value instanceof BigInt64Array) return 'int64';
  if (value instanceof BigUint64Array) return 'uint64';
  return value.constructor.name.replace(/Array$/, '').toLowerCase();
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && !(value instanceof Date) && !ArrayBuffer.isView(value);
}

function isNoneOrNaN(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));
}

/** `_infer_scalar_datatype`. */
function inferScalarDatatype(data: unknown): DataType {
  if (typeof data === 'boolean') return DataType.boolean;
  if (typeof data === 'bigint') return DataType.long;
  if (typeof data === 'number') return Number.isInteger(data) ? DataType.long : DataType.double;
  if (typeof data === 'string') return DataType.string;
  if (data instanceof Uint8Array) return DataType.binary;
  if (data instanceof Date) return DataType.datetime;
  throw MlflowException.invalidParameterValue(`Data ${pyRepr(data)} is not one of the supported DataType`);
}

/** The type of one element of a typed array, as numpy scalars map (`np.float32` → float, ...). */
function typedArrayItemType(value: NumericTypedArray): DataType {
  const dtype = typedArrayDtype(value);
  const mapped: Record<string, DataType> = { float32: DataType.float, float64: DataType.double, int32: DataType.integer, int64: DataType.long };
  const t = mapped[dtype];
  if (!t) throw MlflowException.invalidParameterValue(`Data ${value[0]} is not one of the supported DataType`);
  return t;
}

/** `_infer_datatype`: dict → Object, list → Array, scalar → DataType, null/empty → Any. */
export function inferDatatype(data: unknown): SchemaType {
  if (isNoneOrNaN(data) || (Array.isArray(data) && data.length === 0) || (isPlainObject(data) && Object.keys(data).length === 0)) {
    return new AnyType();
  }
  if (isTensorArray(data)) return data.length === 0 ? new AnyType() : new ArrayType(typedArrayItemType(data));
  if (isPlainObject(data)) {
    return new ObjectType(
      Object.entries(data).map(([k, v]) => {
        const dtype = inferDatatype(v);
        return new Property(k, dtype, !(dtype instanceof AnyType));
      }),
    );
  }
  if (Array.isArray(data)) return inferArrayDatatype(data);
  return inferScalarDatatype(data);
}

function inferArrayDatatype(data: readonly unknown[]): ArrayType {
  let result: ArrayType | undefined;
  for (const item of data) {
    const dtype = inferDatatype(item);
    if (!result) {
      result = new ArrayType(dtype);
    } else if (!(result.dtype instanceof DataType)) {
      try {
        result = new ArrayType(result.dtype.merge(dtype as never));
      } catch (error) {
        throw MlflowException.invalidParameterValue(MULTIPLE_TYPES_ERROR_MSG, { cause: error });
      }
    } else if (!(dtype instanceof AnyType) && dtype !== result.dtype) {
      throw MlflowException.invalidParameterValue(MULTIPLE_TYPES_ERROR_MSG);
    }
  }
  return result!;
}

function inferRequired(value: unknown): boolean {
  if (Array.isArray(value)) return !value.some(isNoneOrNaN);
  return !isNoneOrNaN(value);
}

/** `_infer_schema` for the JS shapes listed in the module comment. */
export function inferSchema(data: unknown, onWarning: WarningSink = emitMlflowWarning): Schema {
  let schema: Schema;
  if (Array.isArray(data) && data.length === 0) return new Schema([new ColSpec(DataType.string)]);
  if (Array.isArray(data) && data.every(isPlainObject)) {
    const columns = new Map<string, unknown[]>();
    for (const row of data) for (const [k, v] of Object.entries(row)) columns.set(k, [...(columns.get(k) ?? []), v]);
    schema = new Schema(
      [...columns].map(([name, values]) => {
        const required = data.every((row) => row[name] !== null && row[name] !== undefined);
        return new ColSpec(inferArrayDatatype(values).dtype, name, required);
      }),
    );
  } else if (isPlainObject(data)) {
    const values = Object.values(data);
    if (values.length > 0 && values.every(isTensorArray)) {
      schema = new Schema(
        Object.entries(data).map(([name, arr]) => new TensorSpec(typedArrayDtype(arr as NumericTypedArray), [-1], name)),
      );
    } else {
      schema = new Schema(
        Object.entries(data).map(([name, value]) => new ColSpec(inferDatatype(value), name, inferRequired(value))),
      );
    }
  } else if (isTensorArray(data)) {
    schema = new Schema([new TensorSpec(typedArrayDtype(data), [-1])]);
  } else if (Array.isArray(data)) {
    schema = new Schema([new ColSpec(inferArrayDatatype(data).dtype)]);
  } else {
    try {
      schema = new Schema([new ColSpec(inferDatatype(data))]);
    } catch (error) {
      throw MlflowException.invalidParameterValue(
        'Failed to infer schema. Expected one of the following types:\n- pandas.DataFrame\n- pandas.Series\n' +
          '- numpy.ndarray\n- dictionary of (name -> numpy.ndarray)\n- pyspark.sql.DataFrame\n- scipy.sparse.csr_matrix\n' +
          '- scipy.sparse.csc_matrix\n- DataType\n- List[DataType]\n- Dict[str, Union[DataType, List, Dict]]\n' +
          `- List[Dict[str, Union[DataType, List, Dict]]]\nbut got '${String(data)}'.\nError: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  if (!schema.isTensorSpec() && schema.inputs.some((x) => x.type === DataType.integer || x.type === DataType.long)) {
    onWarning(INTEGER_COLUMNS_HINT);
  }
  return schema;
}

/** numpy's dtype for `np.array(list)`, reduced to the DataType MLflow derives from it. */
function listParamType(value: readonly unknown[]): DataType {
  if (value.length > 0 && value.every((v) => v instanceof Date)) return DataType.datetime;
  if (value.some((v) => typeof v === 'string')) return DataType.string;
  if (value.length > 0 && value.every((v) => typeof v === 'boolean')) return DataType.boolean;
  if (value.length > 0 && value.every((v) => v instanceof Uint8Array)) return DataType.binary;
  if (value.every((v) => typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint')) {
    return value.every((v) => typeof v !== 'number' || Number.isInteger(v)) && value.length > 0 ? DataType.long : DataType.double;
  }
  throw new MlflowException('Can not infer object without looking at the values, call _map_numpy_array instead.');
}

function arrayDepth(value: unknown): number {
  return Array.isArray(value) ? (value.length ? maxOf(value.map(arrayDepth)) + 1 : 1) : 0;
}

/** `_infer_type_and_shape` for one param value. */
function inferParamTypeAndShape(value: unknown): [DataType | ObjectType, [-1] | null] {
  if (Array.isArray(value)) {
    const depth = arrayDepth(value);
    if (depth !== 1) {
      throw MlflowException.invalidParameterValue(`Expected parameters to be 1D array or scalar, got ${depth}D array`);
    }
    return [listParamType(value), [-1]];
  }
  if (value instanceof Date) return [DataType.datetime, null];
  if (isScalar(value)) return [inferScalarDatatype(value), null];
  if (isPlainObject(value)) {
    const type = (inferSchema({ value }, () => {}).inputs[0] as ColSpec).type;
    if (!(type instanceof ObjectType)) throw new MlflowException(`'dtype' must be DataType, Object or str, got ${type.repr()}`);
    return [type, null];
  }
  throw MlflowException.invalidParameterValue(`Expected parameters to be 1D array or scalar, got ${pyTypeName(value)}`);
}

/** `_infer_param_schema`: one ParamSpec per entry, the value becoming the default. */
export function inferParamSchema(params: unknown): ParamSchema {
  if (!isPlainObject(params)) {
    throw MlflowException.invalidParameterValue(`Expected parameters to be dict, got ${pyTypeName(params)}`);
  }
  const specs: ParamSpec[] = [];
  const invalid: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    try {
      const [type, shape] = inferParamTypeAndShape(value);
      specs.push(new ParamSpec(name, type, structuredClone(value), shape));
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      invalid.push(`(${pyRepr(name)}, ${pyRepr(value)}, ${error instanceof MlflowException ? 'MlflowException' : error.name}(${pyRepr(error.message)}))`);
    }
  }
  if (invalid.length > 0) {
    throw MlflowException.invalidParameterValue(`Failed to infer schema for parameters: [${invalid.join(', ')}]`);
  }
  return new ParamSchema(specs);
}

export interface InferSignatureOptions {
  /** Receives MLflow's warnings (failed inference of one side, integer-column hint). Default: process.emitWarning. */
  onWarning?: WarningSink;
}

/**
 * `mlflow.models.infer_signature(model_input, model_output, params)`. As in MLflow, a side whose schema
 * cannot be inferred is left out with a warning; invalid params throw.
 */
export function inferSignature(
  modelInput?: unknown,
  modelOutput?: unknown,
  params?: Record<string, unknown> | null,
  options: InferSignatureOptions = {},
): ModelSignature {
  const onWarning = options.onWarning ?? emitMlflowWarning;
  const side = (data: unknown, which: string): Schema | undefined => {
    if (data === undefined || data === null) return undefined;
    try {
      return inferSchema(data, onWarning);
    } catch (error) {
      if (!(error instanceof MlflowException)) throw error;
      onWarning(`Failed to infer the model signature from the ${which}: ${error.message}`);
      return undefined;
    }
  };
  const inputs = side(modelInput, 'input example');
  const outputs = side(modelOutput, 'model output');
  const paramSchema = params && Object.keys(params).length > 0 ? inferParamSchema(params) : undefined;
  return new ModelSignature({ inputs, outputs, params: paramSchema });
}
