/**
 * Input examples (`mlflow/models/utils.py` `_Example`, `_read_example`): `input_example.json` and
 * `serving_input_example.json` written as MLflow 2.16+ writes them, and every stored form read back
 * (json_object, ndarray incl. the pre-2.16 tf-serving wrapper, dataframe split/values orient, sparse).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MlflowException } from './errors.js';
import type { MLModel } from './mlmodel.js';
import { inferParamSchema, isTensorArray } from './signature/infer.js';
import { pyIsoformat } from './pycompat/repr.js';
import { pyJsonDumps, pyJsonLoads } from './pycompat/json.js';
import { ColSpec, type Schema } from './signature/schema.js';
import { DataType, isRecord } from './signature/types.js';
import { isScalar } from './signature/values.js';

export const INPUT_EXAMPLE_FILENAME = 'input_example.json';
export const SERVING_INPUT_FILENAME = 'serving_input_example.json';
const LOADABLE_TYPES = ['dataframe', 'ndarray', 'sparse_matrix_csc', 'sparse_matrix_csr', 'json_object'];
/** Top-level keys that make a dict a unified LLM request, served without an `inputs` wrapper. */
const UNIFIED_LLM_KEYS = ['messages', 'prompt', 'input'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && !(value instanceof Date) && !ArrayBuffer.isView(value);
}

/** Python `base64.encodebytes`: 76-character lines, each ending in a newline. */
function encodebytes(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString('base64');
  return b64.length === 0 ? '' : `${b64.match(/.{1,76}/g)!.join('\n')}\n`;
}

/** What MLflow's NumpyEncoder does to values JSON cannot hold. */
function jsonable(value: unknown): unknown {
  if (value instanceof Uint8Array) return encodebytes(value);
  if (value instanceof Date) return pyIsoformat(value);
  if (isTensorArray(value)) return Array.from(value as ArrayLike<number | bigint>);
  if (Array.isArray(value)) return value.map(jsonable);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonable(v)]));
  return value;
}

/** ndarray examples write NaN as null (`_handle_ndarray_nans`). */
function tensorToList(value: ArrayLike<unknown>): unknown[] {
  return Array.from(value, (v) => (typeof v === 'number' && Number.isNaN(v) ? null : v));
}

interface PreparedExample {
  info: Record<string, unknown>;
  example: unknown;
  serving: unknown;
}

function prepare(example: unknown, params?: Record<string, unknown>): PreparedExample {
  const info: Record<string, unknown> = { artifact_path: INPUT_EXAMPLE_FILENAME };
  if (params !== undefined && params !== null) {
    inferParamSchema(params); // `_validate_params`: the example's params must be valid params
    if (Object.keys(params).length > 0) info.params = 'true';
  }
  let data: unknown;
  let serving: Record<string, unknown>;
  let unified = false;
  if (isPlainObject(example)) {
    const values = Object.values(example);
    if (values.some(isTensorArray)) {
      if (!values.every(isTensorArray)) {
        throw MlflowException.invalidParameterValue(
          'Mixed types in dictionary are not supported as input examples. Found numpy arrays and other types.',
        );
      }
      info.type = 'ndarray';
      data = Object.fromEntries(Object.entries(example).map(([k, v]) => [k, tensorToList(v as ArrayLike<unknown>)]));
      serving = { inputs: data };
    } else {
      info.type = 'json_object';
      data = example;
      unified = UNIFIED_LLM_KEYS.some((k) => k in example);
      serving = unified ? { ...example } : { inputs: example };
    }
  } else if (isTensorArray(example)) {
    info.type = 'ndarray';
    data = tensorToList(example as ArrayLike<unknown>);
    serving = { inputs: data };
  } else if (Array.isArray(example)) {
    const containsTensor = (v: unknown): boolean =>
      isTensorArray(v) || (Array.isArray(v) && v.some(containsTensor)) || (isPlainObject(v) && Object.values(v).some(containsTensor));
    if (containsTensor(example)) {
      throw new MlflowException(
        'Multidimensional arrays (aka tensors) are not supported. Numpy arrays in list are not supported as input examples.',
      );
    }
    info.type = 'json_object';
    data = example;
    serving = { inputs: example };
  } else if (isScalar(example) || example instanceof Date) {
    info.type = 'json_object';
    data = example;
    serving = { inputs: example };
  } else {
    throw MlflowException.invalidParameterValue(
      'Expected one of the following types:\n- pandas.DataFrame\n- numpy.ndarray\n- dictionary of (name -> numpy.ndarray)\n' +
        '- scipy.sparse.csr_matrix\n- scipy.sparse.csc_matrix\n- dict\n- list\n- scalars\n- datetime.datetime\n' +
        `- pydantic model instance\nbut got '${example === null ? "<class 'NoneType'>" : typeof example}'`,
    );
  }
  if (info.params) {
    data = { inputs: data, params };
    serving = unified ? { ...serving, ...params } : { ...serving, params };
  }
  info.serving_input_path = SERVING_INPUT_FILENAME;
  return { info, example: data, serving };
}

/** The two file texts MLflow writes for an example (no trailing newline in either). */
export function inputExampleFiles(
  example: unknown,
  params?: Record<string, unknown>,
): { info: Record<string, unknown>; inputExample: string; servingInput: string } {
  const prepared = prepare(example, params);
  return {
    info: prepared.info,
    inputExample: pyJsonDumps(jsonable(prepared.example)),
    servingInput: pyJsonDumps(jsonable(prepared.serving), { indent: 2 }),
  };
}

