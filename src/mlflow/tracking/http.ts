import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, fetch, type Dispatcher, type RequestInit, type Response } from 'undici';
import { MlflowException, type MlflowErrorCode } from '../errors.js';

/**
 * HTTP to an MLflow tracking server as MLflow 3.18's client does it (`mlflow/utils/rest_utils.py`,
 * `mlflow/utils/request_utils.py`): Basic or Bearer auth from the environment, a timeout per request,
 * and retries with exponential backoff and jitter on 408, 429 and 5xx and on connection errors. Writes
 * that are not safe to repeat (creating a run, a version...) are retried only when the server cannot
 * have processed them (a connection error, 408, 429), as `_non_idempotent_write_retry_kwargs` does.
 */

/** `MlflowHostCreds`: where the server is and how to authenticate to it. */
export interface HostCreds {
  host: string;
  username?: string;
  password?: string;
  token?: string;
  /** `MLFLOW_TRACKING_INSECURE_TLS`: skip TLS certificate verification. */
  insecure?: boolean;
}

/** MLflow's `MLFLOW_HTTP_REQUEST_*` settings. */
export interface RetryPolicy {
  /** Retries after the first attempt (`MLFLOW_HTTP_REQUEST_MAX_RETRIES`, default 7, at most 10). */
  maxRetries: number;
  /** Seconds; the n-th retry waits `factor * 2^(n-1)` (`MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR`, default 2, at most 120). */
  backoffFactor: number;
  /** Up to this many seconds of random jitter are added to each wait (`MLFLOW_HTTP_REQUEST_BACKOFF_JITTER`, default 1). */
  backoffJitter: number;
  /** Seconds per attempt (`MLFLOW_HTTP_REQUEST_TIMEOUT`, default 120). */
  timeout: number;
}

/** urllib3's `Retry.DEFAULT_BACKOFF_MAX`: no single wait is longer. */
const BACKOFF_MAX_SECONDS = 120;
const TRANSIENT = new Set([408, 429, 500, 502, 503, 504]);
const UNPROCESSED = new Set([408, 429]);

function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, integer: boolean): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw MlflowException.invalidParameterValue(`${name} must be a non-negative ${integer ? 'integer' : 'number'}, got '${raw}'`);
  }
  return value;
}

export function retryPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): RetryPolicy {
  const policy = {
    maxRetries: envNumber(env, 'MLFLOW_HTTP_REQUEST_MAX_RETRIES', 7, true),
    backoffFactor: envNumber(env, 'MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR', 2, false),
    backoffJitter: envNumber(env, 'MLFLOW_HTTP_REQUEST_BACKOFF_JITTER', 1, false),
    timeout: envNumber(env, 'MLFLOW_HTTP_REQUEST_TIMEOUT', 120, false),
  };
  const maxRetriesLimit = envNumber(env, '_MLFLOW_HTTP_REQUEST_MAX_RETRIES_LIMIT', 10, true);
  const backoffLimit = envNumber(env, '_MLFLOW_HTTP_REQUEST_MAX_BACKOFF_FACTOR_LIMIT', 120, false);
  if (policy.maxRetries > maxRetriesLimit) {
    throw MlflowException.invalidParameterValue(`The configured max_retries value (${policy.maxRetries}) is in excess of the maximum allowable retries (${maxRetriesLimit})`);
  }
  if (policy.backoffFactor > backoffLimit) {
    throw MlflowException.invalidParameterValue(`The configured backoff_factor value (${policy.backoffFactor}) is in excess of the maximum allowable backoff_factor limit (${backoffLimit})`);
  }
  return policy;
}

const TRUE = new Set(['true', '1', 't', 'yes', 'y']);

/** `MLFLOW_TRACKING_USERNAME`/`PASSWORD` (Basic), `MLFLOW_TRACKING_TOKEN` (Bearer), `MLFLOW_TRACKING_INSECURE_TLS`. */
export function hostCredsFromEnv(host: string, env: NodeJS.ProcessEnv = process.env): HostCreds {
  const insecure = TRUE.has((env.MLFLOW_TRACKING_INSECURE_TLS ?? '').toLowerCase());
  return {
    host: host.replace(/\/+$/, ''),
    username: env.MLFLOW_TRACKING_USERNAME || undefined,
    password: env.MLFLOW_TRACKING_PASSWORD || undefined,
    token: env.MLFLOW_TRACKING_TOKEN || undefined,
    insecure,
  };
}

function authorization(creds: HostCreds): string | undefined {
  if (creds.username && creds.password) return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  if (creds.token) return `Bearer ${creds.token}`;
  return undefined;
}

