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

/**
 * MLflow 3.18's error classification (`mlflow/error_classification.py`, client side): every error body
 * carries an `error_class` (given at the raise site, else derived from the code) and a `sqlstate`
 * (from the class where it has its own, else from the code). Codes missing here carry neither.
 */
export type MlflowErrorClass =
  | 'INVALID_PARAMETER_VALUE'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_NOT_FOUND'
  | 'FEATURE_DISABLED'
  | 'CLIENT_INTERNAL_ERROR'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'SCHEMA_ENFORCEMENT_FAILED'
  | 'PREDICTION_FUNCTION_FAILED'
  | 'MODEL_SERIALIZATION_FAILED'
  | 'ATTRIBUTE_NOT_FOUND';

const ERROR_CLASS: Partial<Record<MlflowErrorCode | 'FEATURE_DISABLED', [MlflowErrorClass, string]>> = {
  BAD_REQUEST: ['INVALID_PARAMETER_VALUE', 'KAM00'],
  CUSTOMER_UNAUTHORIZED: ['PERMISSION_DENIED', 'KAM00'],
  ENDPOINT_NOT_FOUND: ['RESOURCE_NOT_FOUND', 'KAM00'],
  FEATURE_DISABLED: ['FEATURE_DISABLED', 'KAM00'],
  INTERNAL_ERROR: ['CLIENT_INTERNAL_ERROR', 'XXM00'],
  INVALID_PARAMETER_VALUE: ['INVALID_PARAMETER_VALUE', 'KAM00'],
  INVALID_STATE: ['CLIENT_INTERNAL_ERROR', 'XXM00'],
  NOT_FOUND: ['RESOURCE_NOT_FOUND', 'KAM00'],
  PERMISSION_DENIED: ['PERMISSION_DENIED', 'KAM00'],
  RESOURCE_ALREADY_EXISTS: ['RESOURCE_ALREADY_EXISTS', 'KAM00'],
  RESOURCE_DOES_NOT_EXIST: ['RESOURCE_NOT_FOUND', 'KAM00'],
  TEMPORARILY_UNAVAILABLE: ['CLIENT_INTERNAL_ERROR', 'XXM00'],
};

const CLASS_SQLSTATE: Partial<Record<MlflowErrorClass, string>> = {
  ATTRIBUTE_NOT_FOUND: 'KAM04',
  MODEL_SERIALIZATION_FAILED: 'KAM03',
  PREDICTION_FUNCTION_FAILED: 'KAM02',
  SCHEMA_ENFORCEMENT_FAILED: 'KAM01',
};

/** The HTTP status MLflow answers with for an error code (500 for anything it does not map). */
export function httpStatusFor(code: string): number {
  return HTTP_STATUS[code as MlflowErrorCode] ?? 500;
}

export interface MlflowExceptionOptions {
  cause?: unknown;
  /** Set where the code is too coarse, as MLflow's raise sites do (`SCHEMA_ENFORCEMENT_FAILED`). */
  errorClass?: MlflowErrorClass;
}

/**
 * MLflow's `MlflowException`: a message plus an error code that decides the HTTP status.
 * Like Python, a missing code means INTERNAL_ERROR; `toJSON()` is the body the scoring server sends.
 */
export class MlflowException extends OrtGenAIError {
  readonly errorCode: MlflowErrorCode;
  readonly httpStatus: number;
  /** MLflow 3.18's finer classification; undefined for codes MLflow does not classify. */
  readonly errorClass: MlflowErrorClass | undefined;
  readonly sqlstate: string | undefined;

  constructor(message: string, errorCode: MlflowErrorCode = 'INTERNAL_ERROR', options?: MlflowExceptionOptions) {
    super(message, errorCode, options);
    this.errorCode = errorCode;
    this.httpStatus = httpStatusFor(errorCode);
    const [derivedClass, codeState] = ERROR_CLASS[errorCode] ?? [];
    this.errorClass = options?.errorClass ?? derivedClass;
    this.sqlstate = (this.errorClass && CLASS_SQLSTATE[this.errorClass]) ?? codeState;
  }

  /** `MlflowException.invalid_parameter_value(...)`: the code every schema failure carries. */
  static invalidParameterValue(message: string, options?: MlflowExceptionOptions): MlflowException {
    return new MlflowException(message, 'INVALID_PARAMETER_VALUE', options);
  }

  /** `serialize_as_json()`: the body the scoring server sends. */
  toJSON(): { error_code: string; message: string; sqlstate?: string; error_class?: string } {
    return {
      error_code: this.errorCode,
      message: this.message,
      ...(this.sqlstate ? { sqlstate: this.sqlstate } : {}),
      ...(this.errorClass ? { error_class: this.errorClass } : {}),
    };
  }
}
