import { parse } from 'csv-parse/sync';
import { MlflowException } from '../../mlflow/errors.js';
import { ColSpec, DataType, type Schema } from '../../mlflow/signature/index.js';
import type { Frame } from './frame.js';

/**
 * `text/csv` bodies read as `pandas.read_csv` reads them (mlflow-format.md §7.5): a header row, pandas'
 * missing-value tokens become null, `Unnamed: i` for blank headers, and cells typed by the schema's column
 * types when there is a schema, else inferred per column (integers, floats, booleans, strings).
 */

// pandas' default `na_values`.
const NA = new Set(['', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null']);
const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity)$/i;
const TRUE = new Set(['True', 'TRUE', 'true']);
const FALSE = new Set(['False', 'FALSE', 'false']);

function parseFailure(reason: string): MlflowException {
  return new MlflowException(
    'Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas DataFrame ' +
      `produced using the \`pandas.DataFrame.to_csv()\` method. Error: '${reason}'`,
    'BAD_REQUEST',
  );
}

const toFloat = (text: string) => (/inf/i.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : Number(text));

/** One column of raw cells (null = missing) typed as `read_csv(dtype=...)` would. */
function typedColumn(cells: (string | null)[], column: string, type: DataType | undefined): unknown[] {
  const present = cells.filter((c): c is string => c !== null);
  switch (type?.name) {
    case 'long':
    case 'integer':
      if (present.length < cells.length) throw parseFailure(`Integer column has NA values in column ${column}`);
      for (const c of present) if (!INT.test(c.trim())) throw parseFailure(`invalid literal for int() with base 10: '${c}'`);
      return cells.map((c) => Number(c));
    case 'float':
    case 'double':
      for (const c of present) if (!FLOAT.test(c.trim())) throw parseFailure(`could not convert string to float: '${c}'`);
      return cells.map((c) => (c === null ? null : toFloat(c.trim())));
    case 'boolean':
      for (const c of present) if (!TRUE.has(c) && !FALSE.has(c)) throw parseFailure(`Bool column has values other than True/False: '${c}'`);
      return cells.map((c) => (c === null ? null : TRUE.has(c)));
    case 'string':
    case 'binary':
      return cells;
    default: // inferred like pandas' C parser
      if (present.length > 0 && present.every((c) => FLOAT.test(c.trim()))) return cells.map((c) => (c === null ? null : toFloat(c.trim())));
      if (present.length > 0 && present.length === cells.length && present.every((c) => TRUE.has(c) || FALSE.has(c))) {
        return cells.map((c) => TRUE.has(c!));
      }
      return cells;
  }
}

/** Column names as pandas makes them: blank → `Unnamed: i`, repeats → `name.1`, `name.2`, ... */
function headerNames(raw: string[]): string[] {
  const seen = new Map<string, number>();
  return raw.map((name, i) => {
    const base = name === '' ? `Unnamed: ${i}` : name;
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count === 0 ? base : `${base}.${count}`;
  });
}

function columnTypes(columns: string[], schema: Schema | undefined): (DataType | undefined)[] {
  if (!schema || schema.isTensorSpec()) return columns.map(() => undefined);
  const specs = schema.inputs as readonly ColSpec[];
  if (schema.hasInputNames()) {
    const byName = new Map(specs.map((s) => [String(s.name), s.type]));
    return columns.map((c) => {
      const t = byName.get(c);
      return t instanceof DataType ? t : undefined;
    });
  }
  return columns.map((_, i) => (specs[i]?.type instanceof DataType ? (specs[i].type as DataType) : undefined));
}

export function frameFromCsv(text: string, schema: Schema | undefined): Frame {
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: true, bom: true });
  } catch (err) {
    throw parseFailure((err as Error).message);
  }
  if (records.length === 0) throw parseFailure('No columns to parse from file');
  const [header, ...body] = records;
  const columns = headerNames(header);
  body.forEach((row, i) => {
    if (row.length > columns.length) throw parseFailure(`Error tokenizing data. C error: Expected ${columns.length} fields in line ${i + 2}, saw ${row.length}`);
  });
  const types = columnTypes(columns, schema);
  const typed = columns.map((column, j) =>
    typedColumn(
      body.map((row) => (j < row.length && !NA.has(row[j]) ? row[j] : null)),
      column,
      types[j],
    ),
  );
  return { columns, rows: body.map((_, i) => typed.map((col) => col[i])) };
}
