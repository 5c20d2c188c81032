import type { DecoderDims } from './graphs/decoder.js';

export const PRESET_NAMES = ['tiny-deterministic', 'tiny-random', 'small', 'phi3-mini'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** Phi-3-mini-4k's padded vocabulary width (32011 real tokens rounded up to a multiple of 64). */
export const PHI3_MINI_VOCAB = 32064;

interface DecoderPreset {
  kind: 'decoder';
  description: string;
  /** Everything but the vocabulary, which comes from the tokenizer. */
  dims: Omit<DecoderDims, 'vocabSize'>;
  /**
   * Minimum embedding/lm_head width. Extra rows are ids the tokenizer never produces (as in Phi-3, whose
   * 32011 tokens are padded to 32064). A larger tokenizer wins: every id it emits must have a row, so with
   * our GPT-2-based tokenizer (50261 ids) phi3-mini's vocabulary is 50261, not 32064.
   */
  minVocabSize?: number;
  externalData: boolean;
}

interface DeterministicPreset {
  kind: 'deterministic';
  description: string;
  contextLength: number;
  externalData: false;
}

export type Preset = DecoderPreset | DeterministicPreset;

const phi3Shape = { ropeTheta: 10000, rmsNormEps: 1e-5 };

export const PRESETS: Record<PresetName, Preset> = {
  'tiny-deterministic': {
    kind: 'deterministic',
    description: 'a few-KB counting model: token at position p is (first token + p) mod vocab',
    contextLength: 2048,
    externalData: false,
  },
  'tiny-random': {
    kind: 'decoder',
    description: 'Phi-3 graph (GQA + rotary, int4 MatMulNBits), 2 layers, hidden 64, random weights',
    // accuracy_level 0 keeps MatMulNBits in float32, so a plain reference forward pass matches to 1e-3.
    dims: { hiddenSize: 64, intermediateSize: 128, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, contextLength: 512, accuracyLevel: 0, ...phi3Shape },
    externalData: false,
  },
  small: {
    kind: 'decoder',
    description: 'Phi-3 graph, ~32M parameters (6 layers, hidden 256), random int4 weights, for benchmarks',
    dims: { hiddenSize: 256, intermediateSize: 1024, numHiddenLayers: 6, numAttentionHeads: 8, numKeyValueHeads: 4, contextLength: 2048, accuracyLevel: 4, ...phi3Shape },
    externalData: true,
  },
  'phi3-mini': {
    kind: 'decoder',
    description: 'Phi-3-mini-4k dimensions (32 layers, hidden 3072, 3.8B parameters), random int4 weights',
    // Phi-3-mini's own settings and its official CPU build's int4 block-32 accuracy-level-4 MatMuls.
    dims: { hiddenSize: 3072, intermediateSize: 8192, numHiddenLayers: 32, numAttentionHeads: 32, numKeyValueHeads: 32, contextLength: 4096, accuracyLevel: 4, ...phi3Shape },
    minVocabSize: PHI3_MINI_VOCAB,
    externalData: true,
  },
};
