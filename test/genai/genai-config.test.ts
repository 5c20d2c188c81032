import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { configuredProviders, eosTokenIds, parseGenAIConfig, readGenAIConfig } from '../../src/genai/genai-config.js';
import { fixtureModel, sharedModel } from '../helpers/fixtures.js';

describe('readGenAIConfig', () => {
  it('types the fields the package reads and keeps every other field as written', async () => {
    const dir = fixtureModel('tiny-random');
    const raw = JSON.parse(await readFile(path.join(dir, 'genai_config.json'), 'utf8'));
    const config = await readGenAIConfig(dir);
    expect(config).toEqual(raw); // nothing dropped, nothing added
    expect(config.model.type).toBe(raw.model.type);
    expect(eosTokenIds(config)).toEqual([raw.model.eos_token_id].flat());
    expect(configuredProviders(config)).toEqual(['cpu']);
  });

  it('reads configs of other model kinds (vision and embedding graphs) without refusing their fields', async () => {
    const dir = sharedModel('phi3-v') ?? fixtureModel('tiny-deterministic');
    const config = await readGenAIConfig(dir);
    expect(typeof config.model.type).toBe('string');
  });

  it('lists providers in the order of provider_options, and eos ids given as one or many', () => {
    const config = parseGenAIConfig(JSON.stringify({
      model: { type: 'llama', eos_token_id: 7, decoder: { session_options: { provider_options: [{ cuda: {} }, { dml: { x: '1' } }] } } },
    }));
    expect(configuredProviders(config)).toEqual(['cuda', 'dml']);
    expect(eosTokenIds(config)).toEqual([7]);
  });

  it('refuses a missing file, bad JSON and wrongly typed fields with a ValidationError naming them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'genai-config-'));
    await expect(readGenAIConfig(dir)).rejects.toThrow(`${dir} is not an ORT-GenAI model folder: cannot read genai_config.json`);
    writeFileSync(path.join(dir, 'genai_config.json'), '{ "model": ');
    await expect(readGenAIConfig(dir)).rejects.toThrow(/genai_config\.json is not valid JSON/);
    const wrong = () => parseGenAIConfig(JSON.stringify({ model: { vocab_size: -1, decoder: { num_hidden_layers: 'two' } } }));
    expect(wrong).toThrow(ValidationError);
    try {
      wrong();
    } catch (err) {
      expect((err as ValidationError).issues).toEqual([
        'model.type: Invalid input: expected string, received undefined',
        'model.vocab_size: Too small: expected number to be >0',
        'model.decoder.num_hidden_layers: Invalid input: expected number, received string',
      ]);
    }
  });
});
