import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MLModel, ortgenai } from '../../src/mlflow/index.js';
import { fixtureModel, repoRoot } from '../helpers/fixtures.js';

// The Python loader shipped in code/ of ORT-GenAI models. Python 3 runs it for real here; only the
// onnxruntime_genai package is missing, and the loader imports it only when a model is loaded.
const run = promisify(execFile);
const LOADER = path.join(repoRoot, 'python', 'ortgenai_mlflow_loader.py');

let root: string;
let modelDir: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ortgenai-pyloader-'));
  modelDir = path.join(root, 'chat');
  await ortgenai.saveModel(modelDir, { model: fixtureModel('tiny-deterministic'), task: 'llm/v1/chat', modelConfig: { max_tokens: 7 } });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function python(code: string): Promise<unknown> {
  const { stdout } = await run('python3', ['-c', code], { cwd: path.join(modelDir, 'code') });
  return JSON.parse(stdout);
}

describe('python/ortgenai_mlflow_loader.py', () => {
  it('compiles', async () => {
    await run('python3', ['-m', 'py_compile', LOADER], { env: { ...process.env, PYTHONPYCACHEPREFIX: path.join(root, 'pycache') } });
  });

  it('is shipped in code/ and named by the python_function flavor as MLflow loads it', async () => {
    expect(await readFile(path.join(modelDir, 'code', 'ortgenai_mlflow_loader.py'), 'utf8')).toBe(await readFile(LOADER, 'utf8'));
    const flavor = (await MLModel.load(modelDir)).flavors.python_function;
    expect(flavor).toEqual({
      loader_module: 'ortgenai_mlflow_loader',
      code: 'code',
      data: 'model',
      env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' },
      python_version: '3.11.9',
      config: { max_tokens: 7 },
      streamable: false,
    });
  });

  it('reads the task and model name from the MLmodel next to data_path, with PyYAML', async () => {
    expect(await python(`import json, ortgenai_mlflow_loader as l; print(json.dumps(l._read_flavor(${JSON.stringify(path.join(modelDir, 'model'))})))`)).toEqual({
      model_data: 'model',
      source_model_name: 'tiny-deterministic',
      task: 'llm/v1/chat',
    });
  });

  it('takes the prompt column, else the only column, as the Node flavor does', async () => {
    expect(
      await python(`
import json, ortgenai_mlflow_loader as l
try:
    l._text_prompt({"a": "x", "b": "y"})
    refused = None
except ValueError as e:
    refused = str(e)
print(json.dumps([l._text_prompt({"prompt": "p", "max_tokens": 3}), l._text_prompt({"text": "t"}), refused]))`),
    ).toEqual(['p', 't', "expected a 'prompt' column (or a single text column), got columns ['a', 'b']"]);
  });

  it('merges request > params > config, cuts at stop strings and maps response_format to guidance', async () => {
    const out = await python(`
import json, ortgenai_mlflow_loader as l
rows = l._rows({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "stop": "x"})
print(json.dumps({
  "rows": rows,
  "options": l._merge_options({"max_tokens": 7, "temperature": 0.2}, {"temperature": 0.5, "n": 2}, rows[0]),
  "defaults": l._merge_options({}, None, {"temperature": float("nan")}),
  "cut": l._truncate_at_stop("hello world", ["wor", "lo"]),
  "uncut": l._truncate_at_stop("hello", ["z"]),
  "json": l._guidance({"type": "json_schema", "json_schema": {"schema": {"type": "object"}}}),
  "text": l._guidance({"type": "text"}),
  "response": l._response("llm/v1/chat", "m", [(0, "hi", "stop")], {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}),
}))`);
    expect(out).toMatchObject({
      rows: [{ messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, stop: 'x' }],
      options: { max_tokens: 3, temperature: 0.5, n: 2, stop: ['x'] },
      defaults: { max_tokens: 256, stop: [] },
      cut: ['hel', true],
      uncut: ['hello', false],
      json: '{"type": "object", "x-guidance": {"whitespace_flexible": false}}',
      text: null,
      response: {
        object: 'chat.completion',
        model: 'm',
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hi' } }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      },
    });
  });
});
