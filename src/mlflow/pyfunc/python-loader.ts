import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PYTHON_ENV, FLAVOR_ENV } from '../env-files.js';
import { CODE_DIR } from './flavor.js';

/** The Python loader modules shipped in the package's python/ folder, one per kind of Node-written model. */
export type PythonLoaderModule = 'ortgenai_mlflow_loader' | 'ortgenai_node_pyfunc';

/**
 * Give a Node-written model a `python_function` flavor, so Python MLflow (`mlflow.pyfunc.load_model`,
 * `mlflow models serve`) loads it too: the loader module is copied into `code/` (which MLflow puts on
 * `sys.path`) and named as `loader_module`. Returns the flavor entry; `extra` adds `data`, `config`,
 * `streamable`.
 */
export async function shipPythonLoader(dir: string, module: PythonLoaderModule, extra: Record<string, unknown>): Promise<Record<string, unknown>> {
  await mkdir(path.join(dir, CODE_DIR), { recursive: true });
  const source = fileURLToPath(new URL(`../../../python/${module}.py`, import.meta.url));
  await copyFile(source, path.join(dir, CODE_DIR, `${module}.py`));
  return { loader_module: module, code: CODE_DIR, env: { ...FLAVOR_ENV }, python_version: DEFAULT_PYTHON_ENV.python, ...extra };
}
