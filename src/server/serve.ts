import { loadModel } from '../mlflow/load-model.js';
import type { LoadModelOptions } from '../mlflow/pyfunc/load-model.js';
import { resolveServerOptions, type ServerOptions } from './options.js';
import { ModelServer } from './server.js';

export interface ServeOptions extends ServerOptions, LoadModelOptions {
  /** Default 127.0.0.1 (as `mlflow models serve`). */
  host?: string;
  /** Default 5000; 0 picks a free port. */
  port?: number;
}

/**
 * `mlflow models serve` for Node: load the model at `uri` (folder, `file:`, `runs:/`, `models:/`) and
 * serve it. The returned server owns the model: `close()` shuts down gracefully and disposes it.
 */
export async function serve(uri: string, options: ServeOptions = {}): Promise<ModelServer> {
  const { host = '127.0.0.1', port = 5000, pythonModel, modelConfig, ...serverOptions } = options;
  resolveServerOptions(serverOptions); // bad options fail before a model is loaded
  const model = await loadModel(uri, { pythonModel, modelConfig });
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
