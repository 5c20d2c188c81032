import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../errors.js';

// Only what the bench needs from genai_config.json; everything else passes through untouched.
const genaiConfigSchema = z.object({
  model: z.object({
    type: z.string(),
    vocab_size: z.number().int().positive(),
    context_length: z.number().int().positive(),
    bos_token_id: z.number().int().optional(),
    pad_token_id: z.number().int().optional(),
    eos_token_id: z.union([z.number().int(), z.array(z.number().int())]).optional(),
    decoder: z.object({
      filename: z.string(),
      head_size: z.number().int().positive(),
      hidden_size: z.number().int().positive().optional(),
      num_attention_heads: z.number().int().positive().optional(),
      num_key_value_heads: z.number().int().positive(),
      num_hidden_layers: z.number().int().positive(),
      inputs: z.record(z.string(), z.string()).optional(),
      outputs: z.record(z.string(), z.string()).optional(),
    }),
  }),
});

/** A decoder-only ORT-GenAI model folder as the bench sees it. */
export interface ModelInfo {
  dir: string;
  type: string;
  vocabSize: number;
  contextLength: number;
  bosTokenId?: number;
  eosTokenIds: number[];
  padTokenId?: number;
  /** Ids a synthetic prompt must avoid (bos, eos, pad). */
  specialIds: Set<number>;
  onnxFile: string;
  headSize: number;
  hiddenSize?: number;
  numAttentionHeads?: number;
  numKeyValueHeads: number;
  numHiddenLayers: number;
  inputNames: Record<string, string>;
  outputNames: Record<string, string>;
}

export async function readModelInfo(dir: string): Promise<ModelInfo> {
  const file = path.join(dir, 'genai_config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ValidationError(`${dir} is not an ORT-GenAI model folder: cannot read ${file}`, [], { cause: err });
  }
  const parsed = genaiConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(
      `${file} does not describe a decoder-only model the bench can run`,
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    );
  }
  const m = parsed.data.model;
  const eos = m.eos_token_id === undefined ? [] : [m.eos_token_id].flat();
  const special = [...eos, m.bos_token_id, m.pad_token_id].filter((id): id is number => id !== undefined);
  return {
    dir: path.resolve(dir),
    type: m.type,
    vocabSize: m.vocab_size,
    contextLength: m.context_length,
    bosTokenId: m.bos_token_id,
    eosTokenIds: eos,
    padTokenId: m.pad_token_id,
    specialIds: new Set(special),
    onnxFile: path.resolve(dir, m.decoder.filename),
    headSize: m.decoder.head_size,
    hiddenSize: m.decoder.hidden_size,
    numAttentionHeads: m.decoder.num_attention_heads,
    numKeyValueHeads: m.decoder.num_key_value_heads,
    numHiddenLayers: m.decoder.num_hidden_layers,
    inputNames: m.decoder.inputs ?? {},
    outputNames: m.decoder.outputs ?? {},
  };
}

/**
 * A fixed pseudo-random prompt of exactly `count` token ids, free of special tokens: every runner gets
 * the same ids, so no tokenizer difference can change the work measured.
 */
export function syntheticPrompt(info: ModelInfo, count: number): number[] {
  const low = Math.min(100, Math.floor(info.vocabSize / 10));
  const span = info.vocabSize - low;
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    let id = low + ((i * 7919 + 17) % span);
    while (info.specialIds.has(id)) id = low + ((id - low + 1) % span);
    ids.push(id);
  }
  return ids;
}
