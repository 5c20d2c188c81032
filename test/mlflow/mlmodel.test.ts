import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowException } from '../../src/mlflow/errors.js';
import { MLModel, utcTimeCreatedNow } from '../../src/mlflow/mlmodel.js';
import { ColSpec, ModelSignature, Schema } from '../../src/mlflow/signature/index.js';
import { GOLDEN_PYFUNC_MLMODEL as GOLDEN } from './golden.js';


let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlmodel-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writing', () => {
  it('builds the §1.4 golden file from fields', () => {
    const id = 'm-5f0c9b2e8d7a4c1e9b3a2f1d0e9c8b7a';
    const model = MLModel.create({
      artifactPath: `mlflow-artifacts:/1/models/${id}/artifacts`,
      modelId: id,
      modelUuid: id,
      runId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
      utcTimeCreated: '2025-08-01 12:34:56.789012',
      modelSizeBytes: 2048,
      savedInputExampleInfo: { artifact_path: 'input_example.json', type: 'json_object', serving_input_path: 'serving_input_example.json' },
      signature: new ModelSignature({
        inputs: new Schema([new ColSpec('string', 'prompt')]),
        outputs: new Schema([new ColSpec('string')]),
        isSignatureFromTypeHint: false,
        typeHintFromExample: false,
      }),
      flavors: {
        python_function: {
          loader_module: 'mlflow.pyfunc.model', python_model: 'python_model.pkl', python_version: '3.11.9',
          env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' }, code: null, cloudpickle_version: '3.1.1',
          streamable: false, artifacts: { model_dir: { path: 'artifacts/phi3-mini-int4', uri: '/home/me/models/phi3-mini-int4' } },
        },
      },
    });
    expect(model.toYaml()).toBe(GOLDEN);
  });

  it('reads the golden file and writes it back unchanged', () => {
    const model = MLModel.fromYaml(GOLDEN);
    expect(model.signature!.repr()).toBe("inputs: \n  ['prompt': string (required)]\noutputs: \n  [string (required)]\nparams: \n  None\n");
    expect(model.toYaml()).toBe(GOLDEN);
  });

  it('create() fills uuid, time and version like Model()', () => {
    const model = MLModel.create({ flavors: { f: {} } });
    expect(model.modelUuid).toMatch(/^[0-9a-f]{32}$/);
    expect(model.utcTimeCreated).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/);
    expect(model.toYaml()).toMatch(/^utc_time_created: '\d{4}-/m);
    expect(model.toYaml()).toContain('mlflow_version: 3.18.0\nmodel_id: null\n');
    expect(utcTimeCreatedNow(new Date(Date.UTC(2025, 0, 2, 3, 4, 5)))).toBe('2025-01-02 03:04:05');
    expect(utcTimeCreatedNow(new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 120)))).toBe('2025-01-02 03:04:05.120000');
  });

  it('keeps unknown keys and flavors through save and load', async () => {
    const text = 'custom_key:\n  nested: [1, 2]\nflavors:\n  my_flavor:\n    x: 1\nutc_time_created: \'2025-01-01 00:00:00\'\n';
    const model = MLModel.fromYaml(text);
    await model.save(path.join(dir, 'm1'));
    const again = await MLModel.load(path.join(dir, 'm1', 'MLmodel'));
    expect(again.extra).toEqual({ custom_key: { nested: [1, 2] } });
    expect(again.flavors).toEqual({ my_flavor: { x: 1 } });
    expect(await readFile(path.join(dir, 'm1', 'MLmodel'), 'utf8')).toBe(
      "custom_key:\n  nested:\n  - 1\n  - 2\nflavors:\n  my_flavor:\n    x: 1\nutc_time_created: '2025-01-01 00:00:00'\n",
    );
  });
});

describe('malformed MLmodel files give a clear MlflowException', () => {
  it('missing file', async () => {
    const error = await MLModel.load(path.join(dir, 'nowhere')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowException);
    expect((error as MlflowException).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((error as MlflowException).message).toBe(`Could not find an "MLmodel" configuration file at "${path.join(dir, 'nowhere', 'MLmodel')}"`);
  });

  it.each([
    ['bad YAML', 'flavors: [1, 2\n', /Failed to parse .* as YAML/],
    ['not a mapping', '- a\n- b\n', /expected a YAML mapping/],
    ['no flavors', 'run_id: abc\n', /has no "flavors"/],
    ['flavor not a mapping', 'flavors:\n  python_function: 3\n', /flavor "python_function" must be a mapping/],
    ['signature not JSON', "flavors: {}\nsignature:\n  inputs: '[{\"type\": '\n", /invalid signature: Invalid schema JSON/],
    ['signature JSON not a list', "flavors: {}\nsignature:\n  inputs: '{}'\n", /expected a list of objects/],
    ['signature with unknown type', 'flavors: {}\nsignature:\n  inputs: \'[{"type": "text"}]\'\n', /Unsupported type 'text'/],
  ])('%s', async (_name, text, message) => {
    await mkdir(path.join(dir, 'bad'), { recursive: true });
    await writeFile(path.join(dir, 'bad', 'MLmodel'), text);
    const error = await MLModel.load(path.join(dir, 'bad')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowException);
    expect((error as MlflowException).errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect((error as Error).message).toMatch(message);
  });
});
