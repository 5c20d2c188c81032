import { createInterface } from 'node:readline';
import { createWriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { MlflowException } from '../mlflow/errors.js';
import { loadModel, type PyFuncModel } from '../mlflow/pyfunc/index.js';
import { predictionsToJson } from './scoring/jsonable.js';

/**
 * One MLflow model served to a parent process over pipes: how Python MLflow runs a Node model. The
 * `python_function` loader of a TypeScript PythonModel (python/ortgenai_node_pyfunc.py) starts
 * `ortgenai pyfunc-worker`, writes JSON-lines requests to its stdin and reads replies from a separate
 * pipe (so whatever the model prints on stdout cannot corrupt the protocol).
 *
 * Requests: `{id, method: 'predict' | 'predict_stream', data, params}`. Replies, one per line: first
 * `{ready: true, streamable}` (or `{error}` and exit 1), then per request `{id, result}`, or
 * `{id, chunk}`… `{id, done: true}` for a stream, or `{id, error: {error_code, message}}`.
 * Requests run concurrently; stdin closing disposes the model and ends the process.
 */

interface Request {
  id: number;
  method: string;
  data?: unknown;
  params?: Record<string, unknown> | null;
}

/** An MlflowException keeps its code; anything else has none, so Python raises a plain error (MLflow's 'unexpected error'). */
function errorReply(err: unknown): { error_code?: string; message: string } {
  if (err instanceof MlflowException) return { error_code: err.errorCode, message: err.message };
  return { message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

async function answer(model: PyFuncModel, request: Request, send: (reply: Record<string, unknown>) => void): Promise<void> {
  const { id } = request;
  const params = request.params ?? undefined;
  if (request.method === 'predict') {
    send({ id, result: await model.predict(request.data, params) });
  } else if (request.method === 'predict_stream') {
    for await (const chunk of model.predictStream(request.data, params)) send({ id, chunk });
    send({ id, done: true });
  } else {
    throw MlflowException.invalidParameterValue(`Unknown pyfunc-worker method '${request.method}'`);
  }
}

export interface PyfuncWorkerOptions {
  modelUri: string;
  modelConfig?: Record<string, unknown>;
  input: Readable;
  output: Writable;
}

/** Serve until `input` ends. Resolves after the model is disposed. */
export async function runPyfuncWorker(options: PyfuncWorkerOptions): Promise<void> {
  const send = (reply: Record<string, unknown>): void => {
    options.output.write(`${predictionsToJson(reply)}\n`);
  };
  let model: PyFuncModel;
  try {
    model = await loadModel(options.modelUri, { modelConfig: options.modelConfig });
  } catch (err) {
    send({ error: errorReply(err) });
    throw err;
  }
  send({ ready: true, streamable: model.streamable });

  const running = new Set<Promise<void>>();
  for await (const line of createInterface({ input: options.input, crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    let request: Request;
    try {
      request = JSON.parse(line) as Request;
    } catch (err) {
      send({ error: errorReply(MlflowException.invalidParameterValue(`pyfunc-worker: a request is not JSON: ${(err as Error).message}`)) });
      continue;
    }
    // Anything but {id: number, ...} cannot be answered by id; said once, and the worker stays up.
    if (request === null || typeof request !== 'object' || typeof request.id !== 'number') {
      send({ error: errorReply(MlflowException.invalidParameterValue('pyfunc-worker: a request must be an object with a numeric id')) });
      continue;
    }
    const job = answer(model, request, send).catch((err: unknown) => send({ id: request.id, error: errorReply(err) }));
    running.add(job);
    void job.finally(() => running.delete(job));
  }
  await Promise.all(running);
  await model.dispose();
  await new Promise<void>((resolve) => options.output.end(resolve));
}

/** The reply stream for a file descriptor the parent passed (`--reply-fd`). */
export function replyStream(fd: number): Writable {
  return createWriteStream('', { fd });
}
