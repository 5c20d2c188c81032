import { MlflowException } from '../../mlflow/errors.js';
import { ArrayType, ColSpec, MapType, ObjectType, type ModelSignature, type Schema } from '../../mlflow/signature/index.js';
import { pyRepr, pyTypeName } from '../../mlflow/pycompat/repr.js';
import { isRecord } from '../../mlflow/signature/types.js';
import { enforceType, isScalar, pyClass } from '../../mlflow/signature/values.js';
import { jsonTooDeep, MAX_JSON_DEPTH } from '../json-depth.js';
import { CONTENT_TYPE_JSON, SCORING_PROTOCOL_CHANGE_INFO } from './content-type.js';
import { frameFromCsv } from './csv.js';
import { checkFrameSize, frameFromList, frameFromRecords, frameFromSplit, invalidInput, toModelInput } from './frame.js';

/**
 * JSON bodies of `/invocations` (mlflow-format.md §7.4, `scoring_server/__init__.py` and
 * `proto_json_utils.py`): the unified LLM form, or exactly one of the four classic input keys plus
 * optional `params`. The result is what `PyFuncModel.predict(data, params)` receives.
 */

export interface Invocation {
  data: unknown;
  params: unknown;
  /** The unified LLM form: the response is not wrapped in `predictions`. */
  unified: boolean;
}

const FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
const LLM_KEYS = ['messages', 'prompt', 'input'];
const REQUIRED_INPUT_FORMAT = `The input must be a JSON dictionary with exactly one of the input fields {${FORMATS.map((f) => `'${f}'`).join(', ')}}`;
const ECHO_LIMIT = 1000;

function decode(text: string): Record<string, unknown> {
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch (err) {
    // MLflow echoes the whole input; a megabyte of it helps nobody, so the echo is cut.
    // MLflow prints the body as Python bytes (b'...'); the error text itself is the JS parser's.
    const echo = pyRepr(Buffer.from(text.length > ECHO_LIMIT ? text.slice(0, ECHO_LIMIT) : text, 'utf8'));
    const cut = text.length > ECHO_LIMIT ? `... (${text.length} characters)` : '';
    throw invalidInput(`Ensure that input is a valid JSON formatted string. Error: 'JSONDecodeError(${pyRepr((err as Error).message)})'\nInput: \n${echo}${cut}\n`);
  }
  if (Array.isArray(decoded)) throw invalidInput(`${REQUIRED_INPUT_FORMAT}. Received a list.`);
  if (!isRecord(decoded)) throw invalidInput(`${REQUIRED_INPUT_FORMAT}. Received unexpected input type '${pyClass(decoded)}.`);
  return decoded;
}

const hasComplexColumn = (schema: Schema) =>
  schema.inputs.some((s) => s instanceof ColSpec && (s.type instanceof ArrayType || s.type instanceof ObjectType));

/**
 * A dict of columns (`inputs`). MLflow makes each value a numpy array, so lists are columns of rows; our
 * predict reads a dict of string lists as one row (as MLflow does for plain Python lists), so columns of a
 * scalar-typed schema are turned into rows here. With Array/Object columns the dict is one row, as in MLflow.
 */
function columnsInput(columns: Record<string, unknown>, schema: Schema): unknown {
  const lists = Object.values(columns).filter(Array.isArray);
  if (lists.length === 0 || hasComplexColumn(schema)) return columns;
  const lengths = new Set(lists.map((l) => l.length));
  if (lengths.size > 1) {
    throw MlflowException.invalidParameterValue(
      'This model contains a column-based signature, which suggests a DataFrame input. There was an error casting the input data to a DataFrame: All arrays must be of the same length',
    );
  }
  const [length] = lengths;
  const entries = Object.entries(columns);
  checkFrameSize(length, entries.length);
  return Array.from({ length }, (_, i) => Object.fromEntries(entries.map(([k, v]) => [k, Array.isArray(v) ? v[i] : v])));
}

/**
 * `convert_data_type` of `_cast_schema_type`: Array, Object and Map columns are enforced while the payload
 * is parsed, so a bad nested value is a BAD_REQUEST 'Invalid input.' as in MLflow, not a predict failure.
 */
function castComplexColumns(input: unknown, schema: Schema): unknown {
  const specs = new Map(
    schema.inputs.flatMap((s) => (s instanceof ColSpec && s.name !== undefined && (s.type instanceof ArrayType || s.type instanceof ObjectType || s.type instanceof MapType) ? [[String(s.name), s] as const] : [])),
  );
  if (specs.size === 0) return input;
  const cast = (row: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => {
      const spec = specs.get(k);
      if (!spec) return [k, v];
      try {
        return [k, enforceType(v, spec.type, spec.required)];
      } catch (err) {
        if (err instanceof MlflowException) throw invalidInput(err.message);
        throw err;
      }
    }));
  if (isRecord(input)) return cast(input);
  if (Array.isArray(input) && input.every(isRecord)) return input.map(cast);
  return input;
}

