import { AbortError, DisposedError } from '../../errors.js';
import { MlflowException } from '../../mlflow/errors.js';
import { pyStr } from '../../mlflow/pycompat/repr.js';
import { PayloadTooLargeError, readBody } from '../body.js';
import type { ServingCore } from '../core.js';
import type { Exchange } from '../exchange.js';
import { ServerBusyError } from '../limiter.js';
import { checkContentType } from './content-type.js';
import { invalidInput } from './frame.js';
import { predictionsToJson } from './jsonable.js';
import { parseScoringInput, type Invocation } from './payload.js';

/** MLflow's error body (`MlflowException.serialize_as_json`) with the status its code maps to. */
export function sendMlflowError(ex: Exchange, err: MlflowException, extra: Record<string, string> = {}, status = err.httpStatus): void {
  ex.sendJson(status, { ...err.toJSON(), ...extra });
}

/** Answers for requests that ended without a prediction: timeout, shutdown, overload. */
function sendInterruption(ex: Exchange, err: unknown): boolean {
  switch (ex.abortKind) {
    case 'timeout':
      // MLflow's timeout middleware: 504, labelled JSON although the body is plain text.
      ex.send(504, 'Request processing time exceeded limit', 'application/json');
      return true;
    case 'shutdown':
      sendMlflowError(ex, new MlflowException('The server is shutting down', 'TEMPORARILY_UNAVAILABLE'));
      return true;
    case 'disconnect':
      return true;
  }
  if (err instanceof ServerBusyError) {
    sendMlflowError(ex, new MlflowException(err.message, 'TEMPORARILY_UNAVAILABLE'));
    return true;
  }
  return false;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseInvocation(core: ServingCore, mime: 'application/json' | 'text/csv', body: Buffer): Invocation {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw invalidInput('The request body is not valid UTF-8.');
  }
  return parseScoringInput(text, mime, core.model.metadata.signature);
}

/** `POST /invocations` (mlflow-format.md §7.3-7.9). */
export async function invocations(ex: Exchange, core: ServingCore): Promise<void> {
  ex.startTimeout(core.options.timeout);
  const contentType = checkContentType(ex.req.headers['content-type']);
  if (!contentType.ok) {
    ex.req.resume();
    ex.send(415, contentType.message, 'text/plain; charset=utf-8');
    return;
  }
  let invocation: Invocation;
  try {
    invocation = parseInvocation(core, contentType.mime, await readBody(ex.req, core.options.maxBodySize, ex.signal));
  } catch (err) {
    if (err instanceof PayloadTooLargeError) sendMlflowError(ex, new MlflowException(err.message, 'BAD_REQUEST'), {}, 413);
    else if (err instanceof MlflowException) sendMlflowError(ex, err);
    else if (!sendInterruption(ex, err) && !(err instanceof AbortError)) throw err; // AbortError: the client left
    return;
  }

  let predictions: unknown;
  try {
    predictions = await core.predict(ex, (signal) => core.model.predict(invocation.data, invocation.params as Record<string, unknown> | undefined, { signal }));
  } catch (err) {
    if (sendInterruption(ex, err)) return;
    if (err instanceof DisposedError) {
      // The embedding app disposed the model under a live server: no model to serve, as /ping says too.
      sendMlflowError(ex, new MlflowException('The model is no longer loaded (it was disposed)', 'TEMPORARILY_UNAVAILABLE'));
    } else if (err instanceof MlflowException) {
      const rewritten = new MlflowException(`Failed to predict data '${pyStr(invocation.data)}'. \nError: ${err.message}`, err.errorCode, { cause: err, errorClass: err.errorClass });
      sendMlflowError(ex, rewritten);
    } else {
      const unexpected = new MlflowException(
        'Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference.',
        'BAD_REQUEST',
      );
      sendMlflowError(ex, unexpected, { stack_trace: err instanceof Error ? (err.stack ?? String(err)) : String(err) });
    }
    return;
  }

  let json: string;
  try {
    json = predictionsToJson(invocation.unified ? predictions : { predictions });
  } catch (err) {
    sendMlflowError(ex, new MlflowException(`The model's prediction cannot be serialized to JSON: ${(err as Error).message}`, 'INTERNAL_ERROR'));
    return;
  }
  ex.send(200, json, 'application/json');
}
