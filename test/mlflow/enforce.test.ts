import { describe, expect, it } from 'vitest';
import { MlflowException } from '../../src/mlflow/errors.js';
import {
  ArrayType as MArray, ColSpec, enforceInput, enforceParams, MapType as MMap, ObjectType as MObject, ParamSchema, ParamSpec, Property,
  Schema, TensorSpec, inferSignature,
} from '../../src/mlflow/signature/index.js';

const quiet = { onWarning: () => {} };
const prompt = new Schema([new ColSpec('string', 'prompt')]);

function failure(fn: () => unknown): MlflowException {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MlflowException);
    return error as MlflowException;
  }
  throw new Error('expected a failure');
}

describe('ColSpec inputs become a column table', () => {
  it('every input shape MLflow turns into rows', () => {
    expect(enforceInput({ prompt: 'hi' }, prompt)).toEqual({ prompt: ['hi'] });
    expect(enforceInput([{ prompt: 'a' }, { prompt: 'b' }], prompt)).toEqual({ prompt: ['a', 'b'] });
    expect(enforceInput('hi', new Schema([new ColSpec('string')]))).toEqual({ 0: ['hi'] });
    expect(enforceInput(['a', 'b'], new Schema([new ColSpec('string')]))).toEqual({ 0: ['a', 'b'] });
    expect(enforceInput({ a: [1, 2], b: [0.5, 1] }, new Schema([new ColSpec('long', 'a'), new ColSpec('double', 'b')]))).toEqual({
      a: [1, 2], b: [0.5, 1],
    });
  });

  it('drops extra columns with a warning, keeps schema order, skips missing optional', () => {
    const warnings: string[] = [];
    const schema = new Schema([new ColSpec('string', 'prompt'), new ColSpec('double', 'temperature', false)]);
    expect(enforceInput({ extra: 1, prompt: 'hi' }, schema, { onWarning: (w) => warnings.push(w) })).toEqual({ prompt: ['hi'] });
    expect(warnings).toEqual([
      "Found extra inputs in the model input that are not defined in the model signature: `['extra']`. These inputs will be ignored.",
    ]);
  });

  it('missing required column', () => {
    const e = failure(() => enforceInput({ promt: 'hi' }, prompt, quiet));
    expect(e.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(e.httpStatus).toBe(400);
    expect(e.message).toBe(
      "Failed to enforce schema of data '{'promt': 'hi'}' with schema '['prompt': string (required)]'. Error: Model is missing inputs ['prompt']. Note that there were extra inputs: ['promt'].",
    );
  });

  it('scalar conversions', () => {
    const schema = new Schema([new ColSpec('long', 'n'), new ColSpec('double', 'x'), new ColSpec('datetime', 'd')]);
    const out = enforceInput({ n: 3, x: 2, d: new Date('2024-01-02T03:04:05Z') }, schema) as Record<string, unknown[]>;
    expect(out.x).toEqual([2]);
    expect(out.d[0]).toEqual(new Date('2024-01-02T03:04:05Z'));
    // pandas 3 (MLflow 3.18's) types a column of strings `str`, not object: text is no datetime any more.
    expect(failure(() => enforceInput({ n: 3, x: 2, d: '2024-01-02T03:04:05' }, schema)).message).toMatch(
      /Error: Incompatible input types for column d. Can not safely convert str to datetime64\[ns\].$/,
    );
    expect(failure(() => enforceInput({ n: 1.5, x: 1, d: '2024-01-01' }, schema)).message).toMatch(
      /Error: Incompatible input types for column n. Can not safely convert float64 to int64.$/,
    );
    expect(failure(() => enforceInput([{ n: 1, x: 1, d: '2024-01-01' }, { n: null, x: 1, d: '2024-01-01' }], schema)).message).toMatch(
      /Can not safely convert float64 to int64. Hint: the type mismatch is likely caused by missing values/,
    );
    expect(failure(() => enforceInput({ prompt: 5 }, prompt)).message).toMatch(/Can not safely convert int64 to <U0\.$/);
    expect(failure(() => enforceInput({ n: 1, x: true, d: '2024-01-01' }, schema)).message).toMatch(/convert bool to float64/);
    expect(failure(() => enforceInput({ n: 1, x: 1, d: ['soon'] }, schema)).message).toMatch(
      /Failed to convert column d from type object to DataType.datetime\./,
    );
  });

  it('unnamed schema checks the column count', () => {
    const schema = new Schema([new ColSpec('string'), new ColSpec('string')]);
    expect(failure(() => enforceInput(['a'], schema)).message).toMatch(
      /Model inference is missing inputs. The model signature declares 2 inputs {2}but the provided value only has 1 inputs/,
    );
  });

  it('input that is not a DataFrame', () => {
    expect(failure(() => enforceInput(null, prompt)).message).toMatch(/Error: Expected input to be DataFrame. Found: NoneType$/);
  });
});

describe('Array / Object / Map cells', () => {
  const messages = new Schema([
    new ColSpec(new MArray(new MObject([new Property('role', 'string'), new Property('content', 'string', false)])), 'messages'),
    new ColSpec(new MMap('string'), 'tags', false),
  ]);

  it('accepts valid cells', () => {
    expect(enforceInput({ messages: [{ role: 'user', content: 'hi' }], tags: { a: 'b' } }, messages)).toEqual({
      messages: [[{ role: 'user', content: 'hi' }]], tags: [{ a: 'b' }],
    });
  });

  it.each([
    ['not a list', { messages: 'hi' }, 'Expected data to be list or numpy array, got str'],
    ['missing property', { messages: [{ content: 'x' }] }, "Missing required properties: {'role'}"],
    ['unknown property', { messages: [{ role: 'user', mood: 'ok' }] }, "Invalid properties not defined in the schema found: {'mood'}"],
    ['wrong property type', { messages: [{ role: 1 }] }, 'Failed to enforce schema for key `role`. Expected type string, received type int'],
    ['not a dict', { messages: ['hi'] }, "Failed to enforce schema of 'hi' with type '{content: string (optional), role: string (required)}'. Expected data to be dictionary, got str"],
    ['map not a dict', { messages: [{ role: 'u' }], tags: 'x' }, 'Expected data to be a dict, got str'],
  ])('%s', (_name, data, inner) => {
    const e = failure(() => enforceInput(data, messages));
    expect(e.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(e.message.endsWith(`Error: ${inner}`)).toBe(true);
  });
});

describe('TensorSpec inputs', () => {
  const image = new Schema([new TensorSpec('float32', [-1, 2])]);
  it('checks shape and dtype', () => {
    expect(enforceInput([[1, 2], [3, 4]], image)).toEqual([[1, 2], [3, 4]]);
    expect(failure(() => enforceInput([[1, 2, 3]], image)).message).toMatch(/Shape of input \(1, 3\) does not match expected shape \(-1, 2\)\.$/);
    expect(failure(() => enforceInput(new Float64Array(4), new Schema([new TensorSpec('float32', [-1])]))).message).toMatch(
      /dtype of input float64 does not match expected dtype float32$/,
    );
    expect(enforceInput({ x: new Int32Array(3) }, new Schema([new TensorSpec('int32', [-1], 'x')]))).toEqual({ x: new Int32Array(3) });
  });
});

describe('enforceParams', () => {
  const schema = new ParamSchema([
    new ParamSpec('temperature', 'double', 0.7),
    new ParamSpec('max_tokens', 'long', 256),
    new ParamSpec('stop', 'string', ['</s>'], [-1]),
  ]);

  it('fills defaults and applies overrides', () => {
    expect(enforceParams(undefined, schema)).toEqual({ temperature: 0.7, max_tokens: 256, stop: ['</s>'] });
    expect(enforceParams({ temperature: 1, stop: ['x'] }, schema)).toEqual({ temperature: 1, max_tokens: 256, stop: ['x'] });
  });

  it('drops unknown params with a warning', () => {
    const warnings: string[] = [];
    expect(enforceParams({ top_k: 3 }, schema, { onWarning: (w) => warnings.push(w) })).toEqual({
      temperature: 0.7, max_tokens: 256, stop: ['</s>'],
    });
    expect(warnings[0]).toMatch(/^Unrecognized params \['top_k'\] are ignored for inference. Supported params are: \{'temperature', 'max_tokens', 'stop'\}/);
  });

  it('collects invalid params', () => {
    const e = failure(() => enforceParams({ max_tokens: 'many', stop: 'x' }, schema));
    expect(e.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(e.message).toBe(
      "Invalid parameters found: {('max_tokens', \"Failed to validate type and shape for 'max_tokens': long (default: 256), error: Can not safely convert `<class 'str'>` to `DataType.long` for value `many`\"), ('stop', \"Value must be a 1D array with shape (-1,) for param 'stop': string (default: ['</s>']) (shape: (-1,)), received str with ndim 0\")}",
    );
  });

  it('params must be a dictionary', () => {
    expect(failure(() => enforceParams([1], schema)).message).toBe("Parameters must be a dictionary. Got type 'list'.");
  });

  it('without a param schema every param is dropped', () => {
    const warnings: string[] = [];
    expect(enforceParams({ a: 1 }, undefined, { onWarning: (w) => warnings.push(w) })).toEqual({});
    expect(warnings[0]).toMatch(/This model does not define a params schema. Ignoring provided params: \['a'\]/);
  });
});

describe('large inputs', () => {
  it('enforces and infers 200,000 rows of lists (more than a spread call can take)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [i % 10]);
    const column = rows.map(([v]) => v);
    expect(enforceInput(rows, new Schema([new ColSpec('long')]))).toEqual({ 0: column });
    expect(inferSignature(rows).inputs!.repr()).toBe('[Array(long) (required)]');
    expect(enforceInput(rows, new Schema([new TensorSpec('int64', [-1, 1])]))).toEqual(rows);
    expect(failure(() => enforceInput(rows, new Schema([new TensorSpec('int64', [-1, 2])]))).message).toMatch(
      /Shape of input \(200000, 1\) does not match expected shape \(-1, 2\)\.$/,
    );
  });
});
