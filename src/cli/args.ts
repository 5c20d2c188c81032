import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ValidationError } from '../errors.js';
import type { GenerateOptions } from '../genai/generate-options.js';
import { suggest } from '../genai/search-options.js';

/**
 * A command line that cannot be run as written: an unknown flag, a required argument missing, a value that is not
 * a number or not one of the choices. `ortgenai` exits 2 for it; a value the API refuses (a range) is a
 * ValidationError of the API, and like every failure of a command that ran, exits 1.
 */
export class UsageError extends ValidationError {}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];

/**
 * Strict `parseArgs` for a command: bad flags become a ValidationError that carries the usage text,
 * and `--help`/`-h` prints the usage and returns undefined so the command can return.
 */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, help: string): Values<O> | undefined {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(help);
    return undefined;
  }
  try {
    return parseArgs({ args: withNegativeValues(argv, options), options, strict: true, allowPositionals: false }).values as Values<O>;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}${unknownOptionHint(err, options)}\n\n${help}`, [], { cause: err });
  }
}

const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * parseArgs reads `--temperature -1` as two options ("argument is ambiguous"); a negative number after an option
 * that takes a value is that value, so the pair is passed as `--temperature=-1`.
 */
function withNegativeValues(argv: string[], options: Options): string[] {
  const takesValue = new Set<string>();
  for (const [name, option] of Object.entries(options)) {
    if (option.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (option.short) takesValue.add(`-${option.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = argv[i + 1];
    if (takesValue.has(arg) && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      const long = arg.startsWith('--') ? arg : `--${Object.entries(options).find(([, o]) => `-${o.short}` === arg)![0]}`;
      out.push(`${long}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** " (did you mean '--max-tokens'?)" for an unknown option close to a known one. */
function unknownOptionHint(err: unknown, options: Options): string {
  if ((err as NodeJS.ErrnoException).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return '';
  const given = /'(--?[^'=]+)/.exec((err as Error).message)?.[1];
  if (!given?.startsWith('--')) return '';
  const hint = suggest(given.slice(2), Object.keys(options));
  return hint ? ` (did you mean '--${hint}'?)` : '';
}

/**
 * A numeric flag's text as a number (undefined when the flag is absent). Only the syntax is checked here:
 * ranges are the business of the options schema the value goes to.
 */
export function numberFlag(name: string, text: string | undefined, kind: 'integer' | 'number' = 'number'): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (kind === 'integer' && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be ${kind === 'integer' ? 'an integer' : 'a number'}, got '${text}'`);
  }
  return value;
}

/** The flags that shape an answer, shared by `generate` and `chat`: parseArgs options, help lines, options. */
export const ANSWER_FLAGS = {
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'top-k': { type: 'string' },
  seed: { type: 'string' },
  'repetition-penalty': { type: 'string' },
  stop: { type: 'string', multiple: true },
} as const satisfies Options;

export const ANSWER_FLAGS_HELP = `      --max-tokens <n>        new tokens at most (default 256)
      --temperature <t>       sampling temperature (0 = greedy)
      --top-p <p>             nucleus sampling
      --top-k <k>             top-k sampling
      --seed <n>              random seed for sampling
      --repetition-penalty <r>
      --stop <s>              stop string (repeatable)`;

type AnswerOptions = Pick<GenerateOptions, 'maxTokens' | 'temperature' | 'topP' | 'topK' | 'seed' | 'repetitionPenalty' | 'stop'>;

/** The answer flags' values as generation options (ranges are checked by the API's schema). */
export function answerOptions(values: Values<typeof ANSWER_FLAGS>): AnswerOptions {
  return {
    maxTokens: numberFlag('max-tokens', values['max-tokens'], 'integer'),
    temperature: numberFlag('temperature', values.temperature),
    topP: numberFlag('top-p', values['top-p']),
    topK: numberFlag('top-k', values['top-k'], 'integer'),
    seed: numberFlag('seed', values.seed, 'integer'),
    repetitionPenalty: numberFlag('repetition-penalty', values['repetition-penalty']),
    stop: values.stop,
  };
}
