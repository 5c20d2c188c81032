import { resolveArtifacts, resolveModelPath } from '../artifacts.js';
import { MlflowException } from '../errors.js';
import { MLModel } from '../mlmodel.js';
import { localPathFromUri } from '../uri.js';
import { NODE_FLAVOR, PYFUNC_FLAVOR, readFlavorConf, readModelConfig, type FlavorConf } from './flavor.js';
import { importModelCode } from './model-code.js';
import { PyFuncModel, type PyfuncImplementation } from './pyfunc-model.js';
import { createContext, isPythonModel, type PredictOptions, type PythonModel, type PythonModelContext } from './python-model.js';

export interface LoadModelOptions {
  /**
   * A TypeScript implementation to bind to the model folder's artifacts, signature and config, instead of
   * what the folder names. Required for folders saved by Python MLflow (their pickles or Python code are
   * never run). The loaded PyFuncModel owns it: `dispose()` disposes it too.
   */
  pythonModel?: PythonModel<any, any, any>;
  /** Overrides of the saved `config`: an object, or the path of a YAML/JSON file (as MLflow accepts). */
  modelConfig?: Record<string, unknown> | string;
}

/** Loader of a flavor: `_load_pyfunc(data_path, model_config)` of a Node flavor. */
export type PyfuncLoader = (dir: string, conf: FlavorConf, mlmodel: MLModel, modelConfig: Record<string, unknown> | null) => Promise<PyfuncImplementation>;

/** The Node loaders by `loader_module`, as Python finds them with `importlib.import_module(loader_module)`. */
export type PyfuncLoaders = Readonly<Record<string, PyfuncLoader>>;

class PythonModelImplementation implements PyfuncImplementation {
  readonly pythonModel: PythonModel<unknown, unknown, unknown>;
  readonly predictStream?: PyfuncImplementation['predictStream'];
  readonly #context: PythonModelContext;

  constructor(model: PythonModel<unknown, unknown, unknown>, context: PythonModelContext) {
    this.pythonModel = model;
    this.#context = context;
    if (typeof model.predictStream === 'function') this.predictStream = this.#stream;
  }

  async predict(data: unknown, params: Record<string, unknown>, options: PredictOptions): Promise<unknown> {
    return this.pythonModel.predict(this.#context, data, params, options);
  }

  async *#stream(data: unknown, params: Record<string, unknown>, options: PredictOptions): AsyncGenerator<unknown> {
    yield* this.pythonModel.predictStream!(this.#context, data, params, options);
  }

  async dispose(): Promise<void> {
    await this.pythonModel.dispose?.();
  }
}

/** Bind a PythonModel to a model folder: resolve artifacts, build the context, run `loadContext`. */
export async function bindPythonModel(
  dir: string,
  conf: FlavorConf,
  model: PythonModel<unknown, unknown, unknown>,
  modelConfig: Record<string, unknown> | null,
): Promise<PyfuncImplementation> {
  if (!isPythonModel(model)) throw MlflowException.invalidParameterValue('pythonModel must be a PythonModel instance (an object with a predict method)');
  const context = createContext(await resolveArtifacts(dir, conf.artifacts ?? undefined), modelConfig);
  await model.loadContext?.(context);
  return new PythonModelImplementation(model, context);
}

/** The loader of TypeScript PythonModels (`mlflow.pyfunc.model`'s counterpart). */
export const loadPythonModelFlavor: PyfuncLoader = async (dir, conf, _mlmodel, modelConfig) => {
  if (!conf.entry_module) {
    throw MlflowException.invalidParameterValue(
      `The model at '${dir}' was saved from an instance of ${conf.class_name ?? 'a PythonModel'}; a class instance cannot be stored, so its code is not part of the model. ` +
        `Pass the implementation when loading (loadModel(uri, { pythonModel: new ${conf.class_name ?? 'MyModel'}() })), or save it from a model file (pythonModel: 'path/to/model.ts') that calls setModel().`,
    );
  }
  const model = await importModelCode(await resolveModelPath(dir, conf.entry_module, 'entry module'));
  return bindPythonModel(dir, conf, model, modelConfig);
};

function pythonOnly(dir: string, conf: FlavorConf): MlflowException {
  const fix =
    'Pass a TypeScript implementation instead: loadModel(uri, { pythonModel: new MyModel() }); it is bound to this model\'s artifacts, signature and config.';
  const what =
    conf.loader_module === 'mlflow.pyfunc.model'
      ? `with a cloudpickled Python model ('${conf.python_model ?? 'python_model.pkl'}'). ortgenai-node never unpickles Python objects.`
      : conf.model_code_path
        ? `from Python code ('${conf.model_code_path}'). ortgenai-node does not run Python code.`
        : `with the Python loader '${conf.loader_module}', which cannot run in Node.js.`;
  return MlflowException.invalidParameterValue(`The model at '${dir}' was saved by Python MLflow ${what} ${fix}`);
}

/** The saved config overlaid with the override; null when neither exists (PythonModelContext semantics). */
function effectiveConfig(saved: Record<string, unknown> | null | undefined, override: Record<string, unknown> | undefined) {
  if (!saved && !override) return null;
  return { ...saved, ...override };
}

/**
 * `mlflow.pyfunc.load_model` over the given loaders: the generic part, which knows no flavor. The package's
 * `loadModel` (src/mlflow/load-model.ts) passes the loaders of the flavors it ships.
 */
export async function loadModelWith(loaders: PyfuncLoaders, uri: string, options: LoadModelOptions = {}): Promise<PyFuncModel> {
  const dir = await localPathFromUri(uri);
  const mlmodel = await MLModel.load(dir);
  const nodeConf = readFlavorConf(mlmodel, NODE_FLAVOR, dir);
  const pythonConf = readFlavorConf(mlmodel, PYFUNC_FLAVOR, dir);
  const conf = nodeConf ?? pythonConf;
  if (!conf) throw new MlflowException(`Model does not have the "${PYFUNC_FLAVOR}" flavor`, 'RESOURCE_DOES_NOT_EXIST');
  for (const [key, what] of [['code', 'code path'], ['data', 'data path']] as const) {
    if (conf[key]) await resolveModelPath(dir, conf[key], what);
  }
  const modelConfig = effectiveConfig(conf.config, await readModelConfig(options.modelConfig));

  let impl: PyfuncImplementation;
  if (options.pythonModel) {
    impl = await bindPythonModel(dir, conf, options.pythonModel, modelConfig);
  } else if (nodeConf) {
    const loader = Object.hasOwn(loaders, nodeConf.loader_module) ? loaders[nodeConf.loader_module] : undefined;
    if (!loader) {
      throw MlflowException.invalidParameterValue(`Unknown ${NODE_FLAVOR} loader_module '${nodeConf.loader_module}' in '${dir}' (this ortgenai-node knows: ${Object.keys(loaders).join(', ')})`);
    }
    impl = await loader(dir, nodeConf, mlmodel, modelConfig);
  } else {
    throw pythonOnly(dir, conf);
  }
  return new PyFuncModel(mlmodel, impl, dir, modelConfig ?? {}, conf.loader_module);
}