/** `_cast_schema_type` for `inputs` (and non-record `instances`). */
function parseInputs(value: unknown, schema: Schema | undefined): unknown {
  if (!schema || schema.isTensorSpec()) return value;
  let input = value;
  if (schema.hasInputNames()) {
    if (schema.inputs.length === 1 && Array.isArray(input) && !input.some(isRecord)) input = { [String(schema.inputs[0].name)]: input };
  } else if (!(Array.isArray(input) || isScalar(input))) {
    throw invalidInput(
      'Failed to parse input data. This model contains an un-named  model signature which expects a single n-dimensional array ' +
        `or a single value as input, however, an input of type ${pyClass(input)} was found.`,
    );
  }
  input = castComplexColumns(input, schema);
  return isRecord(input) ? columnsInput(input, schema) : input;
}

/** `parse_instances_data`: rows of records become columns, which must all be as long. */
function parseInstances(value: unknown, schema: Schema | undefined): unknown {
  if (!(Array.isArray(value) && value.length > 0 && isRecord(value[0]))) return parseInputs(value, schema);
  const odd = value.find((row) => !isRecord(row));
  if (odd !== undefined) {
    throw invalidInput(`Ensure that the input is a valid JSON-formatted string.\nError: AttributeError("'${pyTypeName(odd)}' object has no attribute 'items'")`);
  }
  const frame = frameFromList(value, 'instances');
  const counts = new Map(frame.columns.map((c, i) => [c, frame.rows.filter((r) => r[i] !== undefined).length]));
  const checked = schema?.hasInputNames()
    ? (schema.inputs as readonly ColSpec[]).filter((s) => s.required && !(s.type instanceof ArrayType)).map((s) => String(s.name))
    : frame.columns;
  const lengths = new Set(checked.filter((c) => counts.has(c)).map((c) => counts.get(c)));
  if (lengths.size > 1) throw invalidInput('The length of values for each input/column name are not the same');
  if (schema && !schema.isTensorSpec()) return value;
  // Without a column signature MLflow hands over the columns, each holding only the values given.
  return Object.fromEntries(frame.columns.map((c, i) => [c, frame.rows.filter((r) => r[i] !== undefined).map((r) => r[i])]));
}

/** Unified LLM form: keys of the param schema are params, everything else is the data dict. */
function unifiedInvocation(body: Record<string, unknown>, signature: ModelSignature | undefined): Invocation {
  const paramNames = new Set(signature?.params?.params.map((p) => p.name) ?? []);
  const data: Record<string, unknown> = {};
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) (paramNames.has(key) ? params : data)[key] = value;
  return { data, params, unified: true };
}

export function parseJsonInvocation(text: string, signature: ModelSignature | undefined): Invocation {
  const body = decode(text);
  if (LLM_KEYS.some((k) => k in body)) return unifiedInvocation(body, signature);
  const present = FORMATS.filter((f) => f in body);
  if (present.length !== 1) {
    throw new MlflowException(
      `${REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: ${pyRepr(present)}. ${SCORING_PROTOCOL_CHANGE_INFO}`,
      'BAD_REQUEST',
    );
  }
  const [format] = present;
  const value = body[format];
  const params = body.params ?? undefined;
  const schema = signature?.inputs;
  if (signature?.isSignatureFromTypeHint) {
    if (format !== 'inputs') {
      throw invalidInput("Request payload must be a dictionary with 'inputs' key when the model contains a valid type hint.");
    }
    return { data: value, params, unified: false };
  }
  switch (format) {
    case 'dataframe_split':
      return { data: toModelInput(frameFromSplit(value), schema), params, unified: false };
    case 'dataframe_records':
      return { data: toModelInput(frameFromRecords(value), schema), params, unified: false };
    case 'instances':
      return { data: parseInstances(value, schema), params, unified: false };
    case 'inputs':
      return { data: parseInputs(value, schema), params, unified: false };
  }
}

/**
 * A scoring request's body as `predict` takes it, for `/invocations` and `ortgenai predict` alike (MLflow's
 * `_parse_json_data` / `parse_csv_input`, shared by its server and `mlflow models predict`).
 */
export function parseScoringInput(text: string, mime: 'application/json' | 'text/csv', signature: ModelSignature | undefined): Invocation {
  // Deep nesting would exhaust the stack in the Python-repr formatting of an error message: refused up front.
  if (mime === CONTENT_TYPE_JSON && jsonTooDeep(text)) throw invalidInput(`The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`);
  if (mime === CONTENT_TYPE_JSON) return parseJsonInvocation(text, signature);
  // CSV carries no params (MLflow passes None).
  return { data: toModelInput(frameFromCsv(text, signature?.inputs), signature?.inputs), params: undefined, unified: false };
}
