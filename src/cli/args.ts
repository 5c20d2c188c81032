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
