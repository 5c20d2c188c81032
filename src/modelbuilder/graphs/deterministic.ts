import onnxProto from 'onnx-proto';
import { GraphBuilder } from '../onnx/graph.js';
import { type TensorSource, tensorFrom } from '../onnx/tensor.js';

const FLOAT = onnxProto.onnx.TensorProto.DataType.FLOAT;

/**
 * Sharpness of the "attend to the earliest position" softmax: neighbouring positions differ by this
 * much in score, so the weight leaking to the second token is e^-30 ≈ 1e-13 and the value read back
 * rounds to the first token's id exactly, for any vocabulary that fits a float32 integer.
 */
const SHARPNESS = 30;
/** Padded positions (attention_mask = 0) get score -MASK_PENALTY, i.e. zero softmax weight. */
const MASK_PENALTY = 1e9;

/**
 * The `tiny-deterministic` decoder: one layer, one head, head_size 1, no weights beyond a few constants.
 *
 * Rule: the token after position p is `(x₀ + p + 1) mod vocab`, where x₀ is the first non-pad token of
 * the sequence. So a prompt that counts up (7, 8, 9) keeps counting (10, 11, ...), and any prompt of
 * length L continues with x₀ + L, x₀ + L + 1, ...
 *
 * How the parts are exercised:
 * - the KV cache stores key = position (from `position_ids`) and value = token id (from `input_ids`);
 *   present = concat(past, new), so it grows by one entry per step and ORT-GenAI must carry it;
 * - x₀ is read back by softmax attention over the whole cache with scores -SHARPNESS·position, i.e.
 *   after the first step x₀ exists only in the cache: a lost, truncated or misaligned cache changes
 *   the output;
 * - `attention_mask` removes left padding from that softmax and `position_ids` supply p, so batched,
 *   left-padded prompts must produce the same ids as the same prompts run alone.
 * The logits are -|v - target| over the vocabulary, so greedy search picks the target and the
 * runner-up differs by exactly 1.
 *
 * With `lora`, the head also has a LoRA pair (see LORA_A/LORA_B) whose product A·B is added to the target:
 * an adapter shifts every next token by an exact integer, and with no adapter active the defaults (rank 0,
 * so A·B = 0) keep the rule above.
 */
