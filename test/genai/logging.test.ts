import { describe, expect, it } from 'vitest';
import { GenAIError, Model, onLog, setLogOption } from '../../src/index.js';
import { PROMPT_IDS, testModels } from './models.js';

describe('ORT-GenAI logging', () => {
  it('delivers the library log to a JS callback, and stops when it is cleared', async () => {
    using model = await Model.load(testModels()[0].dir);
    const lines: string[] = [];
    onLog((line) => lines.push(line));
    try {
      setLogOption('enabled', true);
      setLogOption('ansi_tags', false);
      setLogOption('generate_next_token', true);
      await model.generate(PROMPT_IDS, { maxTokens: 3 });
      await new Promise((r) => setTimeout(r, 20));
      expect(lines.length).toBeGreaterThanOrEqual(3);
      expect(lines[0]).toMatch(/generate_next_token.*sequence length/s);
    } finally {
      onLog(null);
      setLogOption('generate_next_token', false);
      setLogOption('enabled', false);
    }
    const seen = lines.length;
    await model.generate(PROMPT_IDS, { maxTokens: 3 });
    await new Promise((r) => setTimeout(r, 20));
    expect(lines.length).toBe(seen);
    expect(() => setLogOption('no_such_option', true)).toThrow(GenAIError);
  });
});
