import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dumpYaml } from './pycompat/yaml.js';

/**
 * The Python environment files MLflow writes next to every model (mlflow-format.md §2.6,
 * `mlflow/utils/environment.py`): `requirements.txt`, `conda.yaml`, `python_env.yaml`.
 * A Node model needs none of them, but MLflow tooling (`mlflow models serve`, the UI, model
 * registries) expects them, and the ORT-GenAI flavor's Python loader really runs in that environment.
 */

/** The Python environment our models declare: the one the ORT-GenAI Python loader is tested against. */
export interface PythonEnv {
  python: string;
  pip: string;
  setuptools: string;
  wheel: string;
}

export const DEFAULT_PYTHON_ENV: Readonly<PythonEnv> = Object.freeze({
  python: '3.11.9',
  pip: '24.2',
  setuptools: '75.1.0',
  wheel: '0.44.0',
});

export const REQUIREMENTS_FILE = 'requirements.txt';
export const CONDA_FILE = 'conda.yaml';
export const PYTHON_ENV_FILE = 'python_env.yaml';

const MLFLOW_PACKAGES = new Set(['mlflow', 'mlflow-skinny', 'mlflow-tracing']);

/** The distribution name of a pip requirement line (`onnxruntime-genai>=0.5 ; extra` → `onnxruntime-genai`). */
function packageName(requirement: string): string {
  return requirement.trim().split(/[\s=<>!~;[@]/, 1)[0].toLowerCase().replace(/_/g, '-');
}

/**
 * The requirement lines MLflow would write: de-duplicated, in the caller's order, with
 * `mlflow==<version>` first unless some mlflow package is already listed.
 */
export function pipRequirements(requirements: readonly string[], mlflowVersion: string): string[] {
  const lines = [...new Set(requirements.map((r) => r.trim()).filter((r) => r !== ''))];
  if (!lines.some((r) => MLFLOW_PACKAGES.has(packageName(r)))) lines.unshift(`mlflow==${mlflowVersion}`);
  return lines;
}

/** `requirements.txt`: the lines joined with `\n` and, as MLflow writes it, no trailing newline. */
export function requirementsText(lines: readonly string[]): string {
  return lines.join('\n');
}

/** `conda.yaml`: `yaml.safe_dump` of MLflow's env dict, so keys are sorted. */
export function condaYaml(lines: readonly string[], env: PythonEnv = DEFAULT_PYTHON_ENV): string {
  const conda = {
    name: 'mlflow-env',
    channels: ['conda-forge'],
    dependencies: [`python=${env.python}`, `pip<=${env.pip}`, { pip: [...lines] }],
  };
  return dumpYaml(conda);
}

/** `python_env.yaml`: written with `sort_keys=False`, so python, build_dependencies, dependencies. */
export function pythonEnvYaml(env: PythonEnv = DEFAULT_PYTHON_ENV): string {
  const doc = {
    python: env.python,
    build_dependencies: [`pip==${env.pip}`, `setuptools==${env.setuptools}`, `wheel==${env.wheel}`],
    dependencies: [`-r ${REQUIREMENTS_FILE}`],
  };
  return dumpYaml(doc, { sortKeys: false });
}

/** The `env` entry of a `python_function` flavor that points at the files below. */
export const FLAVOR_ENV = Object.freeze({ conda: CONDA_FILE, virtualenv: PYTHON_ENV_FILE });

/** Write the three environment files into a model directory; returns the requirement lines written. */
export async function writeEnvFiles(
  dir: string,
  options: { requirements?: readonly string[]; mlflowVersion: string; env?: PythonEnv },
): Promise<string[]> {
  const env = options.env ?? DEFAULT_PYTHON_ENV;
  const lines = pipRequirements(options.requirements ?? [], options.mlflowVersion);
  await Promise.all([
    writeFile(path.join(dir, REQUIREMENTS_FILE), requirementsText(lines)),
    writeFile(path.join(dir, CONDA_FILE), condaYaml(lines, env)),
    writeFile(path.join(dir, PYTHON_ENV_FILE), pythonEnvYaml(env)),
  ]);
  return lines;
}
