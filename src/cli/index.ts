#!/usr/bin/env node
// `ortgenai <command> [...args]`: each command lives in ./commands/<name>.ts and is loaded only when used,
// so `ortgenai make-model` does not pay for loading the native runtime.
import { OrtGenAIError } from '../errors.js';

interface Command {
  summary: string;
  run(argv: string[]): Promise<void>;
}

const commands: Record<string, () => Promise<Command>> = {};

export function registerCommand(name: string, load: () => Promise<Command>): void {
  commands[name] = load;
}

function usage(): string {
  const names = Object.keys(commands).sort();
  return `usage: ortgenai <command> [options]\n\ncommands:\n${names.map((n) => `  ${n}`).join('\n')}\n\nRun 'ortgenai <command> --help' for a command's options.`;
}

/** A failure of the machine rather than of our code (ENOENT, EACCES, EADDRINUSE, ...): its message says it all. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const load = commands[name];
  if (!load) {
    console.error(`ortgenai: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    await (await load()).run(rest);
    return 0;
  } catch (err) {
    if (err instanceof OrtGenAIError || isSystemError(err)) {
      console.error(`ortgenai ${name}: ${err.message}`);
      return 1;
    }
    throw err; // a bug: keep the stack
  }
}

registerCommand('make-model', () => import('./commands/make-model.js'));
registerCommand('generate', () => import('./commands/generate.js'));
registerCommand('demo', () => import('./commands/demo.js'));
registerCommand('bench', () => import('./commands/bench.js'));
registerCommand('serve', () => import('./commands/serve.js'));
registerCommand('pyfunc-worker', () => import('./commands/pyfunc-worker.js'));

process.exitCode = await main(process.argv.slice(2));