const dispatchers = new Map<string, Dispatcher>();
function dispatcherFor(creds: HostCreds, timeoutMs: number): Dispatcher {
  const key = `${creds.insecure ? 1 : 0}:${timeoutMs}`;
  let agent = dispatchers.get(key);
  if (!agent) {
    agent = new Agent({
      connect: { rejectUnauthorized: !creds.insecure, timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    dispatchers.set(key, agent);
  }
  return agent;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the host, e.g. `/api/2.0/mlflow/runs/get`. */
  path: string;
  query?: Record<string, string | number | boolean | readonly string[] | undefined>;
  json?: unknown;
  /** A body to stream (an upload); `body()` is called again for each attempt. */
  body?: () => RequestInit['body'];
  headers?: Record<string, string>;
  /**
   * Whether sending the request twice is harmless: reads and writes the server applies idempotently
   * (MLflow's `_RETRY_SAFE_POST_RESPONSES`). Otherwise only unprocessed failures are retried.
   */
  idempotent: boolean;
}

function url(creds: HostCreds, req: HttpRequest): string {
  const u = new URL(creds.host + req.path);
  for (const [key, value] of Object.entries(req.query ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) u.searchParams.append(key, String(v));
  }
  return u.href;
}

function backoffSeconds(policy: RetryPolicy, retry: number, retryAfter: string | null): number {
  // urllib3: no wait before the first retry of a connection error; factor * 2^(n-1) afterwards.
  const exp = retry <= 1 ? 0 : policy.backoffFactor * 2 ** (retry - 1);
  let wait = Math.min(BACKOFF_MAX_SECONDS, exp + Math.random() * policy.backoffJitter);
  const after = retryAfter === null ? NaN : Number(retryAfter);
  if (Number.isFinite(after) && after >= 0) wait = Math.max(wait, after); // respect_retry_after_header
  return wait;
}

/** Whether an error from fetch means the request never reached the server (safe to resend any write). */
function notSent(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
  return ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code ?? '');
}

function isTimeout(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } }).cause?.code ?? '';
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

/**
 * Send a request with MLflow's retry policy and return the final response, whatever its status
 * (`raise_on_status=False`: the caller turns an error body into an exception). Network failures that
 * outlast the retries become an `MlflowException` naming the URL and the cause.
 */
export async function httpRequest(creds: HostCreds, req: HttpRequest, policy: RetryPolicy = retryPolicyFromEnv()): Promise<Response> {
  const target = url(creds, req);
  const headers: Record<string, string> = { 'User-Agent': 'ortgenai-node-mlflow', ...req.headers };
  const auth = authorization(creds);
  if (auth) headers.Authorization = auth;
  if (req.json !== undefined) headers['Content-Type'] = 'application/json';
  const timeoutMs = Math.max(1, policy.timeout * 1000);
  const retryCodes = req.idempotent ? TRANSIENT : UNPROCESSED;
  for (let attempt = 0; ; attempt++) {
    const body = req.json !== undefined ? JSON.stringify(req.json) : req.body?.();
    let response: Response;
    try {
      response = await fetch(target, {
        method: req.method,
        headers,
        body,
        dispatcher: dispatcherFor(creds, timeoutMs),
        ...(body && typeof body === 'object' && !(body instanceof Uint8Array) && typeof body !== 'string' ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (err) {
      if ((req.idempotent || notSent(err)) && attempt < policy.maxRetries) {
        await sleep(backoffSeconds(policy, attempt + 1, null) * 1000);
        continue;
      }
      const cause = (err as { cause?: Error }).cause ?? err;
      if (isTimeout(err)) {
        throw new MlflowException(
          `API request to ${target} failed with timeout exception ${String((cause as Error).message ?? cause)}. To increase the timeout, set the environment variable MLFLOW_HTTP_REQUEST_TIMEOUT to a larger value.`,
          'INTERNAL_ERROR',
          { cause: err },
        );
      }
      throw new MlflowException(
        `API request to ${target} failed with exception ${String((cause as Error).message ?? cause)}${attempt > 0 ? ` (after ${attempt} retries)` : ''}`,
        'INTERNAL_ERROR',
        { cause: err },
      );
    }
    if (retryCodes.has(response.status) && attempt < policy.maxRetries) {
      await response.body?.cancel().catch(() => undefined);
      await sleep(backoffSeconds(policy, attempt + 1, response.headers.get('retry-after')) * 1000);
      continue;
    }
    return response;
  }
}

/** `mlflow.utils.rest_utils.get_error_code`: the error code a bare HTTP status stands for. */
function errorCodeForStatus(status: number): MlflowErrorCode {
  const codes: Record<number, MlflowErrorCode> = {
    400: 'BAD_REQUEST',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'ENDPOINT_NOT_FOUND',
    409: 'RESOURCE_CONFLICT',
    429: 'REQUEST_LIMIT_EXCEEDED',
    499: 'CANCELLED',
    501: 'NOT_IMPLEMENTED',
    503: 'TEMPORARILY_UNAVAILABLE',
    504: 'DEADLINE_EXCEEDED',
  };
  return codes[status] ?? 'INTERNAL_ERROR';
}

/** MLflow's `RestException` as an `MlflowException` carrying the server's `error_code` and message. */
export async function verifyResponse(response: Response, endpoint: string, expectedStatus = 200): Promise<void> {
  if (response.status === expectedStatus) return;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const { error_code: code, message } = parsed as { error_code?: string; message?: string };
    const errorCode = (code ?? 'INTERNAL_ERROR') as MlflowErrorCode;
    // RestException: "<error_code>: <message>"
    throw new MlflowException(`${errorCode}: ${message ?? text}`, errorCode);
  }
  throw new MlflowException(
    `API request to endpoint ${endpoint} failed with error code ${response.status} != ${expectedStatus}. Response body: '${text}'`,
    errorCodeForStatus(response.status),
  );
}

/** Call a JSON endpoint of the REST API and return its parsed body (`call_endpoint`). */
export async function callEndpoint<T = Record<string, unknown>>(
  creds: HostCreds,
  req: Omit<HttpRequest, 'body'>,
  policy?: RetryPolicy,
): Promise<T> {
  const response = await httpRequest(creds, req, policy);
  await verifyResponse(response, req.path);
  const text = await response.text();
  if (text.trim() === '') return {} as T;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new MlflowException(`API request to endpoint was successful but the response body was not in a valid JSON format. Response body: '${text.slice(0, 50)}'`, 'INTERNAL_ERROR', { cause: err });
  }
}
