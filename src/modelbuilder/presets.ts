import type { DecoderDims } from './graphs/decoder.js';
import type { TokenizerKind } from './tokenizer/index.js';

export const PRESET_NAMES = ['tiny-deterministic', 'tiny-random', 'small', 'phi3-mini'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

interface DecoderPreset {
  kind: 'decoder';
  description: string;
  /** The vocabulary (embedding and lm_head rows) is the tokenizer's `modelVocabSize`. */
  tokenizer: TokenizerKind;
  /** Everything but the vocabulary, which comes from the tokenizer. */
  dims: Omit<DecoderDims, 'vocabSize'>;
  externalData: boolean;
}

interface DeterministicPreset {
  kind: 'deterministic';
  description: string;
  tokenizer: TokenizerKind;
  contextLength: number;
  externalData: false;
}

export type Preset = DecoderPreset | DeterministicPreset;

const phi3Shape = { ropeTheta: 10000, rmsNormEps: 1e-5 };

export const PRESETS: Record<PresetName, Preset> = {
  'tiny-deterministic': {
    kind: 'deterministic',
    description: 'a few-KB counting model: token at position p is (first token + p) mod vocab',
    tokenizer: 'gpt2-phi3',
    contextLength: 2048,
    externalData: false,
  },
  'tiny-random': {
    kind: 'decoder',
    description: 'Phi-3 graph (GQA + rotary, int4 MatMulNBits), 2 layers, hidden 64, random weights',
    tokenizer: 'gpt2-phi3',
    // accuracy_level 0 keeps MatMulNBits in float32, so a plain reference forward pass matches to 1e-3.
    dims: { hiddenSize: 64, intermediateSize: 128, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, contextLength: 512, accuracyLevel: 0, ...phi3Shape },
    externalData: false,
  },
  small: {
    kind: 'decoder',
    description: 'Phi-3 graph, ~32M parameters (6 layers, hidden 256), random int4 weights, for benchmarks',
    // The whole GPT-2 vocabulary keeps small at ~30M parameters (issue 3) and its measured bench results
    // comparable; a 32064-row lm_head would leave ~23M.
    tokenizer: 'gpt2-phi3',
    dims: { hiddenSize: 256, intermediateSize: 1024, numHiddenLayers: 6, numAttentionHeads: 8, numKeyValueHeads: 4, contextLength: 2048, accuracyLevel: 4, ...phi3Shape },
    externalData: true,
  },
  'phi3-mini': {
    kind: 'decoder',
    description: 'Phi-3-mini-4k dimensions (32 layers, hidden 3072, vocab 32064, 3.8B parameters), random int4 weights',
    // Phi-3-mini's own vocabulary shape: 32000 BPE tokens, its added tokens at its ids, 32064 rows.
    tokenizer: 'gpt2-phi3-32k',
    // Phi-3-mini's own settings and its official CPU build's int4 block-32 accuracy-level-4 MatMuls.
    dims: { hiddenSize: 3072, intermediateSize: 8192, numHiddenLayers: 32, numAttentionHeads: 32, numKeyValueHeads: 32, contextLength: 4096, accuracyLevel: 4, ...phi3Shape },
    externalData: true,
  },
};
