import { z } from 'zod';
import { DEFAULT_RUNNERS, INSTRUCTION_RUNNERS, RUNNERS } from './protocol.js';

export const PRESETS = ['small', 'phi3-mini'] as const;

const count = (min: number) => z.number().int().min(min);
// A runner or thread count named twice would run twice and pair its rounds with the wrong group.
const distinct = (items: unknown[]) => new Set(items).size === items.length;

export const benchOptionsSchema = z
  .object({
    model: z.string().min(1).optional(),
    preset: z.enum(PRESETS).optional(),
    promptTokens: count(1).default(128),
    genTokens: count(2).default(128),
    batch: count(1).default(1),
    repeat: count(1).default(5),
    warmup: count(0).default(1),
    threads: z.array(count(1)).min(1).refine(distinct, 'each thread count once').default([1, 2]),
    /** Generations at once on one model; 1 skips the concurrency rows. */
    concurrency: count(1).default(1),
    runners: z.array(z.enum(RUNNERS)).min(1).refine(distinct, 'each runner once').default([...DEFAULT_RUNNERS]),
    json: z.string().min(1).optional(),
    cacheDir: z.string().min(1).optional(),
  })
  .refine((o) => o.model || o.preset, { message: 'give a model folder (-m) or a preset to generate (--preset)' });

export type BenchOptions = z.output<typeof benchOptionsSchema>;

/** `ortgenai bench --instructions`: instruction counts per token under callgrind instead of timings. */
export const instructionOptionsSchema = z.object({
  model: z.string().min(1).optional(),
  runners: z.array(z.enum(INSTRUCTION_RUNNERS)).min(1).refine(distinct, 'each runner once').default(['native', 'generate']),
  json: z.string().min(1).optional(),
  cacheDir: z.string().min(1).optional(),
});
