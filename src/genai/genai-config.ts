import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { describeIssues } from '../zod-issues.js';

// The one typed reader of genai_config.json, the file ORT-GenAI loads a model folder by. Only `model.type` is
// required (the library needs nothing else from every model kind); the fields this package reads are typed, and
// everything else passes through untouched, so a newer library's fields are kept, not refused.
// (The `Config` class in config.ts is something else: the library's own config object, adjusted before a load.)

const tokenId = z.number().int().nonnegative();
const names = z.record(z.string(), z.string());

const sessionOptionsSchema = z.looseObject({
  intra_op_num_threads: z.number().int().optional(),
  /** `[{ "cuda": { ...options } }, ...]`: the execution providers in order of preference. */
  provider_options: z.array(z.record(z.string(), z.unknown())).optional(),
});

/** One ONNX graph of the model (decoder, embedding, vision, speech, ...). */
const sessionSchema = z.looseObject({
  filename: z.string().optional(),
  session_options: sessionOptionsSchema.optional(),
  inputs: names.optional(),
  outputs: names.optional(),
});

const decoderSchema = sessionSchema.extend({
  head_size: z.number().int().positive().optional(),
  hidden_size: z.number().int().positive().optional(),
  num_attention_heads: z.number().int().positive().optional(),
  num_key_value_heads: z.number().int().positive().optional(),
  num_hidden_layers: z.number().int().positive().optional(),
});

export const genaiConfigSchema = z.looseObject({
  model: z.looseObject({
    type: z.string(),
    vocab_size: z.number().int().positive().optional(),
    context_length: z.number().int().positive().optional(),
    bos_token_id: tokenId.optional(),
    pad_token_id: tokenId.optional(),
    eos_token_id: z.union([tokenId, z.array(tokenId)]).optional(),
    decoder: decoderSchema.optional(),
  }),
  search: z.record(z.string(), z.unknown()).optional(),
});

/** A parsed genai_config.json: the typed fields plus whatever else the file holds. */
export type GenAIConfig = z.infer<typeof genaiConfigSchema>;

export const GENAI_CONFIG_FILE = 'genai_config.json';

/**
 * Reads `<dir>/genai_config.json`. ValidationError when the folder has none, or when the file is not JSON or
 * has a typed field of the wrong type (the issues name each field).
 */
export async function readGenAIConfig(dir: string): Promise<GenAIConfig> {
  const file = path.join(dir, GENAI_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ValidationError(`${path.resolve(dir)} is not an ORT-GenAI model folder: cannot read ${GENAI_CONFIG_FILE}`, [], { cause: err });
  }
  return parseGenAIConfig(text, file);
}

/** The text of a genai_config.json (`source` names it in errors). */
export function parseGenAIConfig(text: string, source = GENAI_CONFIG_FILE): GenAIConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${source} is not valid JSON: ${(err as Error).message}`, [], { cause: err });
  }
  const parsed = genaiConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error, 'genai_config');
    throw new ValidationError(`${source} is not a valid ORT-GenAI configuration:\n  ${issues.join('\n  ')}`, issues);
  }
  return parsed.data;
}

/** The execution providers the decoder asks for, in order ('cpu' when none is named, as the library does). */
export function configuredProviders(config: GenAIConfig): string[] {
  const listed = (config.model.decoder?.session_options?.provider_options ?? []).flatMap((entry) => Object.keys(entry));
  return listed.length ? listed : ['cpu'];
}

/** eos_token_id as a list (the file holds one id or several). */
export function eosTokenIds(config: GenAIConfig): number[] {
  const eos = config.model.eos_token_id;
  return eos === undefined ? [] : [eos].flat();
}
