/**
 * ORT-GenAI search options (the names `og.GeneratorParams.set_search_options` takes), validated before they reach
 * the C library: unknown names are rejected with a suggestion, values are range-checked.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { describeIssues } from '../zod-issues.js';

const int = () => z.number().int();

/** batch_size and num_beams above this are undefined behaviour in ORT-GenAI 0.15.2. */
export const MAX_BATCH_OR_BEAMS = 32;

const searchOptionShape = {
    max_length: int().min(1),
    min_length: int().min(0),
    batch_size: int().min(1).max(MAX_BATCH_OR_BEAMS),
    do_sample: z.boolean(),
    top_k: int().min(0),
    top_p: z.number().gt(0).lte(1),
    temperature: z.number().gt(0),
    repetition_penalty: z.number().gt(0),
    num_beams: int().min(1).max(MAX_BATCH_OR_BEAMS),
    num_return_sequences: int().min(1).max(MAX_BATCH_OR_BEAMS),
    length_penalty: z.number(),
    early_stopping: z.boolean(),
    no_repeat_ngram_size: int().min(0),
    diversity_penalty: z.number().min(0),
    random_seed: int().min(-1),
    past_present_share_buffer: z.boolean(),
    chunk_size: int().min(0),
};

export const searchOptionsSchema = z
  .object(searchOptionShape)
  .partial()
  .refine((o) => o.num_return_sequences === undefined || o.num_return_sequences <= (o.num_beams ?? 1), {
    message: 'num_return_sequences cannot exceed num_beams',
    path: ['num_return_sequences'],
  })
  .refine((o) => o.min_length === undefined || o.max_length === undefined || o.min_length <= o.max_length, {
    message: 'min_length cannot exceed max_length',
    path: ['min_length'],
  });

export type SearchOptions = z.infer<typeof searchOptionsSchema>;

export const SEARCH_OPTION_NAMES = Object.keys(searchOptionShape) as (keyof SearchOptions)[];

/** The options that are booleans (the C API reads and writes them apart from the numbers). */
export function isBooleanSearchOption(name: keyof SearchOptions): boolean {
  return searchOptionShape[name] instanceof z.ZodBoolean;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** The closest known name, when it is close enough to be a likely typo (or a case/style variant). */
export function suggest(name: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = norm(candidate) === norm(name) ? 0 : editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/**
 * Parses `input` with `schema`, first rejecting keys outside `known` with a "did you mean" hint, and turns zod's
 * issues into one ValidationError.
 */
export function parseOptions<T>(schema: z.ZodType<T>, input: unknown, known: readonly string[], what: string): T {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError(`${what} must be an object`);
  }
  const unknown = Object.keys(input).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    const issues = unknown.map((k) => {
      const hint = suggest(k, known);
      return `unknown ${what} '${k}'${hint ? ` (did you mean '${hint}'?)` : ''}`;
    });
    throw new ValidationError(`${issues.join('; ')}. Known: ${known.join(', ')}`, issues);
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error, what);
    throw new ValidationError(`invalid ${what}: ${issues.join('; ')}`, issues);
  }
  return parsed.data;
}

/** `name` if it is a search option's name; ValidationError (with a "did you mean") otherwise. */
export function searchOptionName(name: unknown): keyof SearchOptions {
  if (typeof name === 'string' && (SEARCH_OPTION_NAMES as string[]).includes(name)) return name as keyof SearchOptions;
  const hint = typeof name === 'string' ? suggest(name, SEARCH_OPTION_NAMES) : undefined;
  throw new ValidationError(
    `unknown search option '${String(name)}'${hint ? ` (did you mean '${hint}'?)` : ''}. Known: ${SEARCH_OPTION_NAMES.join(', ')}`,
  );
}

export function parseSearchOptions(input: unknown): SearchOptions {
  return parseOptions(searchOptionsSchema, input, SEARCH_OPTION_NAMES, 'search option');
}
