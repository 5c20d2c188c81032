import { cp, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { Model, type ModelLoadOptions } from '../../genai/index.js';
import { resolveModelPath } from '../artifacts.js';
import { parseRequest } from '../chat/requests.js';
import { generationConfigSchema, type GenerationConfig } from '../chat/schemas.js';
import { chatSignature, completionsSignature } from '../chat/signature.js';
import { MlflowException } from '../errors.js';
import { MLModel } from '../mlmodel.js';
import { NODE_FLAVOR, nodeRuntimeInfo, PYFUNC_FLAVOR, readFlavorConf } from '../pyfunc/flavor.js';
import type { PyfuncLoader } from '../pyfunc/load-model.js';
import { logModelWith, type LogOptions } from '../pyfunc/log-model.js';
import { checkSaveOptions, copyCodePaths, finishModel, saveInto, type CommonSaveOptions, type LogTarget, type ModelInfo } from '../pyfunc/model-dir.js';
import { PyFuncModel } from '../pyfunc/pyfunc-model.js';
import { shipPythonLoader, type PythonLoaderModule } from '../pyfunc/python-loader.js';
import { ColSpec, DataType, ModelSignature, Schema } from '../signature/index.js';
import { localPathFromUri } from '../uri.js';
import { OrtGenAIPyfunc, type OrtGenAITask } from './ortgenai-pyfunc.js';

/**
 * The built-in ORT-GenAI flavor, our `mlflow.transformers`: the model folder (ONNX, genai_config.json,
 * tokenizer) is stored under `model/`, and three flavor entries describe it:
 * - `ortgenai`: the native flavor (`ortgenai.loadModel` gives back a genai `Model`);
 * - `nodejs_function`: loads it in Node as a pyfunc (chat, completions or plain text generation);
 * - `python_function`: loader_module `ortgenai_mlflow_loader`, a Python module shipped in `code/`, so
 *   Python MLflow (`mlflow.pyfunc.load_model`, `mlflow models serve`) can serve the same folder with the
 *   `onnxruntime-genai` package.
 */

export const FLAVOR_NAME = 'ortgenai';
/** This flavor's `loader_module` in `nodejs_function` (the analog of `mlflow.transformers`). */
export const LOADER_MODULE = 'ortgenai_node.flavors.ortgenai';
export const MODEL_DATA_DIR = 'model';
export const PYTHON_LOADER_MODULE = 'ortgenai_mlflow_loader' satisfies PythonLoaderModule;
/** The Python requirement of the loader (guidance and the keyword chat-template API arrived in 0.8). */
export const DEFAULT_REQUIREMENTS: readonly string[] = ['onnxruntime-genai>=0.8.0'];

const taskSchema = z.enum(['llm/v1/chat', 'llm/v1/completions']);

export interface OrtGenAISaveOptions extends CommonSaveOptions {
  /** An ORT-GenAI model folder, or a loaded Model (its folder is saved). */
  model: string | Model;
  /** `llm/v1/chat` / `llm/v1/completions` fix the signature to MLflow's; undefined = plain text generation. */
  task?: OrtGenAITask;
  /** Generation defaults (max_tokens, temperature, top_p, top_k, stop, n, seed, ...); requests override them. */
  modelConfig?: Record<string, unknown>;
  /** Only without a task (default `['prompt': string]` → `[string]`). */
  signature?: ModelSignature;
}

function validConfig(config: unknown, source: string): GenerationConfig {
  return parseRequest(generationConfigSchema, config ?? {}, `model config (${source})`);
}

function defaultSignature(task: OrtGenAITask | undefined, given: ModelSignature | undefined): ModelSignature {
  if (task && given) {
    throw MlflowException.invalidParameterValue(`When \`task\` is specified as \`${task}\`, the signature would be set by MLflow. Please do not set the signature.`);
  }
  if (task === 'llm/v1/chat') return chatSignature();
  if (task === 'llm/v1/completions') return completionsSignature();
  return given ?? new ModelSignature({ inputs: new Schema([new ColSpec(DataType.string, 'prompt')]), outputs: new Schema([new ColSpec(DataType.string)]) });
}

/** The `ortgenai` and `nodejs_function` entries for the model folder `source`, stored at `data` in the MLmodel's folder. */
function nodeFlavors(source: string, data: string, task: OrtGenAITask | undefined, config: GenerationConfig | undefined) {
  return {
    [FLAVOR_NAME]: { model_data: data, source_model_name: path.basename(source), ...(task ? { task } : {}) },
    [NODE_FLAVOR]: { loader_module: LOADER_MODULE, data, ...(config ? { config } : {}), streamable: true, ...nodeRuntimeInfo() },
  };
}

async function saveModelTo(dir: string, options: OrtGenAISaveOptions, log?: LogTarget): Promise<ModelInfo> {
  checkSaveOptions(options);
  const task = options.task === undefined ? undefined : parseRequest(taskSchema, options.task, 'task');
  const config = options.modelConfig === undefined ? undefined : validConfig(options.modelConfig, 'modelConfig');
  const signature = defaultSignature(task, options.signature);
  const source = path.resolve(typeof options.model === 'string' ? options.model : options.model.path);
  if (!(await stat(path.join(source, 'genai_config.json')).then((s) => s.isFile(), () => false))) {
    throw MlflowException.invalidParameterValue(`'${source}' is not an ORT-GenAI model folder: it has no genai_config.json`);
  }
  await cp(source, path.join(dir, MODEL_DATA_DIR), { recursive: true, dereference: true });
  await copyCodePaths(dir, options.codePaths);
  const withConfig = config ? { config } : {};
  const python = await shipPythonLoader(dir, PYTHON_LOADER_MODULE, { data: MODEL_DATA_DIR, ...withConfig, streamable: false });
  const flavors = { ...nodeFlavors(source, MODEL_DATA_DIR, task, config), [PYFUNC_FLAVOR]: python };
  return finishModel(dir, {
    ...options,
    requirements: options.requirements ?? [...DEFAULT_REQUIREMENTS],
    metadata: task ? { ...options.metadata, task } : options.metadata,
    flavors,
    signature,
    log,
  });
}

/** Save an ORT-GenAI model folder as an MLflow model (see the module comment for the layout). */
export async function saveModel(target: string, options: OrtGenAISaveOptions): Promise<ModelInfo> {
  return saveInto(target, (dir) => saveModelTo(dir, options));
}

/** `log_model` into a run of the local file store. */
export async function logModel(artifactPath: string, options: OrtGenAISaveOptions & LogOptions): Promise<ModelInfo> {
  return logModelWith(artifactPath, options, (dir, log) => saveModelTo(dir, options, log));
}

async function modelDataDir(dir: string, mlmodel: MLModel): Promise<string> {
  const flavor = mlmodel.flavors[FLAVOR_NAME];
  if (!flavor) throw new MlflowException(`Model does not have the "${FLAVOR_NAME}" flavor`, 'RESOURCE_DOES_NOT_EXIST');
  return resolveModelPath(dir, flavor.model_data ?? MODEL_DATA_DIR, 'model data path');
}

/** The native flavor's loader: the genai `Model` of a saved model (dispose it when done). */
export async function loadModel(uri: string, options: ModelLoadOptions = {}): Promise<Model> {
  const dir = await localPathFromUri(uri);
  return Model.load(await modelDataDir(dir, await MLModel.load(dir)), options);
}

/**
 * A plain ORT-GenAI model folder loaded as the pyfunc model `saveModel` would make of it, with the MLmodel in
 * memory only: nothing is copied or written (what `ortgenai serve -m <folder>` serves). Python MLflow cannot
 * load this one, so it has no python_function flavor.
 */
export async function loadFolderAsPyfunc(folder: string, options: Pick<OrtGenAISaveOptions, 'task' | 'modelConfig'> = {}): Promise<PyFuncModel> {
  const task = options.task === undefined ? undefined : parseRequest(taskSchema, options.task, 'task');
  const config = options.modelConfig === undefined ? undefined : validConfig(options.modelConfig, 'modelConfig');
  const dir = path.resolve(folder);
  const flavors = nodeFlavors(dir, '.', task, config);
  const mlmodel = MLModel.create({ flavors, signature: defaultSignature(task, undefined), metadata: task ? { task } : undefined });
  const conf = readFlavorConf(mlmodel, NODE_FLAVOR, dir)!;
  return new PyFuncModel(mlmodel, await loadPyfunc(dir, conf, mlmodel, config ?? null), dir, config ?? {}, LOADER_MODULE);
}

/** The `nodejs_function` loader of this flavor (used by `pyfunc.loadModel`). */
export const loadPyfunc: PyfuncLoader = async (dir, conf, mlmodel, modelConfig) => {
  const data = conf.data ? await resolveModelPath(dir, conf.data, 'data path') : await modelDataDir(dir, mlmodel);
  const rawTask = mlmodel.flavors[FLAVOR_NAME]?.task;
  const task = rawTask == null ? undefined : parseRequest(taskSchema, rawTask, `task in the MLmodel of '${dir}'`);
  const config = validConfig(modelConfig, dir);
  const name = mlmodel.flavors[FLAVOR_NAME]?.source_model_name;
  return new OrtGenAIPyfunc(await Model.load(data), task, config, typeof name === 'string' ? name : '');
};
