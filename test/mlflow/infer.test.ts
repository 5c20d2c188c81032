import { describe, expect, it } from 'vitest';
import { MlflowException } from '../../src/mlflow/errors.js';
import { inferParamSchema, inferSchema, inferSignature } from '../../src/mlflow/signature/index.js';

const quiet = () => {};

describe('inferSignature', () => {
  it('seed case: {prompt} in, ["Run"] out, no params', () => {
    const sig = inferSignature({ prompt: 'Tell me a joke' }, ['Run'], undefined, { onWarning: quiet });
    expect(sig.inputs!.repr()).toBe("['prompt': string (required)]");
    expect(sig.outputs!.repr()).toBe('[string (required)]');
    expect(sig.params).toBeUndefined();
    expect(sig.toDict().params).toBeNull();
  });

  it('leaves out a side that cannot be inferred, with a warning', () => {
    const warnings: string[] = [];
    const sig = inferSignature({ prompt: 'x' }, [1, 'a'], undefined, { onWarning: (w) => warnings.push(w) });
    expect(sig.outputs).toBeUndefined();
    expect(warnings[0]).toMatch(/Expected all values in the list to be of the same type/);
  });
});

describe('inferSchema, row by row (§3.5)', () => {
  const rows: [string, unknown, string, string][] = [
    ['dict of scalars', { prompt: 'hi' }, '[{"type": "string", "name": "prompt", "required": true}]', "['prompt': string (required)]"],
    ['dict of lists', { prompt: ['a', 'b'] }, '[{"type": "array", "items": {"type": "string"}, "name": "prompt", "required": true}]', "['prompt': Array(string) (required)]"],
    ['pandas-like dict', { a: [1, 2], b: [3, 4] }, '[{"type": "array", "items": {"type": "long"}, "name": "a", "required": true}, {"type": "array", "items": {"type": "long"}, "name": "b", "required": true}]', "['a': Array(long) (required), 'b': Array(long) (required)]"],
    ['list of dicts', [{ role: 'user', content: 'hi' }, { role: 'assistant', content: null }], '[{"type": "string", "name": "role", "required": true}, {"type": "string", "name": "content", "required": false}]', "['role': string (required), 'content': string (optional)]"],
    ['string', 'hi', '[{"type": "string", "required": true}]', '[string (required)]'],
    ['list of strings', ['a', 'b'], '[{"type": "string", "required": true}]', '[string (required)]'],
    ['output ["Run"]', ['Run'], '[{"type": "string", "required": true}]', '[string (required)]'],
    ['empty list', [], '[{"type": "string", "required": true}]', '[string (required)]'],
    ['typed array', new Float32Array([1, 2]), '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}}]', "[Tensor('float32', (-1,))]"],
    ['dict of typed arrays', { x: new Float64Array(2) }, '[{"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]', "['x': Tensor('float64', (-1,))]"],
  ];
  it.each(rows)('%s', (_name, data, json, repr) => {
    const schema = inferSchema(data, quiet);
    expect(schema.toJson()).toBe(json);
    expect(schema.repr()).toBe(repr);
  });

  it('scalar mapping: number, boolean, bytes, Date, null, nested dict', () => {
    const schema = inferSchema({ i: 1, f: 0.5, b: true, bin: new Uint8Array([1]), d: new Date(0), n: null, o: { k: 'v', z: null } }, quiet);
    expect(schema.repr()).toBe(
      "['i': long (required), 'f': double (required), 'b': boolean (required), 'bin': binary (required), 'd': datetime (required), 'n': Any (optional), 'o': {k: string (required), z: Any (optional)} (required)]",
    );
  });

  it('mixed list items are an error', () => {
    expect(() => inferSchema(['a', 1], quiet)).toThrow(/Expected all values in the list to be of the same type/);
  });

  it('warns about integer columns', () => {
    const warnings: string[] = [];
    inferSchema({ n: 3 }, (w) => warnings.push(w));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^Hint: Inferred schema contains integer column\(s\)/);
  });
});

describe('inferParamSchema', () => {
  it('scalars, lists with shape (-1,), dicts', () => {
    const params = inferParamSchema({ temperature: 0.7, max_tokens: 256, stream: true, stop: ['</s>'], mode: 'x', cfg: { a: 1 } });
    expect(params.repr()).toBe(
      "['temperature': double (default: 0.7), 'max_tokens': long (default: 256), 'stream': boolean (default: True), 'stop': string (default: ['</s>']) (shape: (-1,)), 'mode': string (default: x), 'cfg': {a: long (required)} (default: {'a': 1})]",
    );
    expect(params.toJson()).toContain('{"name": "cfg", "default": {"a": 1}, "shape": null, "type": "object", "properties": {"a": {"type": "long", "required": true}}}');
  });

  it('2-D lists are an error', () => {
    expect(() => inferParamSchema({ grid: [[1, 2]] })).toThrow(MlflowException);
    expect(() => inferParamSchema({ grid: [[1, 2]] })).toThrow(/Expected parameters to be 1D array or scalar, got 2D array/);
  });

  it('params must be a dict', () => {
    expect(() => inferParamSchema([1])).toThrow("Expected parameters to be dict, got list");
  });
});
