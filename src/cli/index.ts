#!/usr/bin/env node
// `ortgenai <command> [...args]`: each command lives in ./commands/<name>.ts and is loaded only when used,
// so `ortgenai make-model` does not pay for loading the native runtime.
import { createRequire } from 'node:module';
import { OrtGenAIError } from '../errors.js';
import { suggest } from '../genai/search-options.js';
import { UsageError } from './args.js';

interface Command {
  run(argv: string[]): Promise<void>;
}

interface Entry {
  /** One line for the command list (kept here, so listing commands loads none of them). */
  summary: string;
  load: () => Promise<Command>;
}

const commands: Record<string, Entry> = {};

export function registerCommand(name: string, summary: string, load: () => Promise<Command>): void {
  commands[name] = { summary, load };
}

const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

function usage(): string {
  const names = Object.keys(commands).sort();
  const width = Math.max(...names.map((n) => n.length));
  const list = names.map((n) => `  ${n.padEnd(width)}  ${commands[n].summary}`).join('\n');
  return `usage: ortgenai <command> [options]\n\ncommands:\n${list}\n\n` +
    "Run 'ortgenai help <command>' (or 'ortgenai <command> --help') for a command's options; 'ortgenai --version' for the version.\n" +
    'Exit codes: 0 done; 1 the command failed (the message says why); 2 the command line is wrong (unknown command\n' +
    'or flag, a required argument missing, a value not a number or not one of the choices); 130 serve stopped by a\n' +
    'second signal. Progress goes to standard error: drawn on a terminal, plain lines otherwise; NO_COLOR turns colour off.';
}

/** A failure of the machine rather than of our code (ENOENT, EACCES, EADDRINUSE, ...): its message says it all. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

async function main(argv: string[]): Promise<number> {
  let [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(version);
    return 0;
  }
  if (name === 'help' && rest.length > 0) [name, rest] = [rest[0], ['--help']];
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const entry = commands[name];
  if (!entry) {
    const hint = suggest(name, Object.keys(commands));
    console.error(`ortgenai: unknown command '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}\n\n${usage()}`);
    return 2;
  }
  const load = entry.load;
  try {
    await (await load()).run(rest);
    return 0;
  } catch (err) {
    if (err instanceof OrtGenAIError || isSystemError(err)) {
      console.error(`ortgenai ${name}: ${err.message}`);
      return err instanceof UsageError ? 2 : 1;
    }
    throw err; // a bug: keep the stack
  }
}

registerCommand('make-model', 'write an ORT-GenAI model folder (ONNX + genai_config + tokenizer) from a preset', () => import('./commands/make-model.js'));
registerCommand('generate', 'generate text from a prompt with a model (ORT-GenAI folder or MLflow model), streamed to stdout', () => import('./commands/generate.js'));
registerCommand('chat', 'talk with a model (ORT-GenAI folder or MLflow model) in a terminal or through a pipe, keeping the history', () => import('./commands/chat.js'));
registerCommand('demo', 'the whole path on a generated model: build it, save it as an MLflow llm/v1/chat model, load it, chat', () => import('./commands/demo.js'));
registerCommand('bench', 'measure tokens/s, TTFT and memory against a C++ loop, the Python binding and JS peers', () => import('./commands/bench.js'));
registerCommand('inspect', 'tell what a model folder or MLflow model holds: architecture, files, flavors, signature, requirements', () => import('./commands/inspect.js'));
registerCommand('predict', "predict a scoring request's answer with an MLflow model, like mlflow models predict", () => import('./commands/predict.js'));
registerCommand('save', 'package an ORT-GenAI model folder as an MLflow model (llm/v1/chat, llm/v1/completions or plain text)', () => import('./commands/save.js'));
registerCommand('serve', "serve an MLflow model or ORT-GenAI folder: MLflow's scoring protocol plus an OpenAI-compatible API for chat models", () => import('./commands/serve.js'));
registerCommand('pyfunc-worker', "serve one MLflow model to a parent process over pipes (Python MLflow's loader for Node models starts it)", () => import('./commands/pyfunc-worker.js'));

process.exitCode = await main(process.argv.slice(2));
