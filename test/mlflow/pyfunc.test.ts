import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Phi3Model } from '../../examples/phi3-pyfunc/phi3-model.js';
import { Model } from '../../src/genai/index.js';
import { localPathFromUri, MlflowException, MLModel, pyfunc, PythonModel, type PythonModelContext } from '../../src/mlflow/index.js';
import { fixtureModel, repoRoot } from '../helpers/fixtures.js';

const run = promisify(execFile);
const PHI3_MODEL_FILE = path.join(repoRoot, 'examples', 'phi3-pyfunc', 'phi3-model.ts');

// A model file that reports what it was given, so the tests can see MLflow's calling conventions.
const PROBE_MODEL = `
import { PythonModel, setModel } from 'ortgenai-node/mlflow';
globalThis.__probeLoads = (globalThis.__probeLoads ?? 0) + 1;
class Probe extends PythonModel {
  load = globalThis.__probeLoads;
  loadContext(context) { this.context = context; }
  predict(context, modelInput, params) {
    return [JSON.stringify({ same: context === this.context, input: modelInput, params, artifacts: context.artifacts, config: context.modelConfig, load: this.load })];
  }
  async *predictStream(context, modelInput, params) { for (const ch of modelInput.prompt) yield ch; }
}
setModel(new Probe());
`;

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ortgenai-pyfunc-'));
});

afterAll(async () => {
  delete process.env.MLFLOW_TRACKING_URI;
  await rm(root, { recursive: true, force: true });
});

