/** `ModelSignature` (`mlflow/models/signature.py`): input, output and params schemas of a model. */
import { MlflowException } from '../errors.js';
import { ParamSchema, Schema } from './schema.js';
import { isRecord } from './types.js';

export interface SignatureDict {
  inputs: string | null;
  outputs: string | null;
  params: string | null;
}

export class ModelSignature {
  readonly inputs?: Schema;
  readonly outputs?: Schema;
  readonly params?: ParamSchema;
  /**
   * MLflow 3 keeps these two flags on the signature and writes them at the top level of MLmodel.
   * `undefined` means "not recorded" (files before 2.21), so re-written old files stay unchanged.
   */
  readonly isSignatureFromTypeHint?: boolean;
  readonly typeHintFromExample?: boolean;

  constructor(init: {
    inputs?: Schema | null;
    outputs?: Schema | null;
    params?: ParamSchema | null;
    isSignatureFromTypeHint?: boolean;
    typeHintFromExample?: boolean;
  }) {
    const { inputs, outputs, params } = init;
    if (inputs != null && !(inputs instanceof Schema)) {
      throw new MlflowException(`inputs must be either None, mlflow.models.signature.Schema, or a dictionary, got '${typeof inputs}'`);
    }
    if (outputs != null && !(outputs instanceof Schema)) {
      throw new MlflowException(`outputs must be either None, mlflow.models.signature.Schema, or a dictionary, got '${typeof outputs}'`);
    }
    if (params != null && !(params instanceof ParamSchema)) {
      throw new MlflowException(`If params are provided, they must by of type mlflow.models.signature.ParamSchema, got '${typeof params}'`);
    }
    if (inputs == null && outputs == null && params == null) {
      throw MlflowException.invalidParameterValue('At least one of inputs, outputs or params must be provided');
    }
    this.inputs = inputs ?? undefined;
    this.outputs = outputs ?? undefined;
    this.params = params ?? undefined;
    this.isSignatureFromTypeHint = init.isSignatureFromTypeHint;
    this.typeHintFromExample = init.typeHintFromExample;
  }

  /** The three JSON strings (or null) stored under `signature:` in MLmodel. */
  toDict(): SignatureDict {
    return {
      inputs: this.inputs ? this.inputs.toJson() : null,
      outputs: this.outputs ? this.outputs.toJson() : null,
      params: this.params ? this.params.toJson() : null,
    };
  }

  /** Parses each non-empty string; missing or null entries stay absent. */
  static fromDict(dict: unknown): ModelSignature {
    if (!isRecord(dict)) throw MlflowException.invalidParameterValue('A model signature must be a mapping of inputs, outputs and params');
    const text = (key: string): string | undefined => {
      const v = dict[key];
      if (v === null || v === undefined || v === '') return undefined;
      if (typeof v !== 'string') {
        throw MlflowException.invalidParameterValue(`Signature ${key} must be a JSON string, got ${JSON.stringify(v)}`);
      }
      return v;
    };
    const inputs = text('inputs');
    const outputs = text('outputs');
    const params = text('params');
    return new ModelSignature({
      inputs: inputs ? Schema.fromJson(inputs) : undefined,
      outputs: outputs ? Schema.fromJson(outputs) : undefined,
      params: params ? ParamSchema.fromJson(params) : undefined,
    });
  }

  /** A copy with the MLflow 3 type-hint flags set. */
  withTypeHintFlags(isSignatureFromTypeHint: boolean, typeHintFromExample: boolean): ModelSignature {
    return new ModelSignature({ ...this, isSignatureFromTypeHint, typeHintFromExample });
  }

  /** Python's `repr(signature)`: `inputs: \n  [...]\noutputs: \n  [...]\nparams: \n  None\n`. */
  repr(): string {
    const show = (s?: Schema | ParamSchema) => (s ? s.repr() : 'None');
    return `inputs: \n  ${show(this.inputs)}\noutputs: \n  ${show(this.outputs)}\nparams: \n  ${show(this.params)}\n`;
  }

  toString(): string {
    return this.repr();
  }

  equals(other: unknown): boolean {
    const same = (a?: { equals(o: unknown): boolean }, b?: unknown) => (a ? a.equals(b) : b === undefined);
    return other instanceof ModelSignature && same(this.inputs, other.inputs) && same(this.outputs, other.outputs) &&
      same(this.params, other.params);
  }
}
