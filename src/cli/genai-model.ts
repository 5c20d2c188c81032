// The ORT-GenAI model behind a command's -m: a plain ORT-GenAI folder, or the one an MLflow model holds.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ValidationError } from '../errors.js';
import { GENAI_CONFIG_FILE } from '../genai/genai-config.js';
import { Model, type ModelLoadOptions } from '../genai/model.js';
import { MLModel, MLMODEL_FILE_NAME } from '../mlflow/mlmodel.js';
import { localPathFromUri } from '../mlflow/uri.js';

export const isFile = (file: string) => stat(file).then((s) => s.isFile(), () => false);

/** Where in an MLflow model folder an ORT-GenAI model folder is (the flavors that point at one, or the folder itself). */
export async function ortgenaiFolderIn(dir: string, mlmodel: MLModel): Promise<string | undefined> {
  const f = mlmodel.flavors;
  const candidates = [f.ortgenai?.model_data, f.nodejs_function?.data, f.python_function?.data, '.'];
  for (const rel of candidates) {
    if (typeof rel !== 'string') continue;
    const inside = path.relative(dir, path.resolve(dir, rel));
    if (inside.startsWith('..') || path.isAbsolute(inside)) continue;
    if (await isFile(path.join(dir, rel, GENAI_CONFIG_FILE))) return path.normalize(rel);
  }
  return undefined;
}

/**
 * Loads the ORT-GenAI model `uri` names: an ORT-GenAI model folder, or an MLflow model (folder, file:, runs:/ or
 * models:/ URI, resolved as `predict` and `serve` resolve them) that holds one.
 */
export async function loadGenAIModel(uri: string, options: ModelLoadOptions = {}): Promise<Model> {
  const dir = await localPathFromUri(uri);
  if (!(await isFile(path.join(dir, MLMODEL_FILE_NAME)))) return Model.load(dir, options);
  const inner = await ortgenaiFolderIn(dir, await MLModel.load(dir));
  if (inner === undefined) throw new ValidationError(`the MLflow model in ${dir} holds no ORT-GenAI model folder (no ${GENAI_CONFIG_FILE} in it)`);
  return Model.load(path.join(dir, inner), options);
}
