/**
 * Where the binding's own cost is measured (the timed overhead probe and the instruction counts): a counting model,
 * where ORT's compute per step is smallest.
 */
export const PROBE = { preset: 'tiny-deterministic', promptTokens: 16, genTokens: 512 } as const;
