import { cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeEnvFiles } from '../env-files.js';
import { MlflowException } from '../errors.js';
import { saveInputExample } from '../input-example.js';
import { MLFLOW_VERSION, MLModel, type FlavorConfig } from '../mlmodel.js';
import type { ModelSignature } from '../signature/index.js';
import { CODE_DIR } from './flavor.js';
import { describeIssues } from '../../zod-issues.js';

/**
 * What every model save shares, whatever the flavor: a fresh target folder, `code/`, the input example,
 * `model_size_bytes`, the MLmodel and the environment files, in MLflow's order (mlflow-format.md §1-§2).
 */

/** Set by `logModel`: where in a run the model is logged. */
export interface LogTarget {
  runId: string;
  artifactPath: string;
  /** MLflow 3's logged model (tracking server): the MLmodel's `model_id`, and `models:/<model_id>` as the URI. */
  modelId?: string;
}

/** What saving or logging a model returns (MLflow's `ModelInfo`). */
export interface ModelInfo {
  /** `runs:/<run_id>/<artifact_path>` for a logged model, the absolute folder path for a saved one. */
  modelUri: string;
  /** The local model folder. */
  path: string;
  runId?: string;
  artifactPath?: string;
  /** MLflow 3's logged model id, when logged to a tracking server. */
  modelId?: string;
  modelUuid: string;
  utcTimeCreated: string;
  mlflowVersion: string;
  flavors: Record<string, FlavorConfig>;
  signature?: ModelSignature;
  savedInputExampleInfo?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** The MLmodel as written. */
  mlmodel: MLModel;
}

/** Options every flavor's `saveModel` accepts. */
export interface CommonSaveOptions {
  /** An input example (a `{ prompt: 'hi' }` dict, a list of records, a string, ...). */
  inputExample?: unknown;
  /** Params saved with the input example (MLflow's `input_example=(data, params)`). */
  inputExampleParams?: Record<string, unknown>;
  /** pip requirements for the Python environment files; `mlflow==<version>` is added first. */
  requirements?: string[];
  /** Local files or folders copied into `code/`. */
  codePaths?: string[];
  /** Written to the MLmodel's top-level `metadata`. */
  metadata?: Record<string, unknown>;
}

const commonSaveOptionsSchema = z.object({
  inputExampleParams: z.record(z.string(), z.unknown()).optional(),
  requirements: z.array(z.string()).optional(),
  codePaths: z.array(z.string()).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

/** The options every flavor shares, checked before anything is copied (JavaScript callers get no type check). */
export function checkSaveOptions(options: CommonSaveOptions): void {
  const parsed = commonSaveOptionsSchema.safeParse(options);
  if (parsed.success) return;
  const issues = describeIssues(parsed.error, '(options)');
  throw MlflowException.invalidParameterValue(`Invalid save options: ${issues.join('; ')}`);
}

/** Create the target folder; like MLflow, refuse one that exists and is not empty. */
export async function prepareModelDir(target: string): Promise<string> {
  const dir = path.resolve(target);
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  if (entries.length > 0) throw new MlflowException(`Path '${dir}' already exists and is not empty`, 'RESOURCE_ALREADY_EXISTS');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Run a save into a fresh folder; on failure remove what was written, so a retry can use the same path. */
export async function saveInto<T>(target: string, save: (dir: string) => Promise<T>): Promise<T> {
  const dir = await prepareModelDir(target);
  try {
    return await save(dir);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Copy code paths into `code/<basename>`; the flavor's `code` entry (null when there are none). */
export async function copyCodePaths(dir: string, codePaths: readonly string[] | undefined): Promise<string | null> {
  if (!codePaths?.length) return null;
  for (const source of codePaths) {
    const from = path.resolve(source);
    await stat(from).catch((err) => {
      throw new MlflowException(`Code path '${source}' does not exist`, 'RESOURCE_DOES_NOT_EXIST', { cause: err });
    });
    await cp(from, path.join(dir, CODE_DIR, path.basename(from)), { recursive: true, dereference: true, errorOnExist: true, force: false });
  }
  return CODE_DIR;
}

async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** MLflow 3 records whether a signature came from type hints; ours never do. */
function withFlags(signature: ModelSignature | undefined): ModelSignature | undefined {
  if (!signature || signature.isSignatureFromTypeHint !== undefined) return signature;
  return signature.withTypeHintFlags(false, false);
}

/** Write the input example, MLmodel and environment files of a model whose flavor files are in place. */
export async function finishModel(
  dir: string,
  options: CommonSaveOptions & { flavors: Record<string, FlavorConfig>; signature?: ModelSignature; log?: LogTarget },
): Promise<ModelInfo> {
  const savedInputExampleInfo =
    options.inputExample === undefined ? undefined : await saveInputExample(dir, options.inputExample, options.inputExampleParams);
  const mlmodel = MLModel.create({
    flavors: options.flavors,
    signature: withFlags(options.signature),
    savedInputExampleInfo,
    metadata: options.metadata,
    runId: options.log?.runId,
    artifactPath: options.log?.artifactPath,
    ...(options.log?.modelId ? { modelId: options.log.modelId, modelUuid: options.log.modelId } : {}),
    modelSizeBytes: await directorySize(dir),
  });
  await mlmodel.save(dir);
  await writeEnvFiles(dir, { requirements: options.requirements, mlflowVersion: mlmodel.mlflowVersion ?? MLFLOW_VERSION });
  return {
    modelUri: options.log?.modelId ? `models:/${options.log.modelId}` : options.log ? `runs:/${options.log.runId}/${options.log.artifactPath}` : dir,
    path: dir,
    runId: options.log?.runId,
    artifactPath: options.log?.artifactPath,
    modelId: options.log?.modelId,
    modelUuid: mlmodel.modelUuid!,
    utcTimeCreated: mlmodel.utcTimeCreated!,
    mlflowVersion: mlmodel.mlflowVersion!,
    flavors: mlmodel.flavors,
    signature: mlmodel.signature,
    savedInputExampleInfo,
    metadata: options.metadata,
    mlmodel,
  };
}
