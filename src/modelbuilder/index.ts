import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, stat, statfs, writeFile, access, constants } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { type DecoderSpec, genaiConfig } from './genai-config.js';
import { GGUF_ALIGNMENT, type GgufContent, ggufTensorBytes, writeGguf } from './gguf/container.js';
import { phi3Gguf } from './gguf/phi3.js';
import { decoderGraph, headSize } from './graphs/decoder.js';
import { tinyDeterministicGraph } from './graphs/deterministic.js';
import type { GraphBuilder } from './onnx/graph.js';
import { elementCount } from './onnx/tensor.js';
import { type WriteProgress, weightBytes, writeOnnxModel } from './onnx/writer.js';
import { PRESETS, PRESET_NAMES, type PresetName } from './presets.js';
import { type BuiltTokenizer, TOKENIZER_KINDS, type TokenizerKind, buildTokenizer } from './tokenizer/index.js';
import { describeIssues } from '../zod-issues.js';

export { PRESETS, PRESET_NAMES, type Preset, type PresetName } from './presets.js';
export { genaiConfig, type DecoderSpec } from './genai-config.js';
export { ADAPTER_FORMAT_VERSION, encodeAdapter, writeAdapter, type AdapterOptions } from './adapter.js';
export { deterministicShiftAdapter } from './graphs/deterministic.js';
export { tensorFrom, type TensorSource } from './onnx/tensor.js';
export { PHI3_MINI_VOCAB, TOKENIZER_KINDS, buildTokenizer, type BuiltTokenizer, type TokenizerKind } from './tokenizer/index.js';

/**
 * Bump when a preset's output changes in a way the source hash cannot see (it rarely should): fixture
 * caches compare it before reusing a generated model.
 */
export const BUILDER_VERSION = 2; // 2: phi3-mini has Phi-3's own 32064-wide vocabulary
export const DEFAULT_SEED = 42;
export const MODEL_FILENAME = 'model.onnx';
/** The llama.cpp copy of the model (`gguf: true`), next to model.onnx. */
export const GGUF_FILENAME = 'model.gguf';
/** Measured generation + write throughput on a 2-core CI machine, for the up-front time estimate. */
const BYTES_PER_SECOND = 75e6;
/** Upper bound of a node's share of model.onnx (names, attributes, external-data references). */
const PROTOBUF_BYTES_PER_NODE = 1024;

export interface ModelPlan {
  preset: PresetName;
  seed: number;
  spec: DecoderSpec;
  /** Weights as stored (int4 packed, float32 embeddings and norms). */
  weightBytes: number;
  /** Weights plus tokenizer files and graph protobuf: what the folder will take on disk, roughly. */
  diskBytes: number;
  parameterCount: number;
  externalData: boolean;
  estimatedSeconds: number;
}

export type BuildEvent = ({ type: 'plan' } & ModelPlan) | ({ type: 'write' } & WriteProgress);

export interface BuildOptions {
  preset: string;
  outDir: string;
  seed?: number;
  /** Overwrite a folder that already holds files (only the model's own files are replaced). */
  force?: boolean;
  /**
   * A tokenizer kind (`TOKENIZER_KINDS`) other than the preset's; the vocabulary follows it (e.g. a tiny model
   * with Phi-3-mini's 32064 rows).
   */
  tokenizer?: string;
  /**
   * tiny-deterministic only: give the head a LoRA pair that adapters replace (`deterministicShiftAdapter(k)`
   * makes one that adds k to every next token); without an active adapter the output is unchanged.
   */
  lora?: boolean;
  /**
   * Also write model.gguf: the same model (same weights, Q4_0 with the same int4 codes, same vocabulary) in
   * llama.cpp's `phi3` architecture, for comparing with llama.cpp runtimes. Decoder presets only.
   */
  gguf?: boolean;
  onProgress?: (event: BuildEvent) => void;
  /** Stops a long build between weight chunks (rejects with AbortError; nothing of the build is left behind). */
  signal?: AbortSignal;
}

export interface BuiltModel extends ModelPlan {
  dir: string;
  files: string[];
}

const optionsSchema = z.object({
  preset: z.enum(PRESET_NAMES, { error: (i) => `unknown preset '${String(i.input)}' (expected one of: ${PRESET_NAMES.join(', ')})` }),
  outDir: z.string().min(1, 'an output folder is required'),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(DEFAULT_SEED),
  force: z.boolean().default(false),
  tokenizer: z.enum(TOKENIZER_KINDS, { error: (i) => `unknown tokenizer '${String(i.input)}' (expected one of: ${TOKENIZER_KINDS.join(', ')})` }).optional(),
  lora: z.boolean().default(false),
  gguf: z.boolean().default(false),
}).refine((o) => !o.lora || PRESETS[o.preset].kind === 'deterministic', {
  error: (i) => `lora is available for tiny-deterministic only, not '${String((i.input as { preset: unknown }).preset)}'`,
}).refine((o) => !o.gguf || PRESETS[o.preset].kind === 'decoder', {
  error: (i) => `gguf needs a decoder preset; '${String((i.input as { preset: unknown }).preset)}' has no llama.cpp architecture`,
});

