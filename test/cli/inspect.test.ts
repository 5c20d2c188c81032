import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelReport } from '../../src/cli/model-report.js';
import { fixtureModel, repoRoot, testPython } from '../helpers/fixtures.js';

// `ortgenai inspect` as users run it: the built CLI in its own process, on models written by the model builder,
// by `ortgenai save`, and by Python MLflow itself.

const CLI = path.join(repoRoot, 'dist', 'cli', 'index.js');

function ortgenai(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function inspectJson(target: string, env?: Record<string, string>): ModelReport {
  const r = ortgenai(['inspect', target, '--json'], env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ModelReport;
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'ortgenai-inspect-'));
});

describe('ortgenai inspect <ORT-GenAI folder>', () => {
  it('reports the architecture from genai_config.json, the tokenizer and every file with its size', () => {
    const folder = fixtureModel('tiny-random');
    const config = JSON.parse(readFileSync(path.join(folder, 'genai_config.json'), 'utf8'));
    const report = inspectJson(folder);
    expect(report).toMatchObject({ path: folder, kind: 'ortgenai' });
    expect(report.mlflow).toBeUndefined();
    const d = config.model.decoder;
    expect(report.ortgenai).toMatchObject({
      path: '.',
      model_type: config.model.type,
      num_hidden_layers: d.num_hidden_layers,
      num_attention_heads: d.num_attention_heads,
      num_key_value_heads: d.num_key_value_heads,
      head_size: d.head_size,
      hidden_size: d.hidden_size,
      context_length: config.model.context_length,
      vocab_size: config.model.vocab_size,
      eos_token_id: [config.model.eos_token_id].flat(),
      providers: ['cpu'],
      graphs: [{ name: 'decoder', filename: d.filename, bytes: readFileSync(path.join(folder, d.filename)).length }],
      search: config.search,
    });
    expect(report.ortgenai!.tokenizer!.files).toContain('tokenizer.json');
    expect(report.files.map((f) => f.path)).toEqual(expect.arrayContaining(['genai_config.json', 'tokenizer.json', d.filename]));
    expect(report.total_bytes).toBe(report.files.reduce((n, f) => n + f.bytes, 0));

    const human = ortgenai(['inspect', folder]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^  type +${config.model.type}$`, 'm'));
    expect(human.stdout).toMatch(new RegExp(`^  layers +${d.num_hidden_layers}$`, 'm'));
    expect(human.stdout).toMatch(new RegExp(`^  context +${config.model.context_length} tokens$`, 'm'));
    expect(human.stdout).toMatch(/^files \(\d+, [\d.]+ MB\)$/m);
    expect(human.stdout).not.toContain('\x1b['); // not a terminal: no colour codes
  });

  it('shows the largest 20 files unless --all-files (--json always lists all)', () => {
    const folder = path.join(root, 'many-files');
    spawnSync('cp', ['-r', fixtureModel('tiny-deterministic'), folder]);
    for (let i = 0; i < 25; i++) writeFileSync(path.join(folder, `extra-${String(i).padStart(2, '0')}.txt`), 'x');
    const count = inspectJson(folder).files.length;
    expect(ortgenai(['inspect', folder]).stdout).toMatch(new RegExp(`^  \\.\\.\\. +${count - 20} more \\(--all-files lists them\\)$`, 'm'));
    const all = ortgenai(['inspect', folder, '--all-files']).stdout;
    expect(all).not.toContain('--all-files lists them');
    expect(all).toContain('extra-24.txt');
  });

  it('names each execution provider the config asks for, in order', () => {
    const folder = path.join(root, 'providers');
    spawnSync('cp', ['-r', fixtureModel('tiny-deterministic'), folder]);
    const file = path.join(folder, 'genai_config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    config.model.decoder.session_options = { provider_options: [{ cuda: { enable_cuda_graph: '0' } }, { dml: {} }] };
    writeFileSync(file, JSON.stringify(config));
    expect(inspectJson(folder).ortgenai!.providers).toEqual(['cuda', 'dml']);
  });

  it('says what is wrong with a config it cannot read, and still lists the files', () => {
    const folder = path.join(root, 'broken');
    spawnSync('cp', ['-r', fixtureModel('tiny-deterministic'), folder]);
    writeFileSync(path.join(folder, 'genai_config.json'), JSON.stringify({ model: { type: 'llama', context_length: 'long' } }));
    const report = inspectJson(folder);
    expect(report.ortgenai!.error).toMatch(/model\.context_length: Invalid input: expected number, received string/);
    expect(report.files.length).toBeGreaterThan(1);
  });
});

describe('ortgenai inspect <MLflow model>', () => {
  it('reports the MLmodel of a model saved by ortgenai save, and the ORT-GenAI folder inside it', () => {
    const saved = path.join(root, 'saved');
    expect(ortgenai(['save', fixtureModel('tiny-deterministic'), '--out', saved, '--task', 'llm/v1/completions']).code).toBe(0);
    const report = inspectJson(saved);
    expect(report.kind).toBe('mlflow');
    expect(report.mlflow).toMatchObject({ task: 'llm/v1/completions', mlflow_version: '3.18.0', env_files: ['requirements.txt', 'conda.yaml', 'python_env.yaml'] });
    expect(Object.keys(report.mlflow!.flavors).sort()).toEqual(['nodejs_function', 'ortgenai', 'python_function']);
    expect(report.mlflow!.requirements).toEqual(expect.arrayContaining([expect.stringMatching(/^onnxruntime-genai/)]));
    const inputs = report.mlflow!.signature!.inputs as { name: string }[];
    expect(inputs.map((c) => c.name)).toContain('prompt');
    expect(report.ortgenai).toMatchObject({ path: 'model', model_type: 'llama' });
    expect(report.files.map((f) => f.path)).toEqual(expect.arrayContaining(['MLmodel', 'model/genai_config.json']));

    const human = ortgenai(['inspect', saved]).stdout;
    expect(human).toMatch(/^MLflow model$/m);
    expect(human).toMatch(/^  task +llm\/v1\/completions$/m);
    expect(human).toMatch(/^ORT-GenAI model \(model\/\)$/m);
    expect(human).toMatch(/^  inputs +prompt: string$/m);
  });

  it('reads a model written by Python MLflow: flavors, signature, input example, requirements, metadata', () => {
    const saved = path.join(root, 'python-saved');
    const script = `
import mlflow, pandas as pd
class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input
example = pd.DataFrame({"question": ["why?"], "n": [3]})
sig = mlflow.models.infer_signature(example, example, params={"temperature": 0.5})
mlflow.pyfunc.save_model(${JSON.stringify(saved)}, python_model=Echo(), signature=sig, input_example=example,
    pip_requirements=["pandas"], metadata={"task": "echo", "owner": "tests"})
`;
    const py = spawnSync(testPython(), ['-c', script], { encoding: 'utf8', timeout: 120_000 });
    expect(py.stderr.split('\n').filter((l) => /Error|Traceback/.test(l))).toEqual([]);
    expect(existsSync(path.join(saved, 'MLmodel'))).toBe(true);

    const report = inspectJson(saved);
    expect(report.mlflow).toMatchObject({
      task: 'echo',
      metadata: { task: 'echo', owner: 'tests' },
      requirements: expect.arrayContaining(['pandas']),
      signature: {
        inputs: [{ type: 'string', name: 'question', required: true }, { type: 'long', name: 'n', required: true }],
        params: [{ name: 'temperature', type: 'double', default: 0.5, shape: null }],
      },
      input_example: { info: { artifact_path: 'input_example.json' }, example: { columns: ['question', 'n'], data: [['why?', 3]] } },
    });
    expect(report.mlflow!.flavors.python_function).toMatchObject({ loader_module: 'mlflow.pyfunc.model' });
    expect(report.ortgenai).toBeUndefined();
    const human = ortgenai(['inspect', saved]).stdout;
    expect(human).toMatch(/^  params +temperature: double = 0\.5$/m);
    expect(human).toMatch(/^  input example +input_example\.json: \{"columns":\["question","n"\]/m);
  });

  it('resolves runs:/ URIs against the tracking store, as predict and serve do', () => {
    const store = path.join(root, 'mlruns');
    const logged = ortgenai(['save', fixtureModel('tiny-deterministic'), '--log', 'chat-model'], { MLFLOW_TRACKING_URI: store });
    expect(logged.stderr).toBe('');
    const uri = /as (runs:\/\S+)/.exec(logged.stdout)?.[1];
    expect(uri).toMatch(/^runs:\/[0-9a-f]{32}\/chat-model$/);
    const report = inspectJson(uri!, { MLFLOW_TRACKING_URI: store });
    expect(report.kind).toBe('mlflow');
    expect(report.mlflow!.run_id).toBe(uri!.split('/')[1]);
    expect(report.ortgenai!.model_type).toBe('llama');
  });
});

describe('ortgenai inspect, refusals', () => {
  it('exits 1 with one line for a folder that holds no model, and 2 for a bad flag', () => {
    const empty = mkdtempSync(path.join(root, 'empty-'));
    expect(ortgenai(['inspect', empty])).toEqual({
      code: 1,
      stdout: '',
      stderr: `ortgenai inspect: ${empty} is neither an MLflow model (no MLmodel) nor an ORT-GenAI model folder (no genai_config.json)\n`,
    });
    expect(ortgenai(['inspect', path.join(root, 'nowhere')]).stderr).toBe(`ortgenai inspect: no such model folder: ${path.join(root, 'nowhere')}\n`);
    const bad = ortgenai(['inspect', empty, '--jsn']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("(did you mean '--json'?)");
  });
});
