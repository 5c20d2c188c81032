/**
 * The `MLmodel` file (`mlflow/models/model.py`): read any MLflow 1.x-3.x file, write it back the way
 * MLflow does (sorted keys, PyYAML scalars). Unknown keys and flavors survive a load/save round trip,
 * and a signature that was read and not replaced is written back in its original JSON text.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MlflowException } from './errors.js';
import { ModelSignature, type SignatureDict } from './signature/model-signature.js';
import { isRecord } from './signature/types.js';
import { dumpYaml, loadYaml } from './pycompat/yaml.js';

export const MLMODEL_FILE_NAME = 'MLmodel';
/** The MLflow release whose file formats this package writes (mlflow-format.md §0.1). */
export const MLFLOW_VERSION = '3.18.0';

/** Known top-level keys and their camelCase accessors; everything else lands in `extra`. */
const FIELDS = {
  artifact_path: 'artifactPath',
  model_uuid: 'modelUuid',
  model_id: 'modelId',
  run_id: 'runId',
  utc_time_created: 'utcTimeCreated',
  mlflow_version: 'mlflowVersion',
  saved_input_example_info: 'savedInputExampleInfo',
  model_size_bytes: 'modelSizeBytes',
  metadata: 'metadata',
  databricks_runtime: 'databricksRuntime',
  env_vars: 'envVars',
  resources: 'resources',
  auth_policy: 'authPolicy',
  prompts: 'prompts',
} as const satisfies Record<string, keyof MLModelFields>;
type FieldKey = keyof typeof FIELDS;
const HANDLED = new Set<string>([...Object.keys(FIELDS), 'flavors', 'signature', 'is_signature_from_type_hint', 'type_hint_from_example']);

export type FlavorConfig = Record<string, unknown>;

/** The top-level fields besides flavors and signature. */
export interface MLModelFields {
  artifactPath?: string | null;
  modelUuid?: string | null;
  modelId?: string | null;
  runId?: string | null;
  utcTimeCreated?: string | null;
  mlflowVersion?: string | null;
  savedInputExampleInfo?: Record<string, unknown> | null;
  modelSizeBytes?: number | null;
  metadata?: Record<string, unknown> | null;
  databricksRuntime?: string | null;
  envVars?: string[] | null;
  resources?: unknown;
  authPolicy?: unknown;
  prompts?: unknown;
}

export interface MLModelInit extends MLModelFields {
  flavors?: Record<string, FlavorConfig>;
  signature?: ModelSignature;
  /** Top-level keys this package does not know; written back unchanged. */
  extra?: Record<string, unknown>;
}

/** `str(datetime.now(utc).replace(tzinfo=None))`: `YYYY-MM-DD HH:MM:SS.ffffff` (no fraction at 0 µs). */
export function utcTimeCreatedNow(now = new Date()): string {
  const iso = now.toISOString();
  const ms = now.getUTCMilliseconds();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${String(ms * 1000).padStart(6, '0')}` : ''}`;
}

// Merged into the class below: its MLModelFields properties are declared once, and the constructor sets them.
export interface MLModel extends MLModelFields {}

/**
 * An MLmodel. A field that is `undefined` is left out of the file; `null` is written as `null`
 * (MLflow 3 writes `model_id: null` and `prompts: null` for saved, not logged, models).
 */
export class MLModel {
  flavors: Record<string, FlavorConfig>;
  signature?: ModelSignature;
  extra: Record<string, unknown>;
  /** The signature as read, with its original JSON text, so an untouched signature is written back verbatim. */
  #loadedSignature?: { signature: ModelSignature; raw: Record<string, unknown> };

  constructor(init: MLModelInit = {}) {
    this.flavors = init.flavors ?? {};
    for (const prop of Object.values(FIELDS)) {
      if (init[prop] !== undefined) (this as Record<string, unknown>)[prop] = init[prop];
    }
    this.signature = init.signature;
    this.extra = { ...init.extra };
  }

  /**
   * A new model as `Model()` makes one: random `model_uuid`, `utc_time_created` now, this package's
   * MLflow version, and MLflow 3's `model_id: null` / `prompts: null` unless given.
   */
  static create(init: MLModelInit = {}): MLModel {
    return new MLModel({
      modelUuid: randomUUID().replaceAll('-', ''),
      utcTimeCreated: utcTimeCreatedNow(),
      mlflowVersion: MLFLOW_VERSION,
      modelId: null,
      prompts: null,
      ...init,
    });
  }

