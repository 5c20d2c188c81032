import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ValidationError } from '../errors.js';

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
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Values<O>;
  } catch (err) {
    throw new ValidationError(`${(err as Error).message}\n\n${help}`, [], { cause: err });
  }
}

/**
 * A numeric flag's text as a number (undefined when the flag is absent). Only the syntax is checked here:
 * ranges are the business of the options schema the value goes to.
 */
export function numberFlag(name: string, text: string | undefined, kind: 'integer' | 'number' = 'number'): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (kind === 'integer' && !Number.isInteger(value))) {
    throw new ValidationError(`--${name} must be ${kind === 'integer' ? 'an integer' : 'a number'}, got '${text}'`);
  }
  return value;
}