/**
 * Write `input_example.json` and `serving_input_example.json` into `dir` and return the
 * `saved_input_example_info` to put in MLmodel. `params` become `{"inputs": ..., "params": ...}`.
 */
export async function saveInputExample(
  dir: string,
  example: unknown,
  params?: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const files = inputExampleFiles(example, params);
  await writeFile(path.join(dir, INPUT_EXAMPLE_FILENAME), files.inputExample, 'utf8');
  await writeFile(path.join(dir, SERVING_INPUT_FILENAME), files.servingInput, 'utf8');
  return files.info;
}

/** A file named by MLmodel, refusing names that leave the model directory. */
async function readModelFile(dir: string, name: unknown): Promise<string> {
  if (typeof name !== 'string' || name === '' || path.isAbsolute(name) || name.split(/[\\/]/).includes('..')) {
    throw MlflowException.invalidParameterValue(`Invalid input example path in MLmodel: ${JSON.stringify(name)}`);
  }
  try {
    return await readFile(path.join(dir, name), 'utf8');
  } catch (error) {
    throw new MlflowException(`Could not read the input example file "${path.join(dir, name)}": ${(error as Error).message}`,
      'RESOURCE_DOES_NOT_EXIST', { cause: error });
  }
}

async function readExampleJson(dir: string, mlmodel: MLModel): Promise<unknown | undefined> {
  const info = mlmodel.savedInputExampleInfo;
  if (!info) return undefined;
  if (!LOADABLE_TYPES.includes(info.type as string)) {
    throw new MlflowException(`This version of mlflow can not load example of type ${String(info.type)}`);
  }
  const text = await readModelFile(dir, info.artifact_path ?? INPUT_EXAMPLE_FILENAME);
  try {
    return pyJsonLoads(text);
  } catch (error) {
    throw MlflowException.invalidParameterValue(`The input example file is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** `parse_tf_serving_input`: `{"inputs": ...}` as is, `{"instances": [records]}` turned into columns. */
function unwrapTfServing(data: unknown): unknown {
  if (!isPlainObject(data)) return data;
  if ('inputs' in data) return data.inputs;
  if ('instances' in data) {
    const rows = data.instances;
    if (Array.isArray(rows) && rows.length > 0 && rows.every(isPlainObject)) {
      return Object.fromEntries(Object.keys(rows[0]).map((k) => [k, rows.map((r) => r[k])]));
    }
    return rows;
  }
  return data;
}

/** Cast split-orient cells like `dataframe_from_parsed_json(schema=...)`: base64 binary, datetime text. */
function castCell(value: unknown, spec: ColSpec | undefined): unknown {
  if (!spec || value === null || value === undefined) return value;
  if (spec.type === DataType.binary && typeof value === 'string') return new Uint8Array(Buffer.from(value, 'base64'));
  if (spec.type === DataType.datetime && typeof value === 'string') {
    const d = new Date(/[Zz]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
    return Number.isNaN(d.getTime()) ? value : d;
  }
  return value;
}

/** A split/values-orient DataFrame as rows: records when it has columns, lists of values otherwise. */
function dataframeRows(data: unknown, schema?: Schema): unknown {
  if (!isPlainObject(data) || !Array.isArray(data.data)) {
    throw MlflowException.invalidParameterValue("Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields.");
  }
  const specs = new Map(
    (schema && !schema.isTensorSpec() ? (schema.inputs as ColSpec[]) : []).map((s, i) => [String(s.name ?? i), s]),
  );
  const columns = Array.isArray(data.columns) ? data.columns : undefined;
  return (data.data as unknown[][]).map((row) => {
    if (!columns) return row.map((v, i) => castCell(v, specs.get(String(i))));
    return Object.fromEntries(columns.map((c, i) => [String(c), castCell(row[i], specs.get(String(c)))]));
  });
}

/**
 * The stored example as JS data (`_read_example`): json_object as is; ndarray as nested lists (a dict
 * of them for named tensors); dataframe as a list of row records (or of value lists without columns);
 * sparse matrices as their `{data, indices, indptr, shape}` dict. Undefined when the model has none.
 */
export async function loadInputExample(dir: string, mlmodel: MLModel): Promise<unknown | undefined> {
  let example = await readExampleJson(dir, mlmodel);
  if (example === undefined) return undefined;
  const info = mlmodel.savedInputExampleInfo!;
  if (info.params && isPlainObject(example)) example = example.inputs;
  switch (info.type) {
    case 'ndarray':
      return unwrapTfServing(example);
    case 'dataframe':
      return dataframeRows(example, mlmodel.signature?.inputs);
    default:
      return example;
  }
}

/** The params saved with the example (`_read_example_params`), or undefined. */
export async function loadInputExampleParams(dir: string, mlmodel: MLModel): Promise<Record<string, unknown> | undefined> {
  if (!mlmodel.savedInputExampleInfo?.params) return undefined;
  const example = await readExampleJson(dir, mlmodel);
  return isPlainObject(example) && isPlainObject(example.params) ? example.params : undefined;
}

/** The raw `serving_input_example.json` text, or undefined when the model has none. */
export async function loadServingInputExample(dir: string, mlmodel: MLModel): Promise<string | undefined> {
  const name = mlmodel.savedInputExampleInfo?.serving_input_path;
  return name === undefined || name === null ? undefined : readModelFile(dir, name);
}
