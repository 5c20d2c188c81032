import { MlflowException } from '../errors.js';
import type { Run } from './entities.js';

/**
 * The subset of MLflow's run filter and order-by syntax (`mlflow/utils/search_utils.py`) the file store
 * evaluates itself (a tracking server parses its own): clauses joined by AND; `metrics.`, `params.`,
 * `tags.` and `attributes.` (also `attribute.`, `run.`) identifiers, keys quoted with backticks or
 * double quotes when they hold spaces or dots; `= != < <= > >=` on metrics and numeric attributes,
 * `= != LIKE ILIKE` on strings, `IN` / `NOT IN` on `run_id`.
 */

type Kind = 'metric' | 'parameter' | 'tag' | 'attribute';
interface Clause {
  kind: Kind;
  key: string;
  comparator: string;
  value: string | number | string[];
}

const KINDS: Record<string, Kind> = {
  metric: 'metric', metrics: 'metric', param: 'parameter', params: 'parameter', parameter: 'parameter', parameters: 'parameter',
  tag: 'tag', tags: 'tag', attribute: 'attribute', attributes: 'attribute', attr: 'attribute', run: 'attribute',
};
const STRING_ATTRIBUTES = new Set(['run_id', 'run_name', 'status', 'artifact_uri', 'user_id', 'lifecycle_stage']);
const NUMERIC_ATTRIBUTES = new Set(['start_time', 'end_time', 'created', 'Created']);
const NUMERIC_COMPARATORS = new Set(['=', '!=', '<', '<=', '>', '>=']);
const STRING_COMPARATORS = new Set(['=', '!=', 'LIKE', 'ILIKE']);

const invalid = (message: string) => MlflowException.invalidParameterValue(message);

/** Tokens: quoted strings, backticked keys, parenthesised lists, words and comparators. */
function tokenize(filter: string): string[] {
  const tokens: string[] = [];
  const re = /\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`|\([^)]*\)|<=|>=|!=|=|<|>|[^\s=!<>()'"`]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < filter.length && (m = re.exec(filter))) {
    tokens.push(m[1]);
    at = re.lastIndex;
  }
  if (filter.slice(at).trim()) throw invalid(`Error on parsing filter '${filter}'`);
  return tokens;
}

