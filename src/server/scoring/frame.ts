import { MlflowException } from '../../mlflow/errors.js';
import { ColSpec, DataType, type Schema } from '../../mlflow/signature/index.js';
import { isRecord, maxOf } from '../../mlflow/signature/types.js';
import { pyClass } from '../../mlflow/signature/values.js';

/**
 * The DataFrame a scoring request describes, as column names and rows (`undefined` = no value given).
 * MLflow hands a pyfunc a pandas DataFrame; our pyfunc speaks its TypeScript analogs, so `toModelInput`
 * turns the frame into the shape `PyFuncModel.predict` turns into that DataFrame again.
 */
export interface Frame {
  columns: string[];
  rows: unknown[][];
}

/** `MlflowInvalidInputException`: payload errors are BAD_REQUEST with this prefix. */
export function invalidInput(message: string): MlflowException {
  return new MlflowException(`Invalid input. ${message}`, 'BAD_REQUEST');
}

/**
 * Records with different keys make a sparse frame of rows × all keys: a small body (`[{"k0":0},{"k1":0},…]`) could
 * describe billions of cells and block the process building them. pandas would build them; we refuse.
 */
const MAX_FRAME_CELLS = 1_000_000;

export function checkFrameSize(rows: number, columns: number): void {
  if (rows * columns > MAX_FRAME_CELLS) {
    throw invalidInput(
      `The input describes a frame of ${rows} rows x ${columns} columns, more than ${MAX_FRAME_CELLS} cells; send fewer distinct keys per request.`,
    );
  }
}

/** `pd.DataFrame(list)`: records (one column per key, in first-seen order), rows of values, or column `0`. */
export function frameFromList(list: readonly unknown[], what: string): Frame {
  if (list.length > 0 && list.every(isRecord)) {
    const seen = new Set<string>();
    for (const row of list) for (const key of Object.keys(row)) seen.add(key);
    const columns = [...seen];
    checkFrameSize(list.length, columns.length);
    return { columns, rows: list.map((row) => columns.map((c) => (row as Record<string, unknown>)[c])) };
  }
  if (list.some(isRecord)) {
    throw invalidInput(`Provided ${what} field is not a valid dataframe representation in 'records' format. Error: 'Mixing dicts with non-Series may lead to ambiguous ordering.'`);
  }
  if (list.length > 0 && list.every(Array.isArray)) {
    const width = maxOf(list.map((row) => (row as unknown[]).length));
    return { columns: Array.from({ length: width }, (_, i) => String(i)), rows: list.map((row) => [...(row as unknown[])]) };
  }
  return { columns: list.length ? ['0'] : [], rows: list.map((v) => [v]) };
}

/** `dataframe_split`: `{columns?, data, index?}` (pandas' `split` orientation). */
export function frameFromSplit(value: unknown): Frame {
  if (!isRecord(value)) {
    throw invalidInput(`Dataframe split format must be a dictionary. Got ${Array.isArray(value) ? 'list' : `type ${pyClass(value)}`}.`);
  }
  const keys = Object.keys(value);
  if (!keys.includes('data') || keys.some((k) => !['columns', 'data', 'index'].includes(k))) {
    throw invalidInput(`Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. Got {${keys.map((k) => `'${k}'`).join(', ')}}.'`);
  }
  const notValid = (reason: string) =>
    invalidInput(`Provided dataframe_split field is not a valid dataframe representation in 'split' format. Error: '${reason}'`);
  const { columns, data } = value;
  if (!Array.isArray(data)) throw notValid('DataFrame constructor not properly called!');
  if (columns !== undefined && columns !== null && !Array.isArray(columns)) throw notValid('Index(...) must be called with a collection of some kind');
  // pandas takes 1-D data as one value per row.
  const rows = data.map((row) => (Array.isArray(row) ? [...row] : [row]));
  const width = columns ? columns.length : maxOf(rows.map((r) => r.length), 0);
  const bad = rows.find((r) => r.length !== width);
  if (bad) throw notValid(`${width} columns passed, passed data had ${bad.length} columns`);
  return { columns: columns ? columns.map(String) : Array.from({ length: width }, (_, i) => String(i)), rows };
}

/** `dataframe_records`: a list of records (or of rows). */
export function frameFromRecords(value: unknown): Frame {
  if (!Array.isArray(value)) {
    throw invalidInput(`Dataframe records format must be a list of records. Got ${isRecord(value) ? 'dictionary' : `type ${pyClass(value)}`}.`);
  }
  return frameFromList(value, 'dataframe_records');
}

/** MLflow casts binary columns of a JSON DataFrame from base64 (`cast_df_types_according_to_schema`). */
function decodeBinary(value: unknown, column: string): unknown {
  if (typeof value !== 'string') return value;
  if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(value)) {
    throw invalidInput(`Data is not compatible with model signature. Failed to convert column ${column} to type 'bytes'. Error: 'Incorrect padding or non-base64 data'`);
  }
  return new Uint8Array(Buffer.from(value, 'base64'));
}

/**
 * The predict input for a frame. With a column signature: a list of records, which `predict` enforces into
 * the column table the model sees (only given cells become keys, so absent optional columns stay absent).
 * Without one (or with a tensor signature): the column table itself, the DataFrame analog.
 */
export function toModelInput(frame: Frame, schema: Schema | undefined): unknown {
  if (schema && !schema.isTensorSpec()) {
    const binary = new Set(
      schema.inputs.flatMap((spec) => (spec instanceof ColSpec && spec.type === DataType.binary && spec.name !== undefined ? [String(spec.name)] : [])),
    );
    return frame.rows.map((row) => {
      const record: Record<string, unknown> = {};
      frame.columns.forEach((column, i) => {
        if (row[i] !== undefined) record[column] = binary.has(column) ? decodeBinary(row[i], column) : row[i];
      });
      return record;
    });
  }
  return Object.fromEntries(frame.columns.map((column, i) => [column, frame.rows.map((row) => row[i] ?? null)]));
}
