/** `mlflow.pyfunc` for TypeScript: the PythonModel contract, save / log / load, and the loaded PyFuncModel. */
export { createContext, PythonModel, type ColumnInput, type PythonModelContext } from './python-model.js';
export { setModel } from './model-code.js';
export { saveModel, type SaveModelOptions } from './save-model.js';
export { logModel, type LogOptions } from './log-model.js';
export { loadModel } from '../load-model.js';
export type { LoadModelOptions } from './load-model.js';
export { PyFuncModel } from './pyfunc-model.js';
export type { PredictOptions } from './python-model.js';
export type { CommonSaveOptions, ModelInfo } from './model-dir.js';
export { NODE_FLAVOR, PYFUNC_FLAVOR } from './flavor.js';
