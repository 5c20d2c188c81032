import { LOADER_MODULE as ORTGENAI_LOADER, loadPyfunc as loadOrtGenAIPyfunc } from './flavors/ortgenai.js';
import { PYTHON_MODEL_LOADER } from './pyfunc/flavor.js';
import { loadModelWith, loadPythonModelFlavor, type LoadModelOptions, type PyfuncLoaders } from './pyfunc/load-model.js';
import type { PyFuncModel } from './pyfunc/pyfunc-model.js';

// The one place where the generic pyfunc layer meets the flavors this package ships: each flavor's Node
// loader under its `loader_module`, as Python finds it with importlib. A new flavor adds its line here;
// nothing in pyfunc/ or server/ knows any flavor.
const LOADERS: PyfuncLoaders = {
  [PYTHON_MODEL_LOADER]: loadPythonModelFlavor,
  [ORTGENAI_LOADER]: loadOrtGenAIPyfunc,
};

/**
 * `mlflow.pyfunc.load_model`: a model folder, `file:` URI, or `runs:/` / `models:/` URI. Node flavors
 * (`nodejs_function`) load with their Node loader; a folder that only Python can load needs
 * `options.pythonModel`.
 */
export async function loadModel(uri: string, options: LoadModelOptions = {}): Promise<PyFuncModel> {
  return loadModelWith(LOADERS, uri, options);
}
