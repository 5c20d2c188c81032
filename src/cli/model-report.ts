import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ValidationError } from '../errors.js';
import { configuredProviders, eosTokenIds, GENAI_CONFIG_FILE, readGenAIConfig } from '../genai/genai-config.js';
import { MLModel, MLMODEL_FILE_NAME } from '../mlflow/mlmodel.js';
import { PYTHON_ENV_FILE, REQUIREMENTS_FILE, CONDA_FILE } from '../mlflow/env-files.js';
import { localPathFromUri } from '../mlflow/uri.js';
import { loadYaml } from '../mlflow/pycompat/yaml.js';
import { isFile, ortgenaiFolderIn } from './genai-model.js';

// What `ortgenai inspect` reports, as plain JSON (its --json output). Keys are snake_case, as in the files
// they come from (genai_config.json, MLmodel), so a reader can look each one up there.

export interface FileEntry {
  path: string;
  bytes: number;
}

export interface OrtGenAIReport {
  /** The folder holding genai_config.json, relative to the inspected folder ('.' for itself). */
  path: string;
  /** Why genai_config.json could not be read; the other fields are then absent. */
  error?: string;
  model_type?: string;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  num_key_value_heads?: number;
  head_size?: number;
  hidden_size?: number;
  context_length?: number;
  vocab_size?: number;
  bos_token_id?: number;
  eos_token_id?: number[];
  pad_token_id?: number;
  providers?: string[];
  /** Each ONNX graph genai_config.json names (decoder, embedding, vision, ...), and whether its file is there. */
  graphs?: { name: string; filename: string; bytes: number | null }[];
  tokenizer?: { files: string[]; chat_template: boolean };
  /** The default search options (max_length, do_sample, temperature, ...). */
  search?: Record<string, unknown>;
}

export interface MlflowReport {
  mlflow_version?: string | null;
  utc_time_created?: string | null;
  run_id?: string | null;
  model_id?: string | null;
  model_uuid?: string | null;
  /** metadata.task, or else a flavor's task (ortgenai, transformers). */
  task?: string;
  flavors: Record<string, Record<string, unknown>>;
  signature?: { inputs: unknown; outputs: unknown; params: unknown };
  input_example?: { info: Record<string, unknown>; example?: unknown; error?: string };
  requirements?: string[];
  python_version?: string;
  env_files: string[];
  model_size_bytes?: number | null;
  metadata?: Record<string, unknown> | null;
}

export interface ModelReport {
  path: string;
  kind: 'mlflow' | 'ortgenai';
  mlflow?: MlflowReport;
  ortgenai?: OrtGenAIReport;
  files: FileEntry[];
  total_bytes: number;
}

const TOKENIZER_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json',
  'vocab.json', 'merges.txt', 'tokenizer.model', 'chat_template.jinja', 'chat_template.json',
];


