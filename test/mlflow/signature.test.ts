import { describe, expect, it } from 'vitest';
import { MlflowException } from '../../src/mlflow/errors.js';
import {
  AnyType, ArrayType as MArray, ColSpec, DataType, MapType as MMap, ModelSignature, ObjectType as MObject, ParamSchema, ParamSpec,
  Property, Schema, TensorSpec,
} from '../../src/mlflow/signature/index.js';

const chat214 = new Schema([
  new ColSpec(new MArray(new MObject([
    new Property('role', 'string'), new Property('content', 'string'), new Property('name', 'string', false),
  ])), 'messages'),
  new ColSpec('double', 'temperature', false),
  new ColSpec('long', 'max_tokens', false),
  new ColSpec(new MArray('string'), 'stop', false),
  new ColSpec('long', 'n', false),
  new ColSpec('boolean', 'stream', false),
]);

describe('JSON encoding (mlflow-format.md §3.2/§3.3)', () => {
  it('ColSpec keys type, name, required; Array items then name/required', () => {
    expect(new Schema([new ColSpec('string', 'prompt')]).toJson()).toBe('[{"type": "string", "name": "prompt", "required": true}]');
    expect(new Schema([new ColSpec('string')]).toJson()).toBe('[{"type": "string", "required": true}]');
    expect(new Schema([new ColSpec(new MArray('string'), 'stop', false)]).toJson()).toBe(
      '[{"type": "array", "items": {"type": "string"}, "name": "stop", "required": false}]',
    );
  });

  it('Object properties sorted, Map and Any', () => {
    const obj = new MObject([new Property('role', 'string'), new Property('content', 'string', false)]);
    expect(JSON.stringify(obj.toDict())).toBe(
      '{"type":"object","properties":{"content":{"type":"string","required":false},"role":{"type":"string","required":true}}}',
    );
    expect(new Schema([new ColSpec(new MMap(new AnyType()), 'custom_inputs', false)]).toJson()).toBe(
      '[{"type": "map", "values": {"type": "any"}, "name": "custom_inputs", "required": false}]',
    );
  });

  it('TensorSpec name, type, tensor-spec{dtype, shape}', () => {
    expect(new Schema([new TensorSpec('float32', [-1, 4], 'x')]).toJson()).toBe(
      '[{"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]',
    );
  });

  it('ParamSchema key order name, default, shape, type (golden from §3.3)', () => {
    const params = new ParamSchema([new ParamSpec('temperature', 'double', 0.7), new ParamSpec('stop', 'string', ['</s>'], [-1])]);
    expect(params.toJson()).toBe(
      '[{"name": "temperature", "default": 0.7, "shape": null, "type": "double"}, {"name": "stop", "default": ["</s>"], "shape": [-1], "type": "string"}]',
    );
    expect(new ParamSchema([new ParamSpec('t', 'double', 1)]).toJson()).toBe('[{"name": "t", "default": 1.0, "shape": null, "type": "double"}]');
  });

  it('signature dict holds JSON strings or null', () => {
    const sig = new ModelSignature({ inputs: new Schema([new ColSpec('string', 'prompt')]), outputs: new Schema([new ColSpec('string')]) });
    expect(sig.toDict()).toEqual({
      inputs: '[{"type": "string", "name": "prompt", "required": true}]',
      outputs: '[{"type": "string", "required": true}]',
      params: null,
    });
  });
});

