import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { numberFlag, parseCommandArgs, UsageError } from '../args.js';
import { parseRequest } from '../../mlflow/chat/requests.js';
import { generationConfigSchema } from '../../mlflow/chat/schemas.js';
import { ortgenai, pyfunc, type ChatCompletion, type ChatCompletionChunk } from '../../mlflow/index.js';
import { PRESET_NAMES, buildModel, type PresetName } from '../../modelbuilder/index.js';

const HELP = `usage: ortgenai demo [--preset tiny-random] [--keep <dir>] [--question "..."] [--max-tokens N]

Builds an ORT-GenAI model from a preset (random weights: the words are noise, the plumbing is real),
saves it as an MLflow model with the llm/v1/chat task, loads it back through pyfunc like
'mlflow.pyfunc.load_model' would, then streams one chat answer and prints the full chat.completion.

Options:
  --preset <name>     one of ${PRESET_NAMES.join(', ')} (default tiny-random)
  --keep <dir>        write the models into <dir> and keep them (default: a temporary folder, removed)
  --question <text>   the user message
  --max-tokens <N>    new tokens per answer (default 24)`;

export async function run(argv: string[]): Promise<void> {
  const values = parseCommandArgs(
    argv,
    {
      preset: { type: 'string', default: 'tiny-random' },
      keep: { type: 'string' },
      question: { type: 'string', default: 'What does ONNX Runtime GenAI do?' },
      'max-tokens': { type: 'string', default: '24' },
    },
    HELP,
  );
  if (!values) return;
  if (!(PRESET_NAMES as readonly string[]).includes(values.preset)) {
    throw new UsageError(`unknown preset '${values.preset}'; choose one of ${PRESET_NAMES.join(', ')}`);
  }
  // The range is the chat config's, checked by its schema before minutes go into building the model.
  const modelConfig = parseRequest(generationConfigSchema, { max_tokens: numberFlag('max-tokens', values['max-tokens'], 'integer'), temperature: 0 }, 'model config');

  const root = values.keep ? path.resolve(values.keep) : await mkdtemp(path.join(os.tmpdir(), 'ortgenai-demo-'));
  try {
    const genaiDir = path.join(root, 'genai-model');
    const built = await buildModel({ preset: values.preset as PresetName, outDir: genaiDir, force: true });
    console.log(`1. built ${built.preset}: ${built.dir}`);

    const mlflowDir = path.join(root, 'mlflow-model');
    await rm(mlflowDir, { recursive: true, force: true });
    await ortgenai.saveModel(mlflowDir, {
      model: genaiDir,
      task: 'llm/v1/chat',
      modelConfig,
    });
    console.log(`2. saved an MLflow llm/v1/chat model: ${mlflowDir}`);

    await using model = await pyfunc.loadModel(mlflowDir);
    const inputs = model.metadata.signature?.inputs?.inputNames().join(', ');
    console.log(`3. loaded it back with pyfunc.loadModel; signature inputs: ${inputs}`);

    const request = { messages: [{ role: 'user', content: values.question }] };
    process.stdout.write(`4. streaming an answer to ${JSON.stringify(values.question)}:\n     `);
    for await (const chunk of model.predictStream(request)) {
      process.stdout.write((chunk as ChatCompletionChunk).choices[0]?.delta?.content ?? '');
    }
    process.stdout.write('\n');

    const completion = (await model.predict(request)) as ChatCompletion;
    console.log(`5. predict() returned a chat.completion:\n${JSON.stringify(completion, null, 2).replace(/^/gm, '     ')}`);
  } finally {
    if (!values.keep) await rm(root, { recursive: true, force: true });
  }
}