/** Every file under `dir` (symlinks followed), sorted by path. */
async function listFiles(dir: string): Promise<FileEntry[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: FileEntry[] = [];
  for (const e of entries) {
    if (e.isDirectory()) continue;
    const full = path.join(e.parentPath, e.name);
    const s = await stat(full).catch(() => undefined);
    if (s?.isFile()) files.push({ path: path.relative(dir, full), bytes: s.size });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8'));
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function ortgenaiReport(root: string, rel: string): Promise<OrtGenAIReport> {
  const dir = path.join(root, rel);
  let config;
  try {
    config = await readGenAIConfig(dir);
  } catch (err) {
    return { path: rel, error: message(err) };
  }
  const m = config.model;
  const graphs: OrtGenAIReport['graphs'] = [];
  for (const [name, session] of Object.entries(m)) {
    const filename = (session as { filename?: unknown } | null)?.filename;
    if (typeof filename !== 'string') continue;
    const s = await stat(path.join(dir, filename)).catch(() => undefined);
    graphs.push({ name, filename, bytes: s?.isFile() ? s.size : null });
  }
  const tokenizerFiles: string[] = [];
  for (const name of TOKENIZER_FILES) if (await isFile(path.join(dir, name))) tokenizerFiles.push(name);
  const tokenizerConfig = await readJson(path.join(dir, 'tokenizer_config.json')).catch(() => undefined);
  const chatTemplate = typeof (tokenizerConfig as { chat_template?: unknown } | undefined)?.chat_template === 'string' ||
    tokenizerFiles.some((f) => f.startsWith('chat_template.'));
  const d = m.decoder;
  return {
    path: rel,
    model_type: m.type,
    num_hidden_layers: d?.num_hidden_layers,
    num_attention_heads: d?.num_attention_heads,
    num_key_value_heads: d?.num_key_value_heads,
    head_size: d?.head_size,
    hidden_size: d?.hidden_size,
    context_length: m.context_length,
    vocab_size: m.vocab_size,
    bos_token_id: m.bos_token_id,
    eos_token_id: eosTokenIds(config),
    pad_token_id: m.pad_token_id,
    providers: configuredProviders(config),
    graphs,
    tokenizer: { files: tokenizerFiles, chat_template: chatTemplate },
    search: config.search,
  };
}

/** The JSON in a signature entry (MLmodel stores each part as a JSON string). */
function parsedSignaturePart(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

async function inputExampleReport(dir: string, info: Record<string, unknown>): Promise<MlflowReport['input_example']> {
  const file = info.artifact_path;
  if (typeof file !== 'string') return { info };
  try {
    const text = await readFile(path.join(dir, file), 'utf8');
    return { info, example: file.endsWith('.json') ? JSON.parse(text) : text };
  } catch (err) {
    return { info, error: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file is missing' : message(err) };
  }
}

async function mlflowReport(dir: string, mlmodel: MLModel): Promise<MlflowReport> {
  const raw = mlmodel.toDict();
  const signature = raw.signature as Record<string, unknown> | undefined;
  const envFiles: string[] = [];
  for (const f of [REQUIREMENTS_FILE, CONDA_FILE, PYTHON_ENV_FILE]) if (await isFile(path.join(dir, f))) envFiles.push(f);
  const requirements = envFiles.includes(REQUIREMENTS_FILE)
    ? (await readFile(path.join(dir, REQUIREMENTS_FILE), 'utf8')).split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    : undefined;
  let pythonVersion: string | undefined;
  if (envFiles.includes(PYTHON_ENV_FILE)) {
    const text = await readFile(path.join(dir, PYTHON_ENV_FILE), 'utf8');
    try {
      const python = (loadYaml(text, PYTHON_ENV_FILE) as { python?: unknown } | null)?.python;
      if (python !== undefined && python !== null) pythonVersion = String(python);
    } catch {
      // An unreadable python_env.yaml: the file list still names it.
    }
  }
  // MLflow keeps an LLM task in metadata; flavors such as ortgenai and transformers keep theirs in the flavor.
  const tasks = [mlmodel.metadata?.task, ...Object.values(mlmodel.flavors).map((f) => f.task)];
  const task = tasks.find((t): t is string => typeof t === 'string');
  return {
    mlflow_version: mlmodel.mlflowVersion,
    utc_time_created: mlmodel.utcTimeCreated,
    run_id: mlmodel.runId,
    model_id: mlmodel.modelId,
    model_uuid: mlmodel.modelUuid,
    task,
    flavors: mlmodel.flavors,
    signature: signature && {
      inputs: parsedSignaturePart(signature.inputs),
      outputs: parsedSignaturePart(signature.outputs),
      params: parsedSignaturePart(signature.params),
    },
    input_example: mlmodel.savedInputExampleInfo ? await inputExampleReport(dir, mlmodel.savedInputExampleInfo) : undefined,
    requirements,
    python_version: pythonVersion,
    env_files: envFiles,
    model_size_bytes: mlmodel.modelSizeBytes,
    metadata: mlmodel.metadata,
  };
}

/**
 * Reads what a model folder or URI holds: an MLflow model (MLmodel, with the ORT-GenAI folder inside it if any)
 * or a plain ORT-GenAI model folder. URIs resolve as `predict` and `serve` resolve them.
 */
export async function inspectModel(uri: string): Promise<ModelReport> {
  let dir = await localPathFromUri(uri);
  const s = await stat(dir).catch(() => undefined);
  if (!s) throw new ValidationError(`no such model folder: ${dir}`);
  if (s.isFile() && [MLMODEL_FILE_NAME, GENAI_CONFIG_FILE].includes(path.basename(dir))) dir = path.dirname(dir);
  else if (!s.isDirectory()) throw new ValidationError(`${dir} is a file, not a model folder`);
  let parts: Pick<ModelReport, 'kind' | 'mlflow' | 'ortgenai'>;
  if (await isFile(path.join(dir, MLMODEL_FILE_NAME))) {
    const mlmodel = await MLModel.load(dir);
    const inner = await ortgenaiFolderIn(dir, mlmodel);
    parts = { kind: 'mlflow', mlflow: await mlflowReport(dir, mlmodel), ortgenai: inner === undefined ? undefined : await ortgenaiReport(dir, inner) };
  } else if (await isFile(path.join(dir, GENAI_CONFIG_FILE))) {
    parts = { kind: 'ortgenai', ortgenai: await ortgenaiReport(dir, '.') };
  } else {
    throw new ValidationError(`${dir} is neither an MLflow model (no ${MLMODEL_FILE_NAME}) nor an ORT-GenAI model folder (no ${GENAI_CONFIG_FILE})`);
  }
  const files = await listFiles(dir);
  return { path: dir, ...parts, files, total_bytes: files.reduce((sum, f) => sum + f.bytes, 0) };
}
