import { Adapters } from '../../genai/adapters.js';
import type { GenerateOptions } from '../../genai/generate-options.js';
import { ANSWER_FLAGS, ANSWER_FLAGS_HELP, answerOptions, numberFlag, parseCommandArgs, UsageError } from '../args.js';
import { loadGenAIModel } from '../genai-model.js';
import { withActivity } from '../progress.js';

const HELP = `usage: ortgenai generate -m <ORT-GenAI model folder | MLflow model URI> -p <prompt> [options]

  -m, --model <uri>           ORT-GenAI model folder (genai_config.json, model, tokenizer), or an MLflow model
                              (folder, file:, runs:/ or models:/ URI) holding one
  -p, --prompt <text>         the prompt ('-' reads it from stdin)
      --chat                  wrap the prompt as a user message with the model's chat template
${ANSWER_FLAGS_HELP}
      --threads <n>           ONNX Runtime intra-op threads
      --adapter <file>        generate with a LoRA adapter (.onnx_adapter; the model needs LoRA inputs)
      --stats                 print token counts and speed to stderr

Ctrl-C stops the generation after the current token.`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function run(argv: string[]): Promise<void> {
  const values = parseCommandArgs(
    argv,
    {
      model: { type: 'string', short: 'm' },
      prompt: { type: 'string', short: 'p' },
      chat: { type: 'boolean' },
      ...ANSWER_FLAGS,
      threads: { type: 'string' },
      adapter: { type: 'string' },
      stats: { type: 'boolean' },
    },
    HELP,
  );
  if (!values) return;
  if (!values.model || values.prompt === undefined) throw new UsageError(`--model and --prompt are required\n\n${HELP}`);
  const options: GenerateOptions = answerOptions(values);
  const threads = numberFlag('threads', values.threads, 'integer');
  const prompt = values.prompt === '-' ? await readStdin() : values.prompt;
  using model = await withActivity(`loading ${values.model}`, () => loadGenAIModel(values.model!, { threads }));
  using adapters = values.adapter === undefined ? undefined : new Adapters(model);
  if (adapters) {
    await adapters.loadAdapter(values.adapter!, 'cli');
    options.adapter = { adapters, name: 'cli' };
  }
  const input = values.chat ? model.tokenizer.applyChatTemplate([{ role: 'user', content: prompt }]) : prompt;
  // Only while generating: Ctrl-C during the load keeps its default of ending the process at once.
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const started = performance.now();
    const stream = model.stream(input, { ...options, signal: controller.signal });
    for await (const chunk of stream) process.stdout.write(chunk);
    const result = await stream.result;
    process.stdout.write('\n');
    if (values.stats) {
      const seconds = (performance.now() - started) / 1000;
      console.error(
        `prompt ${result.promptTokens} tokens, completion ${result.completionTokens} tokens, ` +
          `${(result.completionTokens / seconds).toFixed(1)} tokens/s, finish: ${result.finishReason}`,
      );
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}
