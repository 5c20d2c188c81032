import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputExampleFiles, loadInputExample, loadInputExampleParams, saveInputExample } from '../../src/mlflow/input-example.js';
import { MLModel } from '../../src/mlflow/mlmodel.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlflow-example-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writing (mlflow-format.md §4)', () => {
  it('a dict: json_object, serving {"inputs": ...} with indent=2, no trailing newline', async () => {
    const info = await saveInputExample(dir, { question: 'hi', n: [1, 2] });
    expect(info).toEqual({ artifact_path: 'input_example.json', type: 'json_object', serving_input_path: 'serving_input_example.json' });
    expect(await readFile(path.join(dir, 'input_example.json'), 'utf8')).toBe('{"question": "hi", "n": [1, 2]}');
    expect(await readFile(path.join(dir, 'serving_input_example.json'), 'utf8')).toBe(
      '{\n  "inputs": {\n    "question": "hi",\n    "n": [\n      1,\n      2\n    ]\n  }\n}',
    );
  });

  it('unified LLM dicts are served as is, params merged in', () => {
    const files = inputExampleFiles({ prompt: 'hi' }, { temperature: 0.5 });
    expect(files.info.params).toBe('true');
    expect(files.inputExample).toBe('{"inputs": {"prompt": "hi"}, "params": {"temperature": 0.5}}');
    expect(files.servingInput).toBe('{\n  "prompt": "hi",\n  "temperature": 0.5\n}');
    expect(inputExampleFiles({ messages: [] }).servingInput).toBe('{\n  "messages": []\n}');
  });

  it('params otherwise go under "params"', () => {
    const files = inputExampleFiles(['a'], { k: 1 });
    expect(files.servingInput).toBe('{\n  "inputs": [\n    "a"\n  ],\n  "params": {\n    "k": 1\n  }\n}');
  });

  it('scalars, tensors, bytes and non-ASCII text', () => {
    expect(inputExampleFiles('hi').inputExample).toBe('"hi"');
    const tensor = inputExampleFiles(new Float64Array([1.5, NaN]));
    expect(tensor.info.type).toBe('ndarray');
    expect(tensor.inputExample).toBe('[1.5, null]');
    expect(inputExampleFiles({ b: new Uint8Array([104, 105]), t: 'été' }).inputExample).toBe('{"b": "aGk=\\n", "t": "\\u00e9t\\u00e9"}');
    expect(() => inputExampleFiles({ a: new Float32Array(1), b: 1 })).toThrow(/Mixed types in dictionary/);
    expect(() => inputExampleFiles({ a: 1 }, { grid: [[1]] })).toThrow(/2D array/);
  });

  it('reads back what it wrote, with params', async () => {
    const info = await saveInputExample(dir, { prompt: 'Tell me a joke' }, { max_tokens: 16 });
    const model = new MLModel({ flavors: {}, savedInputExampleInfo: info });
    expect(await loadInputExample(dir, model)).toEqual({ prompt: 'Tell me a joke' });
    expect(await loadInputExampleParams(dir, model)).toEqual({ max_tokens: 16 });
  });
});

describe('reading every stored form', () => {
  async function read(file: string, info: Record<string, unknown>, signature?: string): Promise<unknown> {
    await writeFile(path.join(dir, 'input_example.json'), file);
    const model = MLModel.fromYaml(
      `flavors: {}\nsaved_input_example_info: ${JSON.stringify({ artifact_path: 'input_example.json', ...info })}\n` +
        (signature ? `signature:\n  inputs: '${signature}'\n` : ''),
    );
    return loadInputExample(dir, model);
  }

  it('pre-2.16 dataframe {columns, data}', async () => {
    expect(await read('{"columns": ["a", "b", "c"], "data": [[3.0, 1, "foo"]]}', { type: 'dataframe', pandas_orient: 'split' })).toEqual([
      { a: 3, b: 1, c: 'foo' },
    ]);
  });

  it('values orient without columns', async () => {
    expect(await read('{"data": [[1.5, 2.5]]}', { type: 'dataframe', pandas_orient: 'values' })).toEqual([[1.5, 2.5]]);
  });

  it('binary columns are base64-decoded with the signature', async () => {
    const rows = (await read('{"columns": ["img"], "data": [["aGk="]]}', { type: 'dataframe', pandas_orient: 'split' },
      '[{"type": "binary", "name": "img", "required": true}]')) as { img: Uint8Array }[];
    expect(Buffer.from(rows[0].img).toString()).toBe('hi');
  });

  it('ndarray, bare and tf-serving', async () => {
    expect(await read('[[1.0, 2.0]]', { type: 'ndarray' })).toEqual([[1, 2]]);
    expect(await read('{"inputs": ["a b"]}', { type: 'ndarray', format: 'tf-serving' })).toEqual(['a b']);
    expect(await read('{"instances": [{"x": 1}, {"x": 2}]}', { type: 'ndarray', format: 'tf-serving' })).toEqual({ x: [1, 2] });
  });

  it('unknown example types are refused', async () => {
    await expect(read('{}', { type: 'parquet' })).rejects.toThrow('This version of mlflow can not load example of type parquet');
  });

  it('example paths may not leave the model directory', async () => {
    await expect(read('{}', { type: 'json_object', artifact_path: '../secret.json' })).rejects.toThrow(/Invalid input example path/);
  });
});
