import { copyFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveArtifacts, saveArtifacts, type ArtifactEntry } from '../artifacts.js';
import { MlflowException } from '../errors.js';
import { enforceInput, inferSignature, ModelSignature } from '../signature/index.js';
import { NODE_FLAVOR, nodeRuntimeInfo, PYFUNC_FLAVOR, PYTHON_MODEL_LOADER, readModelConfig } from './flavor.js';
import { checkSaveOptions, copyCodePaths, finishModel, saveInto, type CommonSaveOptions, type LogTarget, type ModelInfo } from './model-dir.js';
import { importModelCode } from './model-code.js';
import { shipPythonLoader } from './python-loader.js';
import { createContext, isPythonModel, type PythonModel } from './python-model.js';

export interface SaveModelOptions extends CommonSaveOptions {
  /**
   * The model: the path of a model file that calls `setModel()` ("models from code": the file is copied
   * into the model and re-executed at load), or an instance (nothing of it can be stored; loading then
   * needs `{ pythonModel }` again).
   */
  pythonModel: PythonModel<any, any, any> | string;
  /** Name → local path, `file:` URI or `runs:/` URI; copied to `artifacts/<basename>`. */
  artifacts?: Record<string, string>;
  /** Given: stored as is. Absent with an input example: inferred by running the model on it (§4). */
  signature?: ModelSignature;
  /** Saved as the flavor's `config`; an object or a YAML/JSON file path. */
  modelConfig?: Record<string, unknown> | string;
  /** Defaults to whether the model defines `predictStream`. */
  streamable?: boolean;
}

/** Copy a model file into the model root by its basename, next to a package.json that makes it an ES module wherever the folder goes. */
async function copyModelCode(dir: string, file: string): Promise<string> {
  const source = path.resolve(file);
  const info = await stat(source).catch(() => undefined);
  if (!info?.isFile()) throw new MlflowException(`The model file '${file}' does not exist`, 'RESOURCE_DOES_NOT_EXIST');
  const name = path.basename(source);
  await copyFile(source, path.join(dir, name));
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
  return name;
}

/**
 * MLflow's signature inference for a PythonModel (§4): load the context, infer the input schema from the
 * raw example, enforce it as `predict` would, run `predict`, infer the output. A failing prediction keeps
 * the input schema only and warns, as MLflow does.
 */
async function inferModelSignature(
  model: PythonModel<unknown, unknown, unknown>,
  artifacts: Record<string, string>,
  modelConfig: Record<string, unknown> | null,
  example: unknown,
  params: Record<string, unknown> | undefined,
): Promise<ModelSignature> {
  const inputOnly = inferSignature(example, undefined, params);
  try {
    const context = createContext(artifacts, modelConfig);
    await model.loadContext?.(context);
    const input = inputOnly.inputs ? enforceInput(example, inputOnly.inputs) : example;
    const output = await model.predict(context, input, params);
    return inferSignature(example, output, params);
  } catch (err) {
    process.emitWarning(`Failed to infer model signature from input example: ${err instanceof Error ? err.message : String(err)}`, 'MlflowWarning');
    return inputOnly;
  }
}

/** Save into a prepared folder; `log` is set by `logModel`. */
export async function saveModelTo(dir: string, options: SaveModelOptions, log?: LogTarget): Promise<ModelInfo> {
  checkSaveOptions(options);
  const fromCode = typeof options.pythonModel === 'string';
  if (!fromCode && !isPythonModel(options.pythonModel)) {
    throw MlflowException.invalidParameterValue('pythonModel must be a PythonModel instance or the path of a model file that calls setModel()');
  }
  const modelConfig = await readModelConfig(options.modelConfig);
  const artifacts: Record<string, ArtifactEntry> = options.artifacts ? await saveArtifacts(dir, options.artifacts) : {};
  const code = await copyCodePaths(dir, options.codePaths);
  const entryModule = fromCode ? await copyModelCode(dir, options.pythonModel as string) : undefined;

  // MLflow executes a model-from-code file at save time to check that it registers a model.
  const model = entryModule ? await importModelCode(path.join(dir, entryModule)) : (options.pythonModel as PythonModel<unknown, unknown, unknown>);
  let signature = options.signature;
  try {
    if (!signature && options.inputExample !== undefined) {
      const context = await resolveArtifacts(dir, artifacts);
      signature = await inferModelSignature(model, context, modelConfig ?? null, options.inputExample, options.inputExampleParams);
    }
  } finally {
    if (entryModule) await model.dispose?.();
  }

  const flavor: Record<string, unknown> = {
    loader_module: PYTHON_MODEL_LOADER,
    ...(Object.keys(artifacts).length ? { artifacts } : {}),
    ...(entryModule ? { entry_module: entryModule } : { class_name: model.constructor.name }),
    code,
    ...(modelConfig ? { config: modelConfig } : {}),
    streamable: options.streamable ?? typeof model.predictStream === 'function',
    ...nodeRuntimeInfo(),
  };
  // Python MLflow loads the same folder through a loader that runs this model in a Node.js child process.
  const python = await shipPythonLoader(dir, 'ortgenai_node_pyfunc', { ...(modelConfig ? { config: modelConfig } : {}), streamable: flavor.streamable });
  return finishModel(dir, { ...options, flavors: { [NODE_FLAVOR]: flavor, [PYFUNC_FLAVOR]: python }, signature, log });
}

/**
 * `mlflow.pyfunc.save_model` for a TypeScript PythonModel: artifacts under `artifacts/`, the model file
 * (models from code), `code/`, input example, signature, MLmodel with a `nodejs_function` flavor, and the
 * environment files. The target folder must not exist or be empty.
 */
export async function saveModel(target: string, options: SaveModelOptions): Promise<ModelInfo> {
  return saveInto(target, (dir) => saveModelTo(dir, options));
}
