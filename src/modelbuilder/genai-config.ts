/** What `genai_config.json` needs to know about a built decoder. */
export interface DecoderSpec {
  /** ORT-GenAI model type: selects the model class (`phi3`, `llama` are plain decoder-only models). */
  type: string;
  contextLength: number;
  vocabSize: number;
  hiddenSize: number;
  headSize: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  numHiddenLayers: number;
  /** Whether the graph takes `position_ids` (GroupQueryAttention derives positions itself). */
  positionIds: boolean;
  /** GroupQueryAttention reads and writes one max_length KV buffer in place; Concat-style caches grow. */
  pastPresentShareBuffer: boolean;
  filename: string;
}

export interface TokenIds {
  bosTokenId: number;
  eosTokenIds: number[];
  padTokenId: number;
}

/**
 * The `genai_config.json` the official model builder writes for a CPU decoder, field for field
 * (ORT-GenAI rejects unknown keys, so nothing else goes in).
 */
export function genaiConfig(spec: DecoderSpec, ids: TokenIds): object {
  const inputs: Record<string, string> = { input_ids: 'input_ids', attention_mask: 'attention_mask' };
  if (spec.positionIds) inputs.position_ids = 'position_ids';
  inputs.past_key_names = 'past_key_values.%d.key';
  inputs.past_value_names = 'past_key_values.%d.value';
  return {
    model: {
      bos_token_id: ids.bosTokenId,
      context_length: spec.contextLength,
      decoder: {
        session_options: { log_id: 'onnxruntime-genai', provider_options: [] },
        filename: spec.filename,
        head_size: spec.headSize,
        hidden_size: spec.hiddenSize,
        inputs,
        outputs: {
          logits: 'logits',
          present_key_names: 'present.%d.key',
          present_value_names: 'present.%d.value',
        },
        num_attention_heads: spec.numAttentionHeads,
        num_hidden_layers: spec.numHiddenLayers,
        num_key_value_heads: spec.numKeyValueHeads,
      },
      eos_token_id: ids.eosTokenIds.length === 1 ? ids.eosTokenIds[0] : ids.eosTokenIds,
      pad_token_id: ids.padTokenId,
      type: spec.type,
      vocab_size: spec.vocabSize,
    },
    search: {
      diversity_penalty: 0.0,
      do_sample: false,
      early_stopping: true,
      length_penalty: 1.0,
      max_length: spec.contextLength,
      min_length: 0,
      no_repeat_ngram_size: 0,
      num_beams: 1,
      num_return_sequences: 1,
      past_present_share_buffer: spec.pastPresentShareBuffer,
      repetition_penalty: 1.0,
      temperature: 1.0,
      top_k: 1,
      top_p: 1.0,
    },
  };
}