const unquote = (s: string) => (/^(['"`]).*\1$/s.test(s) ? s.slice(1, -1) : s);

function parseIdentifier(tokens: string[], filter: string): { kind: Kind; key: string } {
  const first = tokens.shift();
  if (!first) throw invalid(`Invalid filter '${filter}'`);
  // `metrics."my key"` arrives as `metrics.` + `"my key"`; `metrics.loss` as one token.
  const dot = first.indexOf('.');
  const prefix = dot < 0 ? first : first.slice(0, dot);
  let key = dot < 0 ? '' : first.slice(dot + 1);
  if (dot >= 0 && key === '' && tokens[0] && /^[`"]/.test(tokens[0])) key = tokens.shift()!;
  const kind = KINDS[prefix];
  if (!kind || !key) throw invalid(`Invalid entity type '${prefix}'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']`);
  return { kind, key: unquote(key) };
}

function parseValue(kind: Kind, key: string, comparator: string, raw: string | undefined, filter: string): Clause['value'] {
  if (raw === undefined) throw invalid(`Invalid filter '${filter}': missing value`);
  if (/^\(.*\)$/s.test(raw) || comparator === 'IN' || comparator === 'NOT IN') {
    // As MLflow: a list is only for attributes.run_id; elsewhere it is a value of the wrong type.
    if (kind === 'parameter' || kind === 'tag') throw invalid(`Expected a quoted string value for ${kind} (e.g. 'my-value'). Got value ${raw}`);
    if (kind === 'metric') throw invalid(`Expected numeric value type for metric. Found ${raw}`);
    if (key !== 'run_id') throw invalid("Only ['run_id'] attributes support comparison with a list of quoted string values.");
    if (!/^\(.*\)$/s.test(raw)) throw invalid(`While parsing a list in the query, expected a non-empty list of string values, but got ${raw}`);
    return raw.slice(1, -1).split(',').map((v) => v.trim()).filter(Boolean).map((v) => {
      if (!/^'.*'$|^".*"$/s.test(v)) throw invalid(`While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ${raw}`);
      return v.slice(1, -1);
    });
  }
  const numeric = kind === 'metric' || (kind === 'attribute' && NUMERIC_ATTRIBUTES.has(key));
  if (numeric) {
    if (!NUMERIC_COMPARATORS.has(comparator)) throw invalid(`Invalid comparator '${comparator}' not one of '${[...NUMERIC_COMPARATORS].join("', '")}'`);
    const n = Number(raw);
    if (raw.trim() === '' || Number.isNaN(n)) throw invalid(`Expected numeric value type for metric. Found ${raw}`);
    return n;
  }
  if (kind === 'attribute' && !STRING_ATTRIBUTES.has(key)) throw invalid(`Invalid attribute key '${key}' specified.`);
  if (!STRING_COMPARATORS.has(comparator)) throw invalid(`Invalid comparator '${comparator}' not one of '=', '!=', 'LIKE', 'ILIKE'`);
  if (!/^'.*'$|^".*"$/s.test(raw)) {
    throw invalid(kind === 'attribute' ? `Expected a quoted string value for attributes. Got value ${raw}` : `Expected a quoted string value for ${kind} (e.g. 'my-value'). Got value ${raw}`);
  }
  return raw.slice(1, -1);
}

export function parseFilter(filter: string | undefined): Clause[] {
  if (!filter || !filter.trim()) return [];
  const tokens = tokenize(filter);
  const clauses: Clause[] = [];
  while (tokens.length) {
    const { kind, key } = parseIdentifier(tokens, filter);
    let comparator = (tokens.shift() ?? '').toUpperCase();
    if (comparator === 'NOT' && tokens[0]?.toUpperCase() === 'IN') {
      tokens.shift();
      comparator = 'NOT IN';
    }
    if (![...NUMERIC_COMPARATORS, 'LIKE', 'ILIKE', 'IN', 'NOT IN'].includes(comparator)) throw invalid(`Invalid comparator '${comparator}' in filter '${filter}'`);
    clauses.push({ kind, key, comparator, value: parseValue(kind, key, comparator, tokens.shift(), filter) });
    if (tokens.length) {
      const and = tokens.shift()!;
      if (and.toUpperCase() !== 'AND') throw invalid(`Invalid clause(s) in filter string: '${filter}'. Only 'AND' joins clauses`);
    }
  }
  return clauses;
}

function like(value: string, pattern: string, insensitive: boolean): boolean {
  const re = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll('%', '.*').replaceAll('_', '.');
  return new RegExp(`^${re}$`, insensitive ? 'is' : 's').test(value);
}

function attribute(run: Run, key: string): string | number | undefined {
  const i = run.info;
  const values: Record<string, string | number | undefined> = {
    run_id: i.runId, run_name: i.runName, status: i.status, artifact_uri: i.artifactUri, user_id: i.userId,
    lifecycle_stage: i.lifecycleStage, start_time: i.startTime, end_time: i.endTime, created: i.startTime, Created: i.startTime,
  };
  return values[key];
}

function matches(run: Run, c: Clause): boolean {
  const actual =
    c.kind === 'metric' ? run.data.metrics[c.key] : c.kind === 'parameter' ? run.data.params[c.key] : c.kind === 'tag' ? run.data.tags[c.key] : attribute(run, c.key);
  if (actual === undefined) return false; // MLflow: a run without the key never matches
  if (c.comparator === 'IN') return (c.value as string[]).includes(String(actual));
  if (c.comparator === 'NOT IN') return !(c.value as string[]).includes(String(actual));
  if (c.comparator === 'LIKE' || c.comparator === 'ILIKE') return like(String(actual), String(c.value), c.comparator === 'ILIKE');
  const [a, b] = typeof c.value === 'number' ? [Number(actual), c.value] : [String(actual), c.value as string];
  switch (c.comparator) {
    case '=': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    default: return a >= b;
  }
}

export function filterRuns(runs: Run[], filter: string | undefined): Run[] {
  const clauses = parseFilter(filter);
  return runs.filter((run) => clauses.every((c) => matches(run, c)));
}

/** `SearchUtils.sort`: order-by clauses, then start time descending and run id as MLflow's tie-breakers. */
export function sortRuns(runs: Run[], orderBy: string[] | undefined): Run[] {
  const keys = (orderBy ?? []).map((clause) => {
    const m = /^\s*(.+?)(?:\s+(ASC|DESC))?\s*$/i.exec(clause);
    if (!m) throw invalid(`Invalid order_by clause '${clause}'`);
    const { kind, key } = parseIdentifier(tokenize(m[1]), clause);
    return { kind, key, desc: (m[2] ?? 'ASC').toUpperCase() === 'DESC' };
  });
  const value = (run: Run, kind: Kind, key: string) =>
    kind === 'metric' ? run.data.metrics[key] : kind === 'parameter' ? run.data.params[key] : kind === 'tag' ? run.data.tags[key] : attribute(run, key);
  return [...runs].sort((x, y) => {
    for (const k of keys) {
      const a = value(x, k.kind, k.key);
      const b = value(y, k.kind, k.key);
      if (a === b) continue;
      if (a === undefined) return 1; // missing values last, either way
      if (b === undefined) return -1;
      const cmp = a < b ? -1 : 1;
      return k.desc ? -cmp : cmp;
    }
    return y.info.startTime - x.info.startTime || (x.info.runId < y.info.runId ? -1 : 1);
  });
}

/** `SearchUtils.paginate`: a base64 JSON `{"offset": n}` page token. */
export function paginate<T>(items: T[], pageToken: string | undefined, maxResults: number): { page: T[]; next?: string } {
  let offset = 0;
  if (pageToken) {
    try {
      offset = Number((JSON.parse(Buffer.from(pageToken, 'base64').toString('utf8')) as { offset: unknown }).offset);
    } catch {
      throw invalid(`Invalid page token, could not base64-decode`);
    }
    if (!Number.isInteger(offset) || offset < 0) throw invalid(`Invalid page token, offset '${offset}' is not a non-negative integer`);
  }
  const end = offset + maxResults;
  const page = items.slice(offset, end);
  return { page, next: end < items.length ? Buffer.from(JSON.stringify({ offset: end })).toString('base64') : undefined };
}
