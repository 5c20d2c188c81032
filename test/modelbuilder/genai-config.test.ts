// genai_config.json must name exactly the graph's inputs and outputs and carry the tokenizer's ids;
// checked for every preset from its plan (no weights are generated).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRESET_NAMES, genaiConfig, planModel, presetTokenizer } from '../../src/modelbuilder/index.js';
import { FIXTURE_PRESETS, fixtureModel } from '../helpers/fixtures.js';

interface Config {
  model: {
    vocab_size: number; eos_token_id: number | number[]; bos_token_id: number; pad_token_id: number; context_length: number;
    decoder: {
      inputs: Record<string, string>; outputs: Record<string, string>;
      num_hidden_layers: number; num_key_value_heads: number; head_size: number; num_attention_heads: number; hidden_size: number;
    };
  };
  search: Record<string, unknown>;
}

describe.each(PRESET_NAMES)('%s', (preset) => {
  const tokenizer = presetTokenizer(preset);
  const { graph, plan } = planModel(preset, 1, tokenizer);
  const config = genaiConfig(plan.spec, tokenizer) as Config;
  const { decoder } = config.model;
  const layers = Array.from({ length: decoder.num_hidden_layers }, (_, i) => i);
  const expand = (pattern: string) => layers.map((i) => pattern.replace('%d', String(i)));

  it('names exactly the graph inputs and outputs', () => {
    const { past_key_names, past_value_names, ...plain } = decoder.inputs;
    const inputs = [...Object.values(plain), ...expand(past_key_names), ...expand(past_value_names)];
    expect(inputs.sort()).toEqual(graph.inputs.map((i) => i.name).sort());
    const { present_key_names, present_value_names, logits } = decoder.outputs;
    expect([logits, ...expand(present_key_names), ...expand(present_value_names)].sort()).toEqual(graph.outputs.map((o) => o.name).sort());
  });

  it('describes the KV cache and logits the graph declares', () => {
    const key = graph.inputs.find((i) => i.name === 'past_key_values.0.key')!;
    expect(key.shape).toEqual(['batch_size', decoder.num_key_value_heads, 'past_sequence_length', decoder.head_size]);
    expect(graph.outputs.find((o) => o.name === 'logits')!.shape).toEqual(['batch_size', 'sequence_length', config.model.vocab_size]);
    expect(config.model.vocab_size).toBe(tokenizer.modelVocabSize);
    expect(config.model.vocab_size).toBeGreaterThanOrEqual(tokenizer.vocabSize);
    if (preset !== 'tiny-deterministic') expect(decoder.head_size * decoder.num_attention_heads).toBe(decoder.hidden_size);
  });

  it("carries the tokenizer's special ids and greedy search defaults", () => {
    expect(config.model.eos_token_id).toEqual(tokenizer.eosTokenIds);
    expect(config.model.bos_token_id).toBe(tokenizer.bosTokenId);
    expect(config.model.pad_token_id).toBe(tokenizer.padTokenId);
    expect(config.search).toMatchObject({ do_sample: false, num_beams: 1, max_length: config.model.context_length });
    // GroupQueryAttention updates one max_length buffer in place; the Concat cache of tiny-deterministic grows.
    expect(config.search.past_present_share_buffer).toBe(preset !== 'tiny-deterministic');
  });
});

it.each(FIXTURE_PRESETS)('the %s fixture folder holds this config', async (preset) => {
  const written = JSON.parse(await readFile(path.join(fixtureModel(preset), 'genai_config.json'), 'utf8'));
  const tokenizer = presetTokenizer(preset);
  expect(written).toEqual(genaiConfig(planModel(preset, 1, tokenizer).plan.spec, tokenizer));
});

it("gives phi3-mini Phi-3-mini-4k's vocabulary and special ids, small and the fixtures GPT-2's", () => {
  const vocab = (preset: (typeof PRESET_NAMES)[number]) => {
    const tokenizer = presetTokenizer(preset);
    return (genaiConfig(planModel(preset, 1, tokenizer).plan.spec, tokenizer) as Config).model;
  };
  expect(vocab('phi3-mini')).toMatchObject({ vocab_size: 32064, eos_token_id: [32007, 32001, 32000], pad_token_id: 32000 });
  for (const preset of ['tiny-deterministic', 'tiny-random', 'small'] as const) {
    expect(vocab(preset)).toMatchObject({ vocab_size: 50261, eos_token_id: [50256, 50260], pad_token_id: 50256 });
  }
});
