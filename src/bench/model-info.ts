import path from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { describeIssues } from '../zod-issues.js';
import { eosTokenIds, GENAI_CONFIG_FILE, readGenAIConfig } from '../genai/genai-config.js';

// What the bench needs of genai_config.json beyond what every model has (genai-config.ts reads the file).
const benchModelSchema = z.object({
  vocab_size: z.number(),
  context_length: z.number(),
  decoder: z.object({
    filename: z.string(),
    head_size: z.number(),
    num_key_value_heads: z.number(),
    num_hidden_layers: z.number(),
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
  const config = await readGenAIConfig(dir);
  const m = config.model;
  const needed = benchModelSchema.safeParse(m);
  if (!needed.success) {
    throw new ValidationError(
      `${path.join(dir, GENAI_CONFIG_FILE)} does not describe a decoder-only model the bench can run`,
      describeIssues(needed.error, 'model', 'model.'),
    );
  }
  const decoder = { ...m.decoder, ...needed.data.decoder };
  const eos = eosTokenIds(config);
  const special = [...eos, m.bos_token_id, m.pad_token_id].filter((id): id is number => id !== undefined);
  return {
    dir: path.resolve(dir),
    type: m.type,
    vocabSize: needed.data.vocab_size,
    contextLength: needed.data.context_length,
    bosTokenId: m.bos_token_id,
    eosTokenIds: eos,
    padTokenId: m.pad_token_id,
    specialIds: new Set(special),
    onnxFile: path.resolve(dir, decoder.filename),
    headSize: decoder.head_size,
    hiddenSize: decoder.hidden_size,
    numAttentionHeads: decoder.num_attention_heads,
    numKeyValueHeads: decoder.num_key_value_heads,
    numHiddenLayers: decoder.num_hidden_layers,
    inputNames: decoder.inputs ?? {},
    outputNames: decoder.outputs ?? {},
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