export function tinyDeterministicGraph(vocabSize: number, options: { lora?: boolean } = {}): GraphBuilder {
  const g = new GraphBuilder();
  const inputIds = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const pastKey = g.input('past_key_values.0.key', 'float32', ['batch_size', 1, 'past_sequence_length', 1]);
  const pastValue = g.input('past_key_values.0.value', 'float32', ['batch_size', 1, 'past_sequence_length', 1]);
  g.output('logits', 'float32', ['batch_size', 'sequence_length', vocabSize]);
  g.output('present.0.key', 'float32', ['batch_size', 1, 'total_sequence_length', 1]);
  g.output('present.0.value', 'float32', ['batch_size', 1, 'total_sequence_length', 1]);

  const p = '/model/layers.0/attn';
  const axes13 = g.int64([1, 3]);
  const positions = g.op('Cast', `${p}/positions/Cast`, [positionIds], { to: FLOAT });
  const tokens = g.op('Cast', `${p}/tokens/Cast`, [inputIds], { to: FLOAT });
  const newKey = g.op('Unsqueeze', `${p}/k/Unsqueeze`, [positions, axes13]);
  const newValue = g.op('Unsqueeze', `${p}/v/Unsqueeze`, [tokens, axes13]);
  const presentKey = g.node('Concat', `${p}/present_key/Concat`, [pastKey, newKey], { axis: 2 }, { outputs: ['present.0.key'] })[0];
  const presentValue = g.node('Concat', `${p}/present_value/Concat`, [pastValue, newValue], { axis: 2 }, { outputs: ['present.0.value'] })[0];

  // scores[b, 0, 0, t] = -SHARPNESS * key[t] + (mask[t] - 1) * 1e9, shared by every query position.
  const keysT = g.op('Transpose', `${p}/k/Transpose`, [presentKey], { perm: [0, 1, 3, 2] });
  const scores = g.op('Mul', `${p}/scores/Mul`, [keysT, g.float(-SHARPNESS)]);
  const maskF = g.op('Cast', `${p}/mask/Cast`, [mask], { to: FLOAT });
  const maskOff = g.op('Sub', `${p}/mask/Sub`, [maskF, g.float(1)]);
  const maskBias = g.op('Mul', `${p}/mask/Mul`, [maskOff, g.float(MASK_PENALTY)]);
  const maskBias4d = g.op('Unsqueeze', `${p}/mask/Unsqueeze`, [maskBias, g.int64([1, 2])]);
  const masked = g.op('Add', `${p}/scores/Add`, [scores, maskBias4d]);
  const probs = g.op('Softmax', `${p}/Softmax`, [masked], { axis: -1 });
  const attended = g.op('MatMul', `${p}/MatMul`, [probs, presentValue]); // [B,1,1,1] ≈ x₀
  const first = g.op('Round', `${p}/Round`, [g.op('Reshape', `${p}/Reshape`, [attended, g.int64([-1, 1])])]);

  // target[b, s] = (x₀ + position + 1) mod vocab; logits[b, s, v] = -|v - target|.
  const h = '/model/lm_head';
  const sum = g.op('Add', `${h}/Add`, [first, positions]);
  let next = g.op('Add', `${h}/next/Add`, [sum, g.float(1)]);
  if (options.lora) next = g.op('Add', `${h}/lora/Add`, [next, loraDelta(g)]);
  const target = g.op('Mod', `${h}/Mod`, [next, g.float(vocabSize)], { fmod: 1 });
  const vocab = g.op('Range', `${h}/Range`, [g.float(0), g.float(vocabSize), g.float(1)]);
  const diff = g.op('Sub', `${h}/Sub`, [vocab, g.op('Unsqueeze', `${h}/Unsqueeze`, [target, g.int64([2])])]);
  g.node('Neg', `${h}/Neg`, [g.op('Abs', `${h}/Abs`, [diff])], {}, { outputs: ['logits'] });
  return g;
}

/**
 * The LoRA parameters of the `lora` variant, named like the official ORT-GenAI model builder's
 * (`<module>.lora_A.MatMul.weight` [in, rank], `<module>.lora_B.MatMul.weight` [rank, out]). The head's LoRA
 * acts on a constant feature 1, so its output is A·B itself. They are graph inputs (what an adapter replaces)
 * that are also initializers (ONNX's overridable defaults) of rank 0; the rank is a free dimension.
 */
export const LORA_A = 'lm_head.lora_A.MatMul.weight';
export const LORA_B = 'lm_head.lora_B.MatMul.weight';

function loraDelta(g: GraphBuilder): string {
  for (const [name, shape] of [[LORA_A, [1, 'lora_rank']], [LORA_B, ['lora_rank', 1]]] as const) {
    g.input(name, 'float32', [...shape]);
    g.initializer(tensorFrom(name, 'float32', shape.map((d) => (d === 1 ? 1 : 0)), new Float32Array(0)));
  }
  return g.op('MatMul', '/model/lm_head/lora/MatMul', [LORA_A, LORA_B]); // [1, 1]
}

/**
 * Adapter parameters for the `lora` variant that add `shift` to every next token: rank `rank`, A = shift/rank
 * everywhere and B = 1, so A·B = shift exactly for integer shifts and power-of-two ranks.
 */
export function deterministicShiftAdapter(shift: number, rank = 1): TensorSource[] {
  return [
    tensorFrom(LORA_A, 'float32', [1, rank], new Float32Array(rank).fill(shift / rank)),
    tensorFrom(LORA_B, 'float32', [rank, 1], new Float32Array(rank).fill(1)),
  ];
}
