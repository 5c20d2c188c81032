import { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MlflowException } from '../errors.js';
import { isPythonModel, type PythonModel } from './python-model.js';

/**
 * Models from code (mlflow-format.md §2.4): TypeScript classes cannot be pickled, so a model is a module
 * file that registers its instance with `setModel(new MyModel())`, the analog of
 * `mlflow.models.set_model`. Saving copies the file into the model folder; loading imports that copy.
 *
 * TypeScript model files (.ts/.mts/.cts) need a runtime that imports TypeScript: vitest, tsx, or a Node
 * that strips types (22.18+, 23.6+). Under plain Node 20 save the model from a .js/.mjs file instead;
 * loading a .ts model there fails with a MlflowException that says so.
 */

export const MODEL_QUERY_KEY = 'ortgenai-mlflow-model';
const TYPESCRIPT = /\.[mc]?ts$/;

// One slot per process, not per module copy: the model file imports `ortgenai-node/mlflow` (dist/) even
// when the loader runs from another copy (src/ under vitest), and both must meet in the same place.
interface Slot {
  model?: PythonModel<unknown, unknown, unknown>;
  calls: number;
  queue: Promise<unknown>;
  hooks?: boolean;
}
const SLOT_KEY = Symbol.for('ortgenai-node.mlflow.models-from-code');
const slot: Slot = ((globalThis as Record<symbol, unknown>)[SLOT_KEY] ??= { calls: 0, queue: Promise.resolve() }) as Slot;

/** Register the model a model-code file defines (`mlflow.models.set_model`). */
export function setModel(model: PythonModel<any, any, any>): void {
  if (!isPythonModel(model)) {
    throw MlflowException.invalidParameterValue('setModel() expects a PythonModel instance (an object with a predict method)');
  }
  slot.model = model;
}

/**
 * A model folder can live anywhere (a download, /tmp), where its entry module's bare imports
 * (`ortgenai-node/mlflow`) do not resolve. Under Node's own loader a resolve hook retries those from the
 * application's working directory and then from this package, as Python finds packages in site-packages.
 * Bundler runtimes (vite/vitest) use their own resolver and keep the usual rules.
 */
function installResolveHooks(): void {
  if (slot.hooks !== undefined) return;
  const hooks = new URL('./resolve-hooks.js', import.meta.url);
  try {
    register(hooks, { data: { queryKey: MODEL_QUERY_KEY, fallbacks: [pathToFileURL(path.join(process.cwd(), 'noop.js')).href, import.meta.url] } });
    slot.hooks = true;
  } catch {
    slot.hooks = false;
  }
}

function importFailure(file: string, err: unknown): MlflowException {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (TYPESCRIPT.test(file) && code === 'ERR_UNKNOWN_FILE_EXTENSION') {
    return new MlflowException(
      `Cannot import the model file '${file}': it is TypeScript and this Node.js (${process.version}) cannot import TypeScript. ` +
        'Load the model under a TypeScript-capable runtime (tsx, vitest, or Node >= 22.18 / 23.6), or save it from a compiled .js/.mjs model file.',
      'INVALID_STATE',
      { cause: err },
    );
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new MlflowException(`Failed to import the model file '${file}': ${detail}`, 'INVALID_STATE', { cause: err });
}

/**
 * Execute a model-code file and return the model it registered. Every call re-executes the file (a
 * fresh module instance per load, as MLflow re-runs the script) and loads are serialised, since the
 * registration slot is process-wide.
 */
export function importModelCode(file: string): Promise<PythonModel<unknown, unknown, unknown>> {
  installResolveHooks();
  const run = slot.queue.then(async () => {
    slot.model = undefined;
    slot.calls += 1;
    const url = `${pathToFileURL(file).href}?${MODEL_QUERY_KEY}=${slot.calls}`;
    try {
      await import(url);
    } catch (err) {
      throw importFailure(file, err);
    }
    const model = slot.model;
    slot.model = undefined;
    if (!model) {
      throw new MlflowException(
        `The model file '${file}' did not register a model. If the model is logged as code, ensure the model is set using setModel() (from 'ortgenai-node/mlflow') within the code file.`,
        'INVALID_STATE',
      );
    }
    return model;
  });
  slot.queue = run.catch(() => undefined);
  return run;
}
