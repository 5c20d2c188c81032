import { OrtGenAIError } from '../errors.js';

/** MLflow's error codes (`mlflow/protos/databricks.proto`); the scoring server and REST API speak these. */
export type MlflowErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'UNAUTHENTICATED'
  | 'CUSTOMER_UNAUTHORIZED'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'NOT_FOUND'
  | 'ENDPOINT_NOT_FOUND'
  | 'ABORTED'
  | 'ALREADY_EXISTS'
  | 'RESOURCE_CONFLICT'
  | 'REQUEST_LIMIT_EXCEEDED'
  | 'RESOURCE_EXHAUSTED'
  | 'CANCELLED'
  | 'INTERNAL_ERROR'
  | 'INVALID_STATE'
  | 'DATA_LOSS'
  | 'NOT_IMPLEMENTED'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'DEADLINE_EXCEEDED';

// mlflow-format.md §7.8 (mlflow/exceptions.py): codes missing here answer 500.
const HTTP_STATUS: Partial<Record<MlflowErrorCode, number>> = {
  BAD_REQUEST: 400,
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  UNAUTHENTICATED: 401,
  CUSTOMER_UNAUTHORIZED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_DOES_NOT_EXIST: 404,
  NOT_FOUND: 404,
  ENDPOINT_NOT_FOUND: 404,
  ABORTED: 409,
  ALREADY_EXISTS: 409,
  RESOURCE_CONFLICT: 409,
  REQUEST_LIMIT_EXCEEDED: 429,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL_ERROR: 500,
  INVALID_STATE: 500,
  DATA_LOSS: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/** The HTTP status MLflow answers with for an error code (500 for anything it does not map). */
export function httpStatusFor(code: string): number {
  return HTTP_STATUS[code as MlflowErrorCode] ?? 500;
}

/**
 * MLflow's `MlflowException`: a message plus an error code that decides the HTTP status.
 * Like Python, a missing code means INTERNAL_ERROR; `toJSON()` is the body the scoring server sends.
 */
export class MlflowException extends OrtGenAIError {
  readonly errorCode: MlflowErrorCode;
  readonly httpStatus: number;

  constructor(message: string, errorCode: MlflowErrorCode = 'INTERNAL_ERROR', options?: { cause?: unknown }) {
    super(message, errorCode, options);
    this.errorCode = errorCode;
    this.httpStatus = httpStatusFor(errorCode);
  }

  /** `MlflowException.invalid_parameter_value(...)`: the code every schema failure carries. */
  static invalidParameterValue(message: string, options?: { cause?: unknown }): MlflowException {
    return new MlflowException(message, 'INVALID_PARAMETER_VALUE', options);
  }

  toJSON(): { error_code: string; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}
