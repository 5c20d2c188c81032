/**
 * `ortgenai-node/mlflow`: MLflow models from Node. Formats (MLmodel, signatures, input examples) at the
 * top level; `pyfunc` and `ortgenai` as namespaces, as in Python (`mlflow.pyfunc`, `mlflow.transformers`).
 */
export * from './errors.js';
export { MLModel, MLFLOW_VERSION, MLMODEL_FILE_NAME, type FlavorConfig, type MLModelInit } from './mlmodel.js';
export * from './signature/index.js';
export * from './input-example.js';
export { dumpYaml, loadYaml } from './pycompat/yaml.js';
export { localPathFromUri, trackingRoot } from './uri.js';
export * from './tracking/index.js';
export { DEFAULT_PYTHON_ENV, pipRequirements, writeEnvFiles, type PythonEnv } from './env-files.js';
export * as pyfunc from './pyfunc/index.js';
export { PythonModel, setModel, PyFuncModel, type PythonModelContext, type ColumnInput, type ModelInfo } from './pyfunc/index.js';
export * as ortgenai from './flavors/ortgenai.js';
export * from './chat/schemas.js';
export { chatSignature, completionsSignature, chatInputSchema, chatOutputSchema } from './chat/signature.js';
