import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Phi3Model } from '../../examples/phi3-pyfunc/phi3-model.js';
import { MlflowException, MLModel, pyfunc } from '../../src/mlflow/index.js';
import { fixtureModel } from '../helpers/fixtures.js';
import { GOLDEN_PYFUNC_MLMODEL } from './golden.js';

// A custom-wrapper model exactly as Python MLflow 3 logs it (mlflow-format.md §1.4, §2.5, §2.6): the
// cloudpickled wrapper, the ONNX folder under artifacts/, env files and the input examples.
const MLMODEL = GOLDEN_PYFUNC_MLMODEL.replaceAll('phi3-mini-int4', 'phi3-mini-onnx').replace(
  '    code: null\n',
  '    code: null\n    config:\n      max_tokens: 4\n',
);

let root: string;
let dir: string;

async function pythonFolder(target: string, mlmodel: string): Promise<void> {
  await mkdir(target, { recursive: true });
  await writeFile(path.join(target, 'MLmodel'), mlmodel);
  // Protocol-5 pickle header, then bytes no unpickler accepts: reading it would fail loudly.
  await writeFile(path.join(target, 'python_model.pkl'), Buffer.concat([Buffer.from([0x80, 0x05, 0x95]), Buffer.from('\u0000not a pickle')]));
  await writeFile(path.join(target, 'requirements.txt'), 'mlflow==3.3.0\ncloudpickle==3.1.1\nonnxruntime-genai==0.5.2');
  await writeFile(
    path.join(target, 'conda.yaml'),
    'channels:\n- conda-forge\ndependencies:\n- python=3.11.9\n- pip<=24.2\n- pip:\n  - mlflow==3.3.0\n  - cloudpickle==3.1.1\n  - onnxruntime-genai==0.5.2\nname: mlflow-env\n',
  );
  await writeFile(path.join(target, 'python_env.yaml'), 'python: 3.11.9\nbuild_dependencies:\n- pip==24.2\n- setuptools==75.1.0\n- wheel==0.44.0\ndependencies:\n- -r requirements.txt\n');
  await writeFile(path.join(target, 'input_example.json'), '{"prompt": "What is MLflow?"}');
  await writeFile(path.join(target, 'serving_input_example.json'), '{\n  "prompt": "What is MLflow?"\n}');
  await cp(fixtureModel('tiny-random'), path.join(target, 'artifacts', 'phi3-mini-onnx'), { recursive: true });
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ortgenai-interop-'));
  dir = path.join(root, 'python-custom-wrapper');
  await pythonFolder(dir, MLMODEL);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a custom-wrapper model saved by Python MLflow', () => {
  it('reads back to the same MLmodel text', async () => {
    expect((await MLModel.load(dir)).toYaml()).toBe(MLMODEL);
  });

  it('refuses to load without a TypeScript implementation and says why', async () => {
    const err = await pyfunc.loadModel(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowException);
    expect((err as MlflowException).errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect((err as Error).message).toBe(
      `The model at '${dir}' was saved by Python MLflow with a cloudpickled Python model ('python_model.pkl'). ortgenai-node never unpickles Python objects. ` +
        "Pass a TypeScript implementation instead: loadModel(uri, { pythonModel: new MyModel() }); it is bound to this model's artifacts, signature and config.",
    );
  });

  it('binds a TypeScript Phi3Model to its artifacts, signature and config', async () => {
    const impl = new Phi3Model();
    const model = await pyfunc.loadModel(dir, { pythonModel: impl });
    try {
      expect(model.unwrapPythonModel()).toBe(impl);
      expect(model.loaderModule).toBe('mlflow.pyfunc.model');
      expect(model.modelConfig).toEqual({ max_tokens: 4 });
      const [answer] = (await model.predict({ prompt: 'What is MLflow?' })) as string[];
      expect(typeof answer).toBe('string');
      expect(answer.length).toBeGreaterThan(0);
      await expect(model.predict({ question: 'x' })).rejects.toThrow(/Model is missing inputs \['prompt'\]/);
      // the pickle is where it was, untouched
      expect((await readFile(path.join(dir, 'python_model.pkl'))).subarray(0, 3)).toEqual(Buffer.from([0x80, 0x05, 0x95]));
    } finally {
      await model.dispose();
    }
  });

  it('explains Python models from code the same way', async () => {
    const codeDir = path.join(root, 'python-from-code');
    await pythonFolder(
      codeDir,
      MLMODEL.replace('    loader_module: mlflow.pyfunc.model\n    python_model: python_model.pkl\n', '    loader_module: mlflow.pyfunc.loaders.code_model\n    model_code_path: /home/me/agent.py\n'),
    );
    await expect(pyfunc.loadModel(codeDir)).rejects.toThrow(/from Python code \('\/home\/me\/agent.py'\)\. ortgenai-node does not run Python code/);
  });
});
