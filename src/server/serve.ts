import { stat } from 'node:fs/promises';
import path from 'node:path';
import { loadFolderAsPyfunc } from '../mlflow/flavors/ortgenai.js';
import type { OrtGenAITask } from '../mlflow/flavors/ortgenai-pyfunc.js';
import { MLMODEL_FILE_NAME } from '../mlflow/mlmodel.js';
import { readModelConfig } from '../mlflow/pyfunc/flavor.js';
import { loadModel } from '../mlflow/load-model.js';
import type { LoadModelOptions } from '../mlflow/pyfunc/load-model.js';
import { localPathFromUri } from '../mlflow/uri.js';
import { resolveServerOptions, type ServerOptions } from './options.js';
import { ModelServer } from './server.js';

export interface ServeOptions extends ServerOptions, LoadModelOptions {
  /** Default 127.0.0.1 (as `mlflow models serve`). */
  host?: string;
  /** Default 5000; 0 picks a free port. */
  port?: number;
  /**
   * For a plain ORT-GenAI model folder (genai_config.json, no MLmodel), packaged on the fly as `ortgenai.saveModel`
   * would: 'llm/v1/chat' (default), 'llm/v1/completions', or null for plain text generation. Ignored for MLflow models,
   * whose MLmodel says.
   */
  task?: OrtGenAITask | null;
}

const isFile = (file: string) => stat(file).then((s) => s.isFile(), () => false);

/**
 * `mlflow models serve` for Node: load the model at `uri` (folder, `file:`, `runs:/`, `models:/`) and
 * serve it. A plain ORT-GenAI model folder is served as the MLflow model `ortgenai save` would make of it.
 * The returned server owns the model: `close()` shuts down gracefully and disposes it.
 */
export async function serve(uri: string, options: ServeOptions = {}): Promise<ModelServer> {
  const { host = '127.0.0.1', port = 5000, pythonModel, modelConfig, task = 'llm/v1/chat', ...serverOptions } = options;
  resolveServerOptions(serverOptions); // bad options fail before a model is loaded
  const dir = await localPathFromUri(uri);
  const plainFolder = !(await isFile(path.join(dir, MLMODEL_FILE_NAME))) && (await isFile(path.join(dir, 'genai_config.json')));
  const model = plainFolder && !pythonModel
    ? await loadFolderAsPyfunc(dir, { task: task ?? undefined, modelConfig: await readModelConfig(modelConfig) })
    : await loadModel(dir, { pythonModel, modelConfig });
  let server: ModelServer | undefined;
  try {
    server = new ModelServer(model, serverOptions, true);
    await server.listen(port, host);
    return server;
  } catch (err) {
    if (server) await server.close({ timeout: 0 });
    else await model.dispose();
    throw err;
  }
}