describe('repr (mlflow-format.md §3.4)', () => {
  it('prints each kind as MLflow does', () => {
    expect(DataType.string.repr()).toBe('string');
    expect(new ColSpec('string', 'prompt').repr()).toBe("'prompt': string (required)");
    expect(new ColSpec('string').repr()).toBe('string (required)');
    expect(new MArray('string').repr()).toBe('Array(string)');
    expect(new MObject([new Property('role', 'string'), new Property('content', 'string', false)]).repr()).toBe(
      '{content: string (optional), role: string (required)}',
    );
    expect(new Property('role', 'string').repr()).toBe('role: string (required)');
    expect(new MMap('string').repr()).toBe('Map(str -> DataType.string)');
    expect(new MMap(new AnyType()).repr()).toBe('Map(str -> Any)');
    expect(new AnyType().repr()).toBe('Any');
    expect(new TensorSpec('float32', [-1, 4]).repr()).toBe("Tensor('float32', (-1, 4))");
    expect(new TensorSpec('float32', [-1, 4], 'x').repr()).toBe("'x': Tensor('float32', (-1, 4))");
    expect(new Schema([new ColSpec('string', 'prompt')]).repr()).toBe("['prompt': string (required)]");
    expect(new ParamSpec('temperature', 'double', 0.7).repr()).toBe("'temperature': double (default: 0.7)");
    expect(new ParamSpec('stop', 'string', ['</s>'], [-1]).repr()).toBe("'stop': string (default: ['</s>']) (shape: (-1,))");
    expect(new ParamSpec('device', 'string', 'cuda').repr()).toBe("'device': string (default: cuda)");
  });

  it('2.14 chat schema from task.rst', () => {
    expect(chat214.repr()).toBe(
      "['messages': Array({content: string (required), name: string (optional), role: string (required)}) (required), 'temperature': double (optional), 'max_tokens': long (optional), 'stop': Array(string) (optional), 'n': long (optional), 'stream': boolean (optional)]",
    );
    expect(Schema.fromJson(chat214.toJson()).equals(chat214)).toBe(true);
  });

  it('ModelSignature', () => {
    const sig = new ModelSignature({ inputs: new Schema([new ColSpec('string', 'prompt')]), outputs: new Schema([new ColSpec('string')]) });
    expect(sig.repr()).toBe("inputs: \n  ['prompt': string (required)]\noutputs: \n  [string (required)]\nparams: \n  None\n");
  });
});

describe('validation (§3.2)', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['empty schema', () => new Schema([]), /empty inputs is not allowed/],
    ['mixed names', () => new Schema([new ColSpec('string', 'a'), new ColSpec('string')]), /combination of named and unnamed/],
    ['mixed specs', () => new Schema([new ColSpec('string', 'a'), new TensorSpec('float32', [-1], 'b')]), /combination of ColSpec and TensorSpec/],
    ['unnamed tensors', () => new Schema([new TensorSpec('float32', [-1]), new TensorSpec('float32', [-1])]), /multiple unnamed TensorSpecs/],
    ['unnamed optional', () => new Schema([new ColSpec('string', undefined, false)]), /unnamed optional inputs/],
    ['empty object', () => new MObject([]), /empty properties/],
    ['duplicate properties', () => new MObject([new Property('a', 'string'), new Property('a', 'long')]), /duplicated property names/],
    ['unknown type', () => new ColSpec('text' as never, 'a'), /Unsupported type 'text'/],
    ['sized string dtype', () => new TensorSpec('<U5', [-1]), /does not support size information/],
    ['binary param', () => new ParamSpec('p', 'binary', new Uint8Array()), /Binary type is not supported/],
    ['bad param shape', () => new ParamSpec('p', 'long', [[1]], [-1, 2]), /Shape must be None/],
    ['bad default', () => new ParamSpec('p', 'long', 'x'), /Failed to validate type and shape for 'p': long \(default: x\)/],
    ['duplicate params', () => new ParamSchema([new ParamSpec('a', 'long', 1), new ParamSpec('a', 'long', 2)]), /Duplicated parameters/],
    ['empty signature', () => new ModelSignature({}), /At least one of inputs, outputs or params/],
    ['not JSON', () => Schema.fromJson('[{"type": '), /Invalid schema JSON/],
    ['no type', () => Schema.fromJson('[{"name": "a"}]'), /Expected to find key `type`/],
  ];
  it.each(cases)('%s', (_name, make, message) => {
    expect(make).toThrow(MlflowException);
    expect(make).toThrow(message);
  });
});

describe('legacy readers', () => {
  it('missing required means required; optional: true means optional', () => {
    const s = Schema.fromJson('[{"name": "a", "type": "double"}, {"type": "double", "name": "b", "optional": true}]');
    expect(s.repr()).toBe("['a': double (required), 'b': double (optional)]");
  });

  it('integer column names', () => {
    expect(Schema.fromJson('[{"name": 0, "type": "double"}]').repr()).toBe('[0: double (required)]');
  });

  it('dtype alias and either key order in params', () => {
    const a = ParamSchema.fromJson('[{"name": "batch_size", "dtype": "long", "default": 16, "shape": null}]');
    const b = ParamSchema.fromJson('[{"name": "batch_size", "type": "long", "default": 16, "shape": null}]');
    expect(a.equals(b)).toBe(true);
    expect(a.toJson()).toBe('[{"name": "batch_size", "default": 16, "shape": null, "type": "long"}]');
  });
});
