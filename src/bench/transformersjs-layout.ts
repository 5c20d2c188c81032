import { mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelInfo } from './model-info.js';

/** The model id transformers.js is asked for, relative to its `env.localModelPath`. */
export const TRANSFORMERSJS_MODEL_ID = 'model';

/**
 * transformers.js loads `<id>/config.json`, tokenizer files and `<id>/onnx/model.onnx`. Lay that out in
 * `root` with symlinks to the ORT-GenAI folder (no weights copied) and a config.json derived from
 * genai_config.json, so it runs the very same graph.
 */
export async function layOutForTransformersjs(info: ModelInfo, root: string): Promise<string> {
  const dir = path.join(root, TRANSFORMERSJS_MODEL_ID);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  const onnxName = path.basename(info.onnxFile);
  for (const file of await readdir(info.dir)) {
    const target = path.join(info.dir, file);
    if (file === onnxName) await symlink(target, path.join(dir, 'onnx', 'model.onnx'));
    // External data is found next to the graph under the name recorded inside it.
    else if (file.startsWith(onnxName)) await symlink(target, path.join(dir, 'onnx', file));
    else if (file.startsWith('tokenizer') || file === 'special_tokens_map.json') await symlink(target, path.join(dir, file));
  }
  const config = {
    model_type: info.type,
    vocab_size: info.vocabSize,
    hidden_size: info.hiddenSize,
    num_attention_heads: info.numAttentionHeads,
    num_key_value_heads: info.numKeyValueHeads,
    num_hidden_layers: info.numHiddenLayers,
    head_dim: info.headSize,
    max_position_embeddings: info.contextLength,
    // GPT-2 style names, for model types transformers.js normalizes that way.
    n_head: info.numKeyValueHeads,
    n_layer: info.numHiddenLayers,
    n_embd: info.hiddenSize ?? info.numKeyValueHeads * info.headSize,
    n_positions: info.contextLength,
    bos_token_id: info.bosTokenId,
    pad_token_id: info.padTokenId,
    eos_token_id: info.eosTokenIds,
    use_cache: true,
  };
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}
