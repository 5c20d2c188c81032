/**
 * Every MLmodel written by real MLflow that we can find loads, and writes back byte for byte.
 * Three small real files are kept inline so the suite means something on a fresh clone; the 33-folder
 * corpus in ../shared/mlflow-corpus is added when present.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadInputExample } from '../../src/mlflow/input-example.js';
import { MLModel } from '../../src/mlflow/mlmodel.js';
import { enforceParams, ModelSignature, ParamSchema, Schema } from '../../src/mlflow/signature/index.js';
import { loadYaml } from '../../src/mlflow/pycompat/yaml.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpusDir = path.resolve(repoRoot, '../shared/mlflow-corpus');

// Real MLmodel files (mlflow 2.9.2 feature store with legacy `optional`, CRLF 1.x with integer column
// names, 2.5.1.dev0 `dtype` params), as committed in public repositories.
const INLINE: Record<string, string> = {
  'inline-optional-2.9': `artifact_path: model
databricks_runtime: 14.1.x-cpu-ml-scala2.12
flavors:
  python_function:
    data: data/feature_store
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: databricks.feature_store.mlflow_model
    python_version: 3.10.12
mlflow_version: 2.9.2
model_size_bytes: 124979
model_uuid: c1611f5ecf5942d5a7f13a9027704780
run_id: a217098b91764da685ceba2fce4e7428
signature:
  inputs: '[{"type": "long", "name": "wine_id"}, {"type": "double", "name": "real_time_measurement"},
    {"type": "double", "name": "fixed_acidity", "optional": true}]'
  outputs: '[{"type": "integer", "name": "quality"}]'
  params: null
utc_time_created: '2023-12-25 02:18:19.997308'
`,
  'inline-crlf-int-columns-1.x': [
    'artifact_path: model',
    'flavors:',
    '  python_function:',
    '    data: model.lgb',
    '    env: conda.yaml',
    '    loader_module: mlflow.lightgbm',
    '    python_version: 3.7.11',
    'model_uuid: a5439bd2710445fea139ad874588e314',
    'run_id: caa054a0-8e47-47df-a2c1-8bafe0561137',
    'signature:',
    `  inputs: '[{"name": "sepal_length", "type": "double"}, {"name": "sepal_width", "type":`,
    '    "double"}]\'',
    `  outputs: '[{"name": 0, "type": "double"}, {"name": 1, "type": "double"}, {"name":`,
    '    2, "type": "double"}]\'',
    "utc_time_created: '2022-03-17 07:18:56.394958'",
    '',
  ].join('\r\n'),
  'inline-dtype-params-2.5dev': `flavors:
  python_function:
    data: model.yaml
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.openai
    python_version: 3.8.5
mlflow_version: 2.5.1.dev0
model_uuid: b9a39a71f54e41efbd83b8307294b4d8
signature:
  inputs: '[{"type": "string"}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]'
  params: '[{"name": "batch_size", "dtype": "long", "default": 16, "shape": null}]'
utc_time_created: '2023-08-15 05:08:52.461694'
`,
};

interface Case {
  name: string;
  text: string;
  dir?: string;
  /** The saved input example file, when the folder has one. */
  example?: string;
}

const cases: Case[] = Object.entries(INLINE).map(([name, text]) => ({ name, text }));
if (existsSync(corpusDir)) {
  for (const name of readdirSync(corpusDir).filter((d) => /^\d\d-/.test(d)).sort()) {
    const dir = path.join(corpusDir, name);
    const text = readFileSync(path.join(dir, 'MLmodel'), 'utf8');
    const info = (loadYaml(text) as { saved_input_example_info?: { artifact_path?: string } }).saved_input_example_info;
    const example = info?.artifact_path ? path.join(dir, info.artifact_path) : undefined;
    cases.push({ name, dir, text, example: example && existsSync(example) ? example : undefined });
  }
}

// Cases get only the tests that apply to them, so no test passes by returning early.
describe.each(cases)('MLmodel $name', ({ text, dir, example }) => {
  const lf = text.replace(/\r\n/g, '\n');
  const hasParams = typeof (loadYaml(lf) as { signature?: { params?: unknown } }).signature?.params === 'string';

  it('loads flavors and fields', async () => {
    const model = dir ? await MLModel.load(dir) : MLModel.fromYaml(text);
    const raw = loadYaml(lf) as Record<string, unknown>;
    expect(Object.keys(model.flavors).sort()).toEqual(Object.keys(raw.flavors as object).sort());
    expect(Object.keys(model.flavors).length).toBeGreaterThan(0);
    expect(model.utcTimeCreated).toBe(raw.utc_time_created);
    expect(model.mlflowVersion).toBe(raw.mlflow_version);
    expect(model.modelUuid).toBe(raw.model_uuid);
    expect(model.runId).toBe(raw.run_id);
  });

  it('writes back the exact text MLflow wrote, and the same data', () => {
    const model = MLModel.fromYaml(text);
    expect(model.toYaml()).toBe(lf);
    expect(loadYaml(model.toYaml())).toEqual(loadYaml(lf));
  });

  it('reads the signature, and its JSON and repr survive a round trip', () => {
    const model = MLModel.fromYaml(text);
    const raw = (loadYaml(lf) as { signature?: Record<string, string | null> }).signature;
    if (!raw) {
      expect(model.signature).toBeUndefined();
      return;
    }
    const signature = model.signature!;
    for (const key of ['inputs', 'outputs'] as const) {
      expect(signature[key] !== undefined).toBe(!!raw[key]);
      if (!signature[key]) continue;
      const again = Schema.fromJson(signature[key]!.toJson());
      expect(again.repr()).toBe(signature[key]!.repr());
      expect(again.equals(signature[key])).toBe(true);
      expect(again.inputs.length).toBe((JSON.parse(raw[key]!) as unknown[]).length);
    }
    const reparsed = ModelSignature.fromDict(signature.toDict());
    expect(reparsed.repr()).toBe(signature.repr());
    // A signature that is replaced is written in MLflow 3's encoding and still reads back the same.
    const rewritten = MLModel.fromYaml(text);
    rewritten.signature = reparsed;
    expect(MLModel.fromYaml(rewritten.toYaml()).signature!.repr()).toBe(signature.repr());
  });

  if (hasParams) it('fills every param with its default', () => {
    const params = MLModel.fromYaml(text).signature!.params!;
    const raw = JSON.parse((loadYaml(lf) as { signature: { params: string } }).signature.params) as { name: string; default: unknown }[];
    expect(enforceParams({}, params)).toEqual(Object.fromEntries(raw.map((p) => [p.name, p.default])));
    expect(ParamSchema.fromJson(params.toJson()).equals(params)).toBe(true);
  });

  if (example) it('recovers the input example', async () => {
    const model = await MLModel.load(dir!);
    const loaded = await loadInputExample(dir!, model);
    const stored = JSON.parse(readFileSync(example!, 'utf8'));
    if (model.savedInputExampleInfo!.type === 'dataframe') {
      expect(stored.data.length).toBeGreaterThan(0);
      expect((loaded as unknown[]).length).toBe(stored.data.length);
    } else if (model.savedInputExampleInfo!.type === 'json_object') {
      expect(loaded).toEqual(stored);
    } else {
      expect(loaded).toEqual(stored.inputs ?? stored);
    }
  });
});

it('sees the full corpus when ../shared is present', () => {
  const present = existsSync(corpusDir);
  expect(cases.length).toBe((present ? 33 : 0) + Object.keys(INLINE).length);
  expect(cases.filter((c) => c.example).length).toBe(present ? 4 : 0);
});
