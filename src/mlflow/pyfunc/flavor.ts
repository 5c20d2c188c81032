import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { MlflowException } from '../errors.js';
import type { MLModel } from '../mlmodel.js';
import { isRecord } from '../signature/types.js';
import { loadYaml } from '../pycompat/yaml.js';
import { describeIssues } from '../../zod-issues.js';

/**
 * The pyfunc flavor entries. Python MLflow reads `python_function` (mlflow-format.md §2.1); Node reads
 * `nodejs_function`, our counterpart with the same keys (`loader_module`, `artifacts`, `config`, `code`,
 * `data`, `streamable`) plus what a Node process needs to load the model: the entry module of a model
 * from code and the Node and package versions it was saved with. A folder can carry both, so Python and
 * Node each load it their own way; folders saved by Python MLflow only have `python_function`.
 */

export const PYFUNC_FLAVOR = 'python_function';
export const NODE_FLAVOR = 'nodejs_function';

/** `loader_module` of a TypeScript PythonModel (the analog of `mlflow.pyfunc.model`). */
export const PYTHON_MODEL_LOADER = 'ortgenai_node.pyfunc.model';

export const CODE_DIR = 'code';

const artifactEntrySchema = z.looseObject({ path: z.string(), uri: z.string().optional() });

/** What loaders read from either flavor; unknown keys are kept (MLflow stores extra kwargs verbatim). */
export const flavorConfSchema = z.looseObject({
  loader_module: z.string().min(1),
  artifacts: z.record(z.string(), artifactEntrySchema).nullish(),
  config: z.record(z.string(), z.unknown()).nullish(),
  code: z.string().nullish(),
  data: z.string().nullish(),
  streamable: z.boolean().nullish(),
  entry_module: z.string().nullish(),
  class_name: z.string().nullish(),
  python_model: z.string().nullish(),
  model_code_path: z.string().nullish(),
});

export type FlavorConf = z.output<typeof flavorConfSchema>;

/** The validated entry of one flavor, or undefined when the model does not have it. */
export function readFlavorConf(mlmodel: MLModel, name: string, source: string): FlavorConf | undefined {
  const raw = mlmodel.flavors[name];
  if (raw === undefined) return undefined;
  const parsed = flavorConfSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error, `flavors.${name}`, `flavors.${name}.`).join('; ');
    throw MlflowException.invalidParameterValue(`Malformed MLmodel in '${source}': ${issues}`);
  }
  return parsed.data;
}

const pkg = createRequire(import.meta.url)('../../../package.json') as { name: string; version: string };

/** Recorded in `nodejs_function` so a loader can tell which runtime and package wrote the model. */
export function nodeRuntimeInfo(): { node_version: string; package_name: string; package_version: string } {
  return { node_version: process.versions.node, package_name: pkg.name, package_version: pkg.version };
}

/** A model config as MLflow accepts it: an object, or the path of a YAML/JSON file holding a mapping. */
export async function readModelConfig(value: Record<string, unknown> | string | undefined): Promise<Record<string, unknown> | undefined> {
  if (value === undefined || typeof value !== 'string') return value;
  const text = await readFile(value, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    throw new MlflowException(`The model config file '${value}' does not exist`, 'RESOURCE_DOES_NOT_EXIST', { cause: err });
  });
  const parsed = loadYaml(text, value);
  if (!isRecord(parsed)) throw MlflowException.invalidParameterValue(`The model config file '${value}' must hold a mapping`);
  return parsed;
}