async function probeFile(name = 'probe-model.mjs', text = PROBE_MODEL): Promise<string> {
  const file = path.join(root, 'src', name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

type Probe = { same: boolean; input: unknown; params: unknown; artifacts: Record<string, string>; config: unknown; load: number };
async function probe(model: pyfunc.PyFuncModel, data: unknown, params?: Record<string, unknown>): Promise<Probe> {
  const [text] = (await model.predict(data, params)) as string[];
  return JSON.parse(text) as Probe;
}

/** MLflow's values that differ per save: uuids, times, sizes and where the test ran. */
function normalise(text: string): string {
  return text
    .replace(/model_uuid: [0-9a-f]{32}/, 'model_uuid: <uuid>')
    .replace(/run_id: [0-9a-f]{32}/, 'run_id: <run_id>')
    .replace(/utc_time_created: '[^']+'/, "utc_time_created: '<time>'")
    .replace(/model_size_bytes: \d+/, 'model_size_bytes: <size>')
    .replace(/node_version: [\d.]+/, 'node_version: <node>')
    .replaceAll(fixtureModel('tiny-random'), '<fixture>');
}

describe('the custom Phi3Model flow (models from code)', () => {
  let info: pyfunc.ModelInfo;
  let loaded: pyfunc.PyFuncModel;

  beforeAll(async () => {
    process.env.MLFLOW_TRACKING_URI = pathToFileURL(path.join(root, 'mlruns')).href;
    info = await pyfunc.logModel('model', {
      pythonModel: PHI3_MODEL_FILE,
      artifacts: { model_dir: fixtureModel('tiny-random') },
      inputExample: { prompt: 'What is MLflow?' },
      modelConfig: { max_tokens: 8 },
      requirements: ['cloudpickle==3.1.1', 'onnxruntime-genai==0.5.2'],
      runName: 'phi3',
    });
    loaded = await pyfunc.loadModel(info.modelUri);
  });

  afterAll(async () => {
    await loaded?.dispose();
  });

  it('writes the MLmodel of mlflow-format.md §1.4 with a nodejs_function flavor in place of the pickle, and a python_function flavor that runs it in Node', async () => {
    expect(info.modelUri).toMatch(/^runs:\/[0-9a-f]{32}\/model$/);
    const text = await readFile(path.join(info.path, 'MLmodel'), 'utf8');
    expect(normalise(text)).toBe(`artifact_path: model
flavors:
  nodejs_function:
    artifacts:
      model_dir:
        path: artifacts/tiny-random
        uri: <fixture>
    code: null
    config:
      max_tokens: 8
    entry_module: phi3-model.ts
    loader_module: ortgenai_node.pyfunc.model
    node_version: <node>
    package_name: ortgenai-node
    package_version: 0.1.0
    streamable: false
  python_function:
    code: code
    config:
      max_tokens: 8
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: ortgenai_node_pyfunc
    python_version: 3.11.9
    streamable: false
is_signature_from_type_hint: false
mlflow_version: 3.18.0
model_id: null
model_size_bytes: <size>
model_uuid: <uuid>
prompts: null
run_id: <run_id>
saved_input_example_info:
  artifact_path: input_example.json
  serving_input_path: serving_input_example.json
  type: json_object
signature:
  inputs: '[{"type": "string", "name": "prompt", "required": true}]'
  outputs: '[{"type": "string", "required": true}]'
  params: null
type_hint_from_example: false
utc_time_created: '<time>'
`);
    expect(String(info.signature)).toBe("inputs: \n  ['prompt': string (required)]\noutputs: \n  [string (required)]\nparams: \n  None\n");
  });

  it('writes the environment files of §2.6 byte for byte', async () => {
    const read = (f: string) => readFile(path.join(info.path, f), 'utf8');
    expect(await read('requirements.txt')).toBe('mlflow==3.18.0\ncloudpickle==3.1.1\nonnxruntime-genai==0.5.2');
    expect(await read('conda.yaml')).toBe(
      'channels:\n- conda-forge\ndependencies:\n- python=3.11.9\n- pip<=24.2\n- pip:\n  - mlflow==3.18.0\n  - cloudpickle==3.1.1\n  - onnxruntime-genai==0.5.2\nname: mlflow-env\n',
    );
    expect(await read('python_env.yaml')).toBe(
      'python: 3.11.9\nbuild_dependencies:\n- pip==24.2\n- setuptools==75.1.0\n- wheel==0.44.0\ndependencies:\n- -r requirements.txt\n',
    );
    expect(await read('input_example.json')).toBe('{"prompt": "What is MLflow?"}');
  });

  it('records the run in the file store: meta.yaml, tags and the log-model history', async () => {
    const runDir = path.resolve(info.path, '..', '..');
    const meta = await readFile(path.join(runDir, 'meta.yaml'), 'utf8');
    expect(meta).toContain(`run_id: ${info.runId}\n`);
    expect(meta).toContain("experiment_id: '0'\n");
    expect(meta).toContain('status: 3\n');
    expect(meta).toContain(`artifact_uri: ${pathToFileURL(path.join(runDir, 'artifacts')).href}\n`);
    expect(await readFile(path.join(runDir, 'tags', 'mlflow.runName'), 'utf8')).toBe('phi3');
    const history = JSON.parse(await readFile(path.join(runDir, 'tags', 'mlflow.log-model.history'), 'utf8'));
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ run_id: info.runId, artifact_path: 'model', model_uuid: info.modelUuid });
    expect(history[0].flavors.nodejs_function.config).toBeUndefined();
  });

  it('loads by runs:/, file:// and folder, and predicts what the genai model generates', async () => {
    const reference = await Model.load(fixtureModel('tiny-random'));
    try {
      const prompt = 'What is MLflow?';
      const expected = await reference.generate(reference.tokenizer.encode(prompt), { maxTokens: 8, temperature: 0 });
      expect(await loaded.predict({ prompt })).toEqual([reference.tokenizer.decode(expected.tokens)]);
    } finally {
      reference.dispose();
    }
    for (const uri of [pathToFileURL(info.path).href, info.path]) {
      const again = await pyfunc.loadModel(uri);
      try {
        expect(again.metadata.modelUuid).toBe(info.modelUuid);
        // each load executes its own copy of the file, so the class is Phi3Model but not the test's Phi3Model
        expect(again.unwrapPythonModel().constructor.name).toBe(Phi3Model.name);
        expect(again.unwrapPythonModel()).not.toBe(loaded.unwrapPythonModel());
      } finally {
        await again.dispose();
      }
    }
  });

  it('enforces the signature before predict', async () => {
    const err = await loaded.predict({ question: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowException);
    expect((err as MlflowException).errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect((err as Error).message).toContain("Model is missing inputs ['prompt']");
    await expect(loaded.predictStream({ prompt: 'hi' }).next()).rejects.toThrow(/does not support predict_stream/);
  });
});

describe('PythonModel contract', () => {
  let dir: string;
  let model: pyfunc.PyFuncModel;

  beforeAll(async () => {
    const artifact = path.join(root, 'notes.txt');
    await writeFile(artifact, 'hello');
    dir = path.join(root, 'probe');
    await pyfunc.saveModel(dir, {
      pythonModel: await probeFile(),
      artifacts: { notes: artifact, same_notes: artifact },
      inputExample: { prompt: 'hi' },
    });
    model = await pyfunc.loadModel(dir);
  });

  afterAll(async () => {
    await model?.dispose();
  });

  it('passes column-oriented input, drops extra columns, keeps the context', async () => {
    const seen = await probe(model, { prompt: 'hi', extra: 1 });
    expect(seen.input).toEqual({ prompt: ['hi'] });
    expect(seen.same).toBe(true);
    expect((await probe(model, [{ prompt: 'a' }, { prompt: 'b' }])).input).toEqual({ prompt: ['a', 'b'] });
  });

  it('gives absolute artifact paths inside the model, one copy per source, and a null config when none', async () => {
    const seen = await probe(model, { prompt: 'hi' });
    expect(seen.artifacts).toEqual({ notes: path.join(dir, 'artifacts', 'notes.txt'), same_notes: path.join(dir, 'artifacts', 'notes.txt') });
    expect(await readFile(seen.artifacts.notes, 'utf8')).toBe('hello');
    expect(seen.config).toBeNull();
    expect(model.modelConfig).toEqual({});
    const overridden = await pyfunc.loadModel(dir, { modelConfig: { temperature: 0.5 } });
    try {
      expect((await probe(overridden, { prompt: 'hi' })).config).toEqual({ temperature: 0.5 });
    } finally {
      await overridden.dispose();
    }
  });

  it('re-executes the model file on every load', async () => {
    const other = await pyfunc.loadModel(dir);
    try {
      expect((await probe(other, { prompt: 'x' })).load).toBeGreaterThan((await probe(model, { prompt: 'x' })).load);
    } finally {
      await other.dispose();
    }
  });

  it('is streamable because it defines predictStream, which gets a single record', async () => {
    expect((await MLModel.load(dir)).flavors.nodejs_function.streamable).toBe(true);
    const chunks: unknown[] = [];
    for await (const c of model.predictStream({ prompt: 'abc' })) chunks.push(c);
    expect(chunks).toEqual(['a', 'b', 'c']);
    await expect(model.predictStream([{ prompt: 'a' }, { prompt: 'b' }]).next()).rejects.toThrow(/requires single input/);
  });

  it('throws DisposedError after dispose, and says it is disposed', async () => {
    const m = await pyfunc.loadModel(dir);
    expect(m.disposed).toBe(false);
    await m.dispose();
    expect(m.disposed).toBe(true);
    await expect(m.predict({ prompt: 'x' })).rejects.toThrow(/disposed/);
  });

  it("hands the caller's AbortSignal to predict and predictStream", async () => {
    const seen: (AbortSignal | undefined)[] = [];
    class Waiter extends PythonModel {
      predict(_c: PythonModelContext, _input: unknown, _params?: unknown, options?: { signal?: AbortSignal }) {
        seen.push(options?.signal);
        return ['done'];
      }
      async *predictStream(_c: PythonModelContext, _input: unknown, _params?: unknown, options?: { signal?: AbortSignal }) {
        seen.push(options?.signal);
        yield 'chunk';
      }
    }
    const bound = await pyfunc.loadModel(dir, { pythonModel: new Waiter() });
    const controller = new AbortController();
    await bound.predict({ prompt: 'x' }, undefined, { signal: controller.signal });
    for await (const _ of bound.predictStream({ prompt: 'x' }, undefined, { signal: controller.signal }));
    expect(seen).toEqual([controller.signal, controller.signal]);
    await bound.dispose();
  });

  it('refuses to save over a non-empty folder and cleans up a failed save', async () => {
    await expect(pyfunc.saveModel(dir, { pythonModel: await probeFile() })).rejects.toMatchObject({ errorCode: 'RESOURCE_ALREADY_EXISTS' });
    const target = path.join(root, 'no-set-model');
    const err = await pyfunc.saveModel(target, { pythonModel: await probeFile('empty.mjs', 'export const x = 1;\n') }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/did not register a model.*setModel\(\)/);
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' }); // the whole folder, not just its MLmodel
  });

  it('refuses malformed save options and a missing model config file with MlflowExceptions, writing nothing', async () => {
    const target = path.join(root, 'bad-options');
    const requirements = await pyfunc
      .saveModel(target, { pythonModel: await probeFile(), requirements: 'requirements.txt' as unknown as string[] })
      .catch((e: unknown) => e);
    expect(requirements).toBeInstanceOf(MlflowException);
    expect(requirements).toMatchObject({
      errorCode: 'INVALID_PARAMETER_VALUE',
      message: 'Invalid save options: requirements: Invalid input: expected array, received string',
    });
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    const missing = path.join(root, 'no-such-config.yaml');
    const config = await pyfunc.loadModel(dir, { modelConfig: missing }).catch((e: unknown) => e);
    expect(config).toBeInstanceOf(MlflowException);
    expect(config).toMatchObject({ errorCode: 'RESOURCE_DOES_NOT_EXIST', message: `The model config file '${missing}' does not exist` });
  });

  it('streams a record of arrays as one input when there is no signature to make it a table', async () => {
    class Echo extends PythonModel<unknown, unknown> {
      predict(_c: PythonModelContext, input: unknown) {
        return input;
      }
      async *predictStream(_c: PythonModelContext, input: unknown) {
        yield input;
      }
    }
    const target = path.join(root, 'no-signature');
    await pyfunc.saveModel(target, { pythonModel: new Echo() });
    const bound = await pyfunc.loadModel(target, { pythonModel: new Echo() });
    const request = { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] };
    const chunks: unknown[] = [];
    for await (const c of bound.predictStream(request)) chunks.push(c);
    expect(chunks).toEqual([request]);
    await bound.dispose();
  });

  it('saves an instance without its code: loading then needs the implementation again', async () => {
    class Upper extends PythonModel<{ prompt: string[] }, string[]> {
      predict(_c: PythonModelContext, input: { prompt: string[] }) {
        return input.prompt.map((p) => p.toUpperCase());
      }
    }
    const target = path.join(root, 'instance');
    const saved = await pyfunc.saveModel(target, { pythonModel: new Upper(), inputExample: { prompt: 'hi' } });
    expect(saved.flavors.nodejs_function).toMatchObject({ class_name: 'Upper' });
    expect(saved.signature!.outputs!.repr()).toBe('[string (required)]');
    await expect(pyfunc.loadModel(target)).rejects.toThrow(/instance of Upper.*pythonModel: new Upper\(\)/);
    const bound = await pyfunc.loadModel(target, { pythonModel: new Upper() });
    expect(await bound.predict({ prompt: 'hi' })).toEqual(['HI']);
    await bound.dispose();
  });
});

describe('model URIs', () => {
  it('resolves models:/<model_id> in an MLflow 3 file store, and names unknown runs', async () => {
    const store = path.join(root, 'mlruns3');
    const artifacts = path.join(store, '1', 'models', 'm-0123456789abcdef0123456789abcdef', 'artifacts');
    await pyfunc.saveModel(artifacts, { pythonModel: await probeFile(), inputExample: { prompt: 'hi' } });
    await writeFile(path.join(store, '1', 'meta.yaml'), "experiment_id: '1'\nname: x\n");
    const saved = process.env.MLFLOW_TRACKING_URI;
    process.env.MLFLOW_TRACKING_URI = store;
    try {
      const m = await pyfunc.loadModel('models:/m-0123456789abcdef0123456789abcdef');
      expect((await probe(m, { prompt: 'hi' })).input).toEqual({ prompt: ['hi'] });
      await m.dispose();
      await expect(pyfunc.loadModel('runs:/ffffffffffffffffffffffffffffffff/model')).rejects.toMatchObject({ errorCode: 'RESOURCE_DOES_NOT_EXIST' });
      await expect(pyfunc.loadModel('s3://bucket/model')).rejects.toMatchObject({ errorCode: 'NOT_IMPLEMENTED' });
    } finally {
      process.env.MLFLOW_TRACKING_URI = saved;
    }
  });
});

describe('registered model URIs (the file store\'s models/ folder)', () => {
  const id = 'm-0123456789abcdef0123456789abcdef';
  let store: string;
  let logged: string;
  let second: string;
  const meta = (version: number, fields: string) =>
    `creation_timestamp: 1700000000000\nname: phi\nrun_id: ''\nstatus: READY\nversion: ${version}\n${fields}`;
  beforeAll(async () => {
    store = path.join(root, 'registry-store');
    logged = path.join(store, '1', 'models', id, 'artifacts');
    second = path.join(root, 'registry-elsewhere');
    await mkdir(logged, { recursive: true });
    await mkdir(second, { recursive: true });
    const versions: [number, string][] = [
      // MLflow 3: a logged model, by URI and by resolved location; then a plain source; then a deleted version.
      [1, `current_stage: None\nsource: models:/${id}\nstorage_location: ${pathToFileURL(logged).href}\n`],
      [2, `current_stage: Production\nsource: ${pathToFileURL(second).href}\n`],
      [3, `current_stage: Deleted_Internal\nsource: ${pathToFileURL(second).href}\n`],
      [4, `current_stage: None\nsource: models:/${id}\n`],
    ];
    for (const [v, fields] of versions) {
      await mkdir(path.join(store, 'models', 'phi', `version-${v}`), { recursive: true });
      await writeFile(path.join(store, 'models', 'phi', `version-${v}`, 'meta.yaml'), meta(v, fields));
    }
    await mkdir(path.join(store, 'models', 'phi', 'aliases'), { recursive: true });
    await writeFile(path.join(store, 'models', 'phi', 'aliases', 'champion'), '2');
  });

  it('resolves versions, latest, stages and aliases; a deleted version is gone', async () => {
    const at = (uri: string) => localPathFromUri(uri, store);
    expect(await at('models:/phi/1')).toBe(logged);
    expect(await at('models:/phi/2')).toBe(second);
    expect(await at('models:/phi/4')).toBe(logged); // source models:/<model_id> alone
    expect(await at('models:/phi/latest')).toBe(logged); // version 4
    expect(await at('models:/phi/production')).toBe(second);
    expect(await at('models:/phi@champion')).toBe(second);
    for (const [uri, message] of [
      ['models:/phi/3', "Registered model 'phi' version 3 not found"],
      ['models:/phi/Staging', "Registered model 'phi' 'Staging' version not found"],
      ['models:/phi@nobody', "Registered model 'phi' alias 'nobody' not found"],
      ['models:/other/1', "Registered model 'other' version 1 not found"],
    ]) {
      await expect(at(uri)).rejects.toMatchObject({ errorCode: 'RESOURCE_DOES_NOT_EXIST', message: expect.stringContaining(message) });
    }
    await expect(at('models:/../1')).rejects.toMatchObject({ errorCode: 'INVALID_PARAMETER_VALUE' });
    await expect(at('models:/phi/1/extra')).rejects.toMatchObject({ errorCode: 'INVALID_PARAMETER_VALUE' });
  });
});

describe('TypeScript model files under plain Node', () => {
  it('loads a .mjs model and explains why a .ts model cannot load (dist/ build)', async () => {
    const mjs = path.join(root, 'plain-mjs');
    const ts = path.join(root, 'plain-ts');
    await pyfunc.saveModel(mjs, { pythonModel: await probeFile() });
    await pyfunc.saveModel(ts, { pythonModel: PHI3_MODEL_FILE, artifacts: { model_dir: fixtureModel('tiny-random') } });
    const script = `
      import { pyfunc } from 'ortgenai-node/mlflow';
      const m = await pyfunc.loadModel(process.argv[1]);
      console.log(JSON.stringify(JSON.parse((await m.predict({ prompt: 'hi' }))[0]).input));
      await pyfunc.loadModel(process.argv[2]).catch((e) => console.log(e.constructor.name, e.message));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, mjs, ts], { cwd: repoRoot });
    const [first, second] = stdout.trim().split('\n');
    expect(first).toBe('{"prompt":"hi"}'); // no signature: the input as given
    expect(second).toMatch(/^MlflowException .*phi3-model\.ts.* is TypeScript and this Node\.js .* cannot import TypeScript/);
  });
});