/**
 * Writes a complete ORT-GenAI model folder: model.onnx (+ model.onnx.data for large presets),
 * genai_config.json and the tokenizer files. Same preset + seed ⇒ byte-identical weights.
 */
export async function buildModel(options: BuildOptions): Promise<BuiltModel> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error, 'options');
    throw new ValidationError(`invalid model build options: ${issues.join('; ')}`, issues);
  }
  const { preset, outDir, seed, force, lora, gguf } = parsed.data;
  const dir = path.resolve(outDir);
  const tokenizer = presetTokenizer(preset, parsed.data.tokenizer);
  const { graph, plan: onnxPlan } = planModel(preset, seed, tokenizer, { lora });
  const ggufContent = gguf ? presetGguf(preset, graph, tokenizer) : undefined;
  const ggufBytes = ggufContent ? ggufDataBytes(ggufContent) : 0;
  const plan = { ...onnxPlan, diskBytes: onnxPlan.diskBytes + ggufBytes };
  await prepareFolder(dir, force, plan.diskBytes);
  options.onProgress?.({ type: 'plan', ...plan });
  // One progress bar over both files: the ONNX weights, then the GGUF's.
  const totalBytes = plan.weightBytes + ggufBytes;

  // Everything is written into a hidden sibling folder (same file system) and moved into place only when complete,
  // so a failed or aborted build leaves nothing behind, not a gigabyte of half-written weights.
  // (mkdir rather than mkdtemp: the folder keeps the umask's permissions, not mkdtemp's 0700.)
  const staging = path.join(path.dirname(dir), `.${path.basename(dir)}.partial-${randomUUID()}`);
  await mkdir(staging);
  try {
    await writeOnnxModel(graph, staging, {
      externalData: plan.externalData,
      filename: MODEL_FILENAME,
      producerVersion: String(BUILDER_VERSION),
      onProgress: (w) => options.onProgress?.({ type: 'write', bytesWritten: w.bytesWritten, totalBytes }),
      signal: options.signal,
    });
    if (ggufContent) {
      await writeGguf(path.join(staging, GGUF_FILENAME), ggufContent, {
        onProgress: (w) => options.onProgress?.({ type: 'write', bytesWritten: plan.weightBytes + w.bytesWritten, totalBytes }),
        signal: options.signal,
      });
    }
    const config = genaiConfig(plan.spec, tokenizer);
    const extra: Record<string, string> = { ...tokenizer.files, 'genai_config.json': `${JSON.stringify(config, null, 2)}\n` };
    for (const [name, text] of Object.entries(extra)) await writeFile(path.join(staging, name), text);
    const names = await moveIntoPlace(staging, dir);
    return { ...plan, dir, files: names.map((n) => path.join(dir, n)) };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Moves a finished build from `staging` to `dir`: one rename when `dir` is empty, else (force) file by file,
 * replacing the old model's files and leaving other files alone. genai_config.json is removed first and moved
 * last: until it exists the folder is not a loadable model, so it never passes for one half-replaced.
 */
async function moveIntoPlace(staging: string, dir: string): Promise<string[]> {
  const names = (await readdir(staging)).sort((a, b) => Number(a === 'genai_config.json') - Number(b === 'genai_config.json'));
  const existing = await listFolder(dir);
  if (existing?.length === 0) await rmdir(dir);
  if (!existing?.length) {
    await rename(staging, dir);
    return names;
  }
  await rm(path.join(dir, 'genai_config.json'), { force: true });
  for (const optional of [`${MODEL_FILENAME}.data`, GGUF_FILENAME]) {
    if (!names.includes(optional)) await rm(path.join(dir, optional), { force: true }); // an older build's, this one has none
  }
  for (const name of names) await rename(path.join(staging, name), path.join(dir, name));
  return names;
}

/** The tokenizer a preset's folder gets: its own kind unless another is asked for, with its context length. */
export function presetTokenizer(preset: PresetName, kind: TokenizerKind = PRESETS[preset].tokenizer): BuiltTokenizer {
  const p = PRESETS[preset];
  return buildTokenizer({ kind, contextLength: p.kind === 'decoder' ? p.dims.contextLength : p.contextLength });
}

/**
 * The graph and its size for a preset, without writing anything (weights are generated lazily). The
 * vocabulary is the tokenizer's `modelVocabSize`.
 */
export function planModel(
  preset: PresetName,
  seed: number,
  tokenizer = presetTokenizer(preset),
  options: { lora?: boolean } = {},
): { graph: GraphBuilder; plan: ModelPlan } {
  const p = PRESETS[preset];
  const vocabSize = tokenizer.modelVocabSize;
  let graph: GraphBuilder;
  let spec: DecoderSpec;
  if (p.kind === 'deterministic') {
    graph = tinyDeterministicGraph(vocabSize, options);
    spec = {
      type: 'llama', contextLength: p.contextLength, vocabSize, hiddenSize: 1, headSize: 1,
      numAttentionHeads: 1, numKeyValueHeads: 1, numHiddenLayers: 1, positionIds: true, pastPresentShareBuffer: false,
      filename: MODEL_FILENAME,
    };
  } else {
    const dims = { ...p.dims, vocabSize };
    graph = decoderGraph(dims, seed);
    spec = {
      type: 'phi3', contextLength: dims.contextLength, vocabSize: dims.vocabSize, hiddenSize: dims.hiddenSize,
      headSize: headSize(dims), numAttentionHeads: dims.numAttentionHeads, numKeyValueHeads: dims.numKeyValueHeads,
      numHiddenLayers: dims.numHiddenLayers, positionIds: false, pastPresentShareBuffer: true, filename: MODEL_FILENAME,
    };
  }
  const bytes = weightBytes(graph);
  return {
    graph,
    plan: {
      preset, seed, spec, weightBytes: bytes, parameterCount: parameterCount(graph), externalData: p.externalData,
      diskBytes: bytes + Object.values(tokenizer.files).reduce((n, f) => n + Buffer.byteLength(f), 0) + PROTOBUF_BYTES_PER_NODE * graph.nodes.length,
      estimatedSeconds: bytes / BYTES_PER_SECOND,
    },
  };
}

/** A decoder preset's model as llama.cpp's phi3 GGUF, from the same (lazily generated) graph as its model.onnx. */
function presetGguf(preset: PresetName, graph: GraphBuilder, tokenizer: BuiltTokenizer): GgufContent {
  const p = PRESETS[preset];
  if (p.kind !== 'decoder') throw new ValidationError(`gguf needs a decoder preset; '${preset}' has no llama.cpp architecture`);
  return phi3Gguf(graph, { ...p.dims, vocabSize: tokenizer.modelVocabSize }, tokenizer, `ortgenai-node make-model preset ${preset}`);
}

/**
 * Writes only the GGUF copy of a preset built with `seed` (the default tokenizer), to `file`: for a model folder
 * made without `gguf` (the bench's cache), leaving its other files alone. Written under a temporary name and
 * renamed, so a reader never sees half a file.
 */
export async function writePresetGguf(preset: PresetName, file: string, seed = DEFAULT_SEED): Promise<void> {
  const tokenizer = presetTokenizer(preset);
  const { graph } = planModel(preset, seed, tokenizer);
  const partial = `${file}.partial-${randomUUID()}`;
  try {
    await writeGguf(partial, presetGguf(preset, graph, tokenizer));
    await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
}

/** The GGUF's tensor data, each tensor padded to the alignment (the header adds a few MB at most). */
function ggufDataBytes(content: GgufContent): number {
  return content.tensors.reduce((n, t) => n + Math.ceil(ggufTensorBytes(t) / GGUF_ALIGNMENT) * GGUF_ALIGNMENT, 0);
}

/** Learned parameters: int4 codes count two per byte; scales, caches and constants are not parameters. */
function parameterCount(graph: GraphBuilder): number {
  let n = 0;
  for (const t of graph.initializers) {
    if (t.name.endsWith('.weight_Q4')) n += elementCount(t.dims) * 2;
    else if (t.name.endsWith('.weight')) n += elementCount(t.dims);
  }
  return n;
}

/**
 * `mkdir -p`, one level at a time: Node 20's recursive mkdir never returns where mkdir fails with ENOENT under a
 * parent that exists (e.g. /proc/x).
 */
async function makeFolder(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const found = await stat(d).then(() => true, (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    });
    if (found || path.dirname(d) === d) break;
    missing.unshift(d);
  }
  for (const d of missing) await mkdir(d);
}

/** The names in `dir`, or undefined when there is no such folder. */
async function listFolder(dir: string): Promise<string[] | undefined> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}

/** Checks that the build may go to `dir` and creates its parent; `dir` itself appears only when the build is done. */
async function prepareFolder(dir: string, force: boolean, bytesNeeded: number): Promise<void> {
  const parent = path.dirname(dir);
  let existing: string[] | undefined;
  try {
    await makeFolder(parent);
    await access(parent, constants.W_OK);
    existing = await listFolder(dir);
    if (existing) await access(dir, constants.W_OK);
  } catch (err) {
    throw new ValidationError(`output folder ${dir} is not writable: ${(err as Error).message}`, [], { cause: err });
  }
  if (!force && existing?.length) {
    throw new ValidationError(`output folder ${dir} is not empty (use force / --force to overwrite the model files in it)`);
  }
  const fs = await statfs(parent);
  const available = fs.bavail * fs.bsize;
  if (available < bytesNeeded * 1.01) {
    throw new ValidationError(`output folder ${dir} has ${formatBytes(available)} free, the model needs ${formatBytes(bytesNeeded)}`);
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