  /** `Model.load`: a model directory or the MLmodel file itself. */
  static async load(pathOrDir: string): Promise<MLModel> {
    let file = pathOrDir.replace(/[\\/]+$/, '');
    if (path.basename(file) !== MLMODEL_FILE_NAME) file = path.join(file, MLMODEL_FILE_NAME);
    const exists = await stat(file).then((s) => s.isFile(), () => false);
    if (!exists) {
      throw new MlflowException(`Could not find an "MLmodel" configuration file at "${file}"`, 'RESOURCE_DOES_NOT_EXIST');
    }
    return MLModel.fromYaml(await readFile(file, 'utf8'), file);
  }

  static fromYaml(text: string, source = 'MLmodel'): MLModel {
    return MLModel.fromDict(loadYaml(text, source), source);
  }

  /** `Model.from_dict`, with clear errors for files that are not MLmodel mappings. */
  static fromDict(dict: unknown, source = 'MLmodel'): MLModel {
    if (!isRecord(dict)) {
      throw MlflowException.invalidParameterValue(`${source} is not a valid MLmodel file: expected a YAML mapping at the top level`);
    }
    const flavors = dict.flavors;
    if (!isRecord(flavors)) {
      throw MlflowException.invalidParameterValue(
        `${source} is not a valid MLmodel file: ${flavors === undefined ? 'it has no "flavors"' : '"flavors" must be a mapping'}`,
      );
    }
    for (const [name, conf] of Object.entries(flavors)) {
      if (!isRecord(conf)) {
        throw MlflowException.invalidParameterValue(`${source} is not a valid MLmodel file: flavor "${name}" must be a mapping`);
      }
    }
    const init: MLModelInit = { flavors: flavors as Record<string, FlavorConfig>, extra: {} };
    for (const [key, prop] of Object.entries(FIELDS) as [FieldKey, (typeof FIELDS)[FieldKey]][]) {
      if (key in dict) (init as Record<string, unknown>)[prop] = dict[key];
    }
    for (const [key, value] of Object.entries(dict)) if (!HANDLED.has(key)) init.extra![key] = value;
    const model = new MLModel(init);
    const rawSignature = dict.signature;
    if (rawSignature !== undefined && rawSignature !== null) {
      let signature: ModelSignature;
      try {
        signature = ModelSignature.fromDict(rawSignature);
      } catch (error) {
        if (!(error instanceof MlflowException)) throw error;
        throw MlflowException.invalidParameterValue(`${source} has an invalid signature: ${error.message}`, { cause: error });
      }
      if ('is_signature_from_type_hint' in dict || 'type_hint_from_example' in dict) {
        signature = signature.withTypeHintFlags(
          dict.is_signature_from_type_hint as boolean, dict.type_hint_from_example as boolean,
        );
      }
      model.signature = signature;
      model.#loadedSignature = { signature, raw: rawSignature as Record<string, unknown> };
    } else {
      // No signature: the flags (if any) are just unknown keys to keep.
      for (const key of ['is_signature_from_type_hint', 'type_hint_from_example']) {
        if (key in dict) model.extra[key] = dict[key];
      }
    }
    return model;
  }

  /** `Model.to_dict`: snake_case keys, signature as JSON strings. */
  toDict(): Record<string, unknown> {
    const out: Record<string, unknown> = { ...this.extra, flavors: this.flavors };
    for (const [key, prop] of Object.entries(FIELDS) as [FieldKey, (typeof FIELDS)[FieldKey]][]) {
      const value = this[prop];
      if (value !== undefined) out[key] = value;
    }
    if (this.signature) {
      const loaded = this.#loadedSignature;
      out.signature = loaded && loaded.signature === this.signature ? loaded.raw : this.signature.toDict();
      if (this.signature.isSignatureFromTypeHint !== undefined) {
        out.is_signature_from_type_hint = this.signature.isSignatureFromTypeHint;
      }
      if (this.signature.typeHintFromExample !== undefined) out.type_hint_from_example = this.signature.typeHintFromExample;
    }
    return out;
  }

  /** The MLmodel text exactly as `yaml.safe_dump(model.to_dict(), default_flow_style=False)` writes it. */
  toYaml(): string {
    return dumpYaml(this.toDict());
  }

  /** Write `<dir>/MLmodel` (creating the directory). */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, MLMODEL_FILE_NAME), this.toYaml(), 'utf8');
  }

  /** Adds or replaces one flavor (`Model.add_flavor`). */
  addFlavor(name: string, config: FlavorConfig): this {
    this.flavors[name] = config;
    return this;
  }

  /** The signature dict as MLflow stores it, or undefined. */
  signatureDict(): SignatureDict | undefined {
    return this.signature?.toDict();
  }
}
