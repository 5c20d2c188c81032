import { ValidationError } from '../../errors.js';
import { ortgenai } from '../../mlflow/index.js';
import { numberFlag, parseCommandArgs } from '../args.js';
import { taskFlag } from '../task-flag.js';


const HELP = `usage: ortgenai save <ORT-GenAI model folder> --out <dir> [--task llm/v1/chat|llm/v1/completions|none]

Packages an ORT-GenAI model folder as an MLflow model (ortgenai.saveModel): the folder is copied under model/,
with an MLmodel whose flavors let Node (pyfunc.loadModel, ortgenai serve) and Python MLflow
(mlflow.pyfunc.load_model, mlflow models serve, with onnxruntime-genai) load it.

  -o, --out <dir>          the new MLflow model folder (must not exist, or be empty)
  -t, --task <task>        llm/v1/chat (default: MLflow's chat signature, and the OpenAI chat route when served),
                           llm/v1/completions, or none (a 'prompt' column in, generated text out)
      --max-tokens <n>     the saved default for requests that do not say (model config max_tokens)`;

export async function run(argv: string[]): Promise<void> {
  const positional = argv.length > 0 && !argv[0].startsWith('-');
  const source = positional ? argv[0] : undefined;
  const rest = positional ? argv.slice(1) : argv;
  const values = parseCommandArgs(rest, {
    out: { type: 'string', short: 'o' },
    task: { type: 'string', short: 't' },
    'max-tokens': { type: 'string' },
  }, HELP);
  if (!values) return;
  if (!source || !values.out) throw new ValidationError(`the model folder and --out are required\n\n${HELP}`);
  const task = taskFlag(values.task);
  const maxTokens = numberFlag('max-tokens', values['max-tokens'], 'integer');
  const info = await ortgenai.saveModel(values.out, {
    model: source,
    task,
    // Ranges are checked by the flavor's config schema, with the API's messages.
    modelConfig: maxTokens === undefined ? undefined : { max_tokens: maxTokens },
  });
  console.log(`saved ${source} as an MLflow model in ${info.path}${task ? ` (task ${task})` : ''}`);
}
