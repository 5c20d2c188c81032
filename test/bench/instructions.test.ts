// `ortgenai bench --instructions`: instruction counts per token under callgrind, for real, on the counting model.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { run } from '../../src/cli/commands/bench.js';
import { callgrindTotal, countInstructions, InstructionCountError } from '../../src/bench/instructions.js';
import { fixtureModel } from '../helpers/fixtures.js';

describe('bench --instructions', () => {
  it('reads the total from a callgrind output file', () => {
    expect(callgrindTotal('events: Ir\nsummary: 1234\n\nfl=a\n')).toBe(1234);
    expect(callgrindTotal('events: Ir\ntotals: 99\n')).toBe(99);
    expect(() => callgrindTotal('events: Ir\n')).toThrow(InstructionCountError);
  });

  it('rejects runners it cannot count', async () => {
    await expect(run(['--instructions', '--runners', 'transformersjs'])).rejects.toBeInstanceOf(ValidationError);
    await expect(run(['--instructions', '--runners', 'native,native'])).rejects.toThrow(/each runner once/);
  });

  it('counts the C++ loop and our generate loop per token, by the difference of two token counts', async () => {
    // The counting model's first ~120 new tokens after this prompt are GPT-2's byte tokens (no text yet), and the
    // generate runner times text chunks: both counts go past them.
    const tokens = [140, 172] as const;
    const counts = await countInstructions(
      { model: fixtureModel('tiny-deterministic'), runners: ['native', 'generate'], tokens, processes: 1 },
      () => {},
    );
    expect(counts.gen_tokens).toEqual(tokens);
    expect(counts.valgrind).toMatch(/^valgrind-/);
    for (const runner of ['native', 'generate'] as const) {
      const [few, many] = counts.totals[runner]!;
      expect(many).toBeGreaterThan(few);
      // A decoding step runs a whole ORT session on the counting model: tens of thousands of instructions at least.
      expect(counts.per_token[runner]).toBeGreaterThan(10_000);
    }
    expect(counts.overhead_per_token.generate).toBe(counts.per_token.generate! - counts.per_token.native!);
  }, 300_000);
});
