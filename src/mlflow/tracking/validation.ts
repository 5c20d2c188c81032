import path from 'node:path';
import { MlflowException } from '../errors.js';
import { metricValueToJson, type Metric } from './entities.js';

/**
 * MLflow 3.18's client-side checks (`mlflow/utils/validation.py`), with its limits and messages, so a
 * bad key fails the same way before it reaches either store. The server checks again.
 */

export const MAX_PARAMS_TAGS_PER_BATCH = 100;
export const MAX_METRICS_PER_BATCH = 1000;
export const MAX_ENTITIES_PER_BATCH = 1000;
export const MAX_PARAM_VAL_LENGTH = 6000;
export const MAX_TAG_VAL_LENGTH = 8000;
export const MAX_EXPERIMENT_NAME_LENGTH = 500;
export const MAX_EXPERIMENT_TAG_KEY_LENGTH = 250;
export const MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000;
export const MAX_ENTITY_KEY_LENGTH = 250;
export const MAX_MODEL_REGISTRY_TAG_KEY_LENGTH = 250;
export const MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH = 100_000;
export const MAX_REGISTERED_MODEL_ALIAS_LENGTH = 255;

/** `json.dumps(value, sort_keys=True, separators=(",", ":"))` for the values these messages quote. */
function formatted(value: unknown): string {
  if (value === undefined) return 'null';
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  return JSON.stringify(value);
}

export function invalidValue(p: string, value: unknown, message?: string): string {
  return message ? `Invalid value ${formatted(value)} for parameter '${p}' supplied: ${message}` : `Invalid value ${formatted(value)} for parameter '${p}' supplied.`;
}

const invalid = (message: string) => MlflowException.invalidParameterValue(message);

const BAD_CHARACTER = 'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).';
const MISSING_KEY = 'A key name must be provided.';

function badPath(name: string): string {
  return `Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${path.posix.normalize(name)}'`;
}

function pathNotUnique(name: string): boolean {
  const norm = path.posix.normalize(name);
  return norm !== name || norm === '.' || norm.startsWith('..') || norm.startsWith('/');
}

/** Python's `\w` is Unicode-aware, as is `\p{L}\p{N}_` here. */
const NAME = /^[/\p{L}\p{N}_.\- :]*$/u;

function validateName(name: unknown, p: string, missing: string): asserts name is string {
  if (name === undefined || name === null) throw invalid(missing);
  if (typeof name !== 'string' || !NAME.test(name)) throw invalid(invalidValue(p, name, BAD_CHARACTER));
  if (pathNotUnique(name)) throw invalid(invalidValue(p, name, badPath(name)));
}

export function validateLength(entity: string, limit: number, value: string | undefined): void {
  if (value !== undefined && value.length > limit) throw invalid(`'${entity}' exceeds the maximum length of ${limit} characters`);
}

const join = (base: string, key: string) => (base ? `${base}.${key}` : key);

export function validateMetric(m: Metric, base = ''): void {
  validateName(m.key, join(base, 'name'), invalidValue(join(base, 'name'), null, `Metric name cannot be None. ${MISSING_KEY}`));
  if (m.value === undefined || m.value === null) throw invalid(`Missing value for required parameter '${join(base, 'value')}'.`);
  if (typeof m.value !== 'number') {
    throw invalid(invalidValue(join(base, 'value'), m.value, `(timestamp=${m.timestamp}). Please specify value as a valid double (64-bit floating point)`));
  }
  if (typeof m.timestamp !== 'number' || !Number.isInteger(m.timestamp) || m.timestamp < 0) {
    throw invalid(invalidValue(join(base, 'timestamp'), m.timestamp, `metric '${m.key}' (value=${metricValueToJson(m.value)}). Timestamp must be a nonnegative long (64-bit integer) `));
  }
  if (typeof m.step !== 'number' || !Number.isInteger(m.step)) {
    throw invalid(invalidValue(join(base, 'step'), m.step, `metric '${m.key}' (value=${metricValueToJson(m.value)}). Step must be a valid long (64-bit integer).`));
  }
  validateLength('Metric name', MAX_ENTITY_KEY_LENGTH, m.key);
}

export function validateParam(key: string, value: string, base = ''): void {
  validateName(key, join(base, 'key'), invalidValue(join(base, 'key'), '', MISSING_KEY));
  validateLength('Param key', MAX_ENTITY_KEY_LENGTH, key);
  validateLength('Param value', MAX_PARAM_VAL_LENGTH, value);
}

export function validateTag(key: string, value: string, base = ''): void {
  validateName(key, join(base, 'key'), `Missing value for required parameter '${join(base, 'key')}'.`);
  validateLength(join(base, 'key'), MAX_ENTITY_KEY_LENGTH, key);
  validateLength(join(base, 'value'), MAX_TAG_VAL_LENGTH, value);
}

export function validateExperimentTag(key: string, value: string): void {
  validateName(key, 'key', "Missing value for required parameter 'key'.");
  validateLength('key', MAX_EXPERIMENT_TAG_KEY_LENGTH, key);
  validateLength('value', MAX_EXPERIMENT_TAG_VAL_LENGTH, value);
}

export function validateRegistryTag(key: string, value: string): void {
  validateName(key, 'key', "Missing value for required parameter 'key'.");
  validateLength('key', MAX_MODEL_REGISTRY_TAG_KEY_LENGTH, key);
  validateLength('value', MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH, value);
}

export function validateExperimentName(name: unknown): asserts name is string {
  if (name === undefined || name === null || (typeof name === 'string' && !name.trim())) throw invalid(`Invalid experiment name: '${name ?? 'None'}'`);
  if (typeof name !== 'string') throw invalid(`Invalid experiment name: ${String(name)}. Expects a string.`);
  if (name.length > MAX_EXPERIMENT_NAME_LENGTH) throw invalid(`'name' exceeds the maximum length of ${MAX_EXPERIMENT_NAME_LENGTH} characters`);
}

const RUN_ID = /^[a-zA-Z0-9][\w-]{0,255}$/;
export function validateRunId(runId: unknown): asserts runId is string {
  if (typeof runId !== 'string' || !RUN_ID.test(runId)) throw invalid(invalidValue('run_id', runId));
}

/** `_validate_param_keys_unique`: one value per param key in a batch. */
export function validateParamKeysUnique(params: readonly { key: string }[]): void {
  const seen = new Set<string>();
  const dupes: string[] = [];
  for (const { key } of params) {
    if (seen.has(key)) dupes.push(key);
    seen.add(key);
  }
  if (dupes.length) {
    throw invalid(`Duplicate parameter keys have been submitted: [${dupes.map((d) => `'${d}'`).join(', ')}]. Please ensure the request contains only one param value per param key.`);
  }
}

/** `_validate_alias_name` and `_validate_alias_name_reserved`. */
export function validateAlias(alias: string): void {
  if (!alias) throw invalid('Registered model alias name cannot be empty.');
  if (!/^[\p{L}\p{N}_-]*$/u.test(alias)) throw invalid(`Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`);
  validateLength('Registered model alias name', MAX_REGISTERED_MODEL_ALIAS_LENGTH, alias);
  if (alias.toLowerCase() === 'latest') throw invalid("'latest' alias name (case insensitive) is reserved.");
  if (/^[vV]\d+$/.test(alias)) throw invalid(`Version alias name '${alias}' is reserved.`);
}
