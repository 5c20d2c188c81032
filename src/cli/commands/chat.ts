import { createInterface } from 'node:readline';
import { ContextOverflowError } from '../../errors.js';
import { ChatSession } from '../../genai/chat-session.js';
import { ANSWER_FLAGS, ANSWER_FLAGS_HELP, answerOptions, numberFlag, parseCommandArgs, UsageError } from '../args.js';
import { loadGenAIModel } from '../genai-model.js';
import { withActivity } from '../progress.js';

const HELP = `usage: ortgenai chat -m <ORT-GenAI model folder | MLflow model URI> [options]

A conversation with a model: each line you type is a message, the answer streams back, and the history stays
(the model's KV cache with it, so later answers do not start slower). Standard input can also be a pipe: one
message per line, answers on standard output, nothing else.

  -m, --model <uri>           ORT-GenAI model folder, or an MLflow model (folder, file:, runs:/ or models:/ URI)
                              holding one
  -s, --system <text>         system prompt
${ANSWER_FLAGS_HELP}
      --context-length <n>    tokens the conversation may take (default: the model's context_length); older
                              turns are dropped to stay within it, and the KV cache is sized for it
      --threads <n>           ONNX Runtime intra-op threads
      --stats                 after each answer, print its prompt tokens (reused, prefilled), tokens generated
                              and TTFT to stderr

${commandsHelp()}`;

function commandsHelp(): string {
  return `In the conversation:
  /system <text>   set the system prompt (/system alone removes it)
  /reset           forget the conversation (the system prompt stays)
  /help            this list
  /exit            leave (so do Ctrl-D and Ctrl-C at the prompt)
Ctrl-C during an answer stops the answer, not the program.`;
}

export async function run(argv: string[]): Promise<void> {
  const values = parseCommandArgs(
    argv,
    {
      model: { type: 'string', short: 'm' },
      system: { type: 'string', short: 's' },
      ...ANSWER_FLAGS,
      'context-length': { type: 'string' },
      threads: { type: 'string' },
      stats: { type: 'boolean' },
    },
    HELP,
  );
  if (!values) return;
  if (!values.model) throw new UsageError(`-m/--model is required\n\n${HELP}`);
  const { maxTokens, stop, ...sampling } = answerOptions(values);
  const threads = numberFlag('threads', values.threads, 'integer');
  const contextLength = numberFlag('context-length', values['context-length'], 'integer');
  using model = await withActivity(`loading ${values.model}`, () => loadGenAIModel(values.model!, { threads }));
  using session = await ChatSession.create(model, { ...sampling, maxTokens, contextLength, systemPrompt: values.system });
  await converse(session, { stop, stats: values.stats ?? false });
}

async function converse(session: ChatSession, { stop, stats }: { stop?: string[]; stats: boolean }): Promise<void> {
  const interactive = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive, prompt: '> ' });
  // What says something to the person at the keyboard; a pipe gets answers only.
  const tell = (text: string) => {
    if (interactive) process.stderr.write(`${text}\n`);
  };
  let answering: AbortController | undefined;
  // Ctrl-C: a terminal's reaches readline as a key, a pipe's process as SIGINT.
  const onInterrupt = () => {
    if (answering) answering.abort();
    else rl.close();
  };
  rl.on('SIGINT', onInterrupt);
  process.on('SIGINT', onInterrupt);
  try {
    tell("Type a message; '/help' lists the commands.");
    if (interactive) rl.prompt();
    for await (const line of rl) {
      const text = line.trim();
      if (text.startsWith('/')) {
        const [command, ...rest] = text.split(/\s+/);
        const arg = text.slice(command.length).trim();
        if (command === '/exit') break;
        if (command === '/reset') {
          session.reset();
          tell('(conversation forgotten)');
        } else if (command === '/system') {
          session.systemPrompt = rest.length ? arg : undefined;
          tell(rest.length ? '(system prompt set)' : '(system prompt removed)');
        } else if (command === '/help') {
          tell(commandsHelp());
        } else {
          process.stderr.write(`unknown command ${command}; /help lists them\n`);
        }
      } else if (text) {
        answering = new AbortController();
        try {
          const answer = session.stream(text, { stop, signal: answering.signal });
          for await (const chunk of answer) process.stdout.write(chunk);
          const result = await answer.result;
          process.stdout.write('\n');
          if (result.finishReason === 'abort') tell('(stopped)');
          if (stats) printStats(session);
        } catch (err) {
          // A message too long for the context loses that message, not the conversation.
          if (!(err instanceof ContextOverflowError)) throw err;
          process.stderr.write(`${err.message}\n`);
        } finally {
          answering = undefined;
        }
      }
      if (interactive) rl.prompt();
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    rl.close();
    if (interactive) process.stdout.write('\n');
  }
}

function printStats(session: ChatSession): void {
  const t = session.lastTurn!;
  const ttft = t.ttftMs === undefined ? 'no token' : `TTFT ${t.ttftMs.toFixed(1)} ms`;
  const notes = [t.rewound ? 'rewound' : '', t.trimmed ? 'history trimmed' : ''].filter(Boolean).join(', ');
  process.stderr.write(
    `prompt ${t.promptTokens} tokens (${t.reusedTokens} reused, ${t.appendedTokens} prefilled), ${t.generatedTokens} generated, ${ttft}, finish: ${t.finishReason}${notes ? `, ${notes}` : ''}\n`,
  );
}
