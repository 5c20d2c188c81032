import { parseArgs } from 'node:util';
import { ValidationError } from '../../errors.js';
import { Model } from '../../genai/model.js';
import type { GenerateOptions } from '../../genai/generate.js';

export const summary = 'generate text from a prompt with an ORT-GenAI model folder, streamed to stdout';

const HELP = `usage: ortgenai generate -m <model folder> -p <prompt> [options]

  -m, --model <dir>           ORT-GenAI model folder (genai_config.json, model, tokenizer)
  -p, --prompt <text>         the prompt ('-' reads it from stdin)
      --chat                  wrap the prompt as a user message with the model's chat template
      --max-tokens <n>        new tokens at most (default 256)
      --temperature <t>       sampling temperature (0 = greedy)
      --top-p <p>             nucleus sampling
      --top-k <k>             top-k sampling
      --seed <n>              random seed for sampling
      --repetition-penalty <r>
      --stop <s>              stop string (repeatable)
      --threads <n>           ONNX Runtime intra-op threads
      --stats                 print token counts and speed to stderr

Ctrl-C stops the generation after the current token.`;

const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function run(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string', short: 'm' },
        prompt: { type: 'string', short: 'p' },
        chat: { type: 'boolean' },
        'max-tokens': { type: 'string' },
        temperature: { type: 'string' },
        'top-p': { type: 'string' },
        'top-k': { type: 'string' },
        seed: { type: 'string' },
        'repetition-penalty': { type: 'string' },
        stop: { type: 'string', multiple: true },
        threads: { type: 'string' },
        stats: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ValidationError(`${(err as Error).message}\n\n${HELP}`);
  }
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (!values.model || values.prompt === undefined) throw new ValidationError(`--model and --prompt are required\n\n${HELP}`);
  const prompt = values.prompt === '-' ? await readStdin() : values.prompt;
  const options: GenerateOptions = {
    maxTokens: num(values['max-tokens']),
    temperature: num(values.temperature),
    topP: num(values['top-p']),
    topK: num(values['top-k']),
    seed: num(values.seed),
    repetitionPenalty: num(values['repetition-penalty']),
    stop: values.stop,
  };
  for (const key of Object.keys(options) as (keyof GenerateOptions)[]) {
    if (options[key] === undefined) delete options[key];
  }
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  using model = await Model.load(values.model, { threads: num(values.threads) });
  const input = values.chat ? model.tokenizer.applyChatTemplate([{ role: 'user', content: prompt }]) : prompt;
  const started = performance.now();
  const stream = model.stream(input, { ...options, signal: controller.signal });
  try {
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
