import { ortgenai } from '../../mlflow/index.js';
import { numberFlag, parseCommandArgs, UsageError } from '../args.js';
import { taskFlag } from '../task-flag.js';

const HELP = `usage: ortgenai save <ORT-GenAI model folder> (--out <dir> | --log <artifact path>) [options]

Packages an ORT-GenAI model folder as an MLflow model (ortgenai.saveModel): the folder is copied under model/,
with an MLmodel whose flavors let Node (pyfunc.loadModel, ortgenai serve) and Python MLflow
(mlflow.pyfunc.load_model, mlflow models serve, with onnxruntime-genai) load it.

  -o, --out <dir>             the new MLflow model folder (must not exist, or be empty)
      --log <artifact path>   log it into an MLflow run instead, like mlflow's log_model (ortgenai.logModel),
                              in the tracking store of MLFLOW_TRACKING_URI: a folder or file: URI (default
                              ./mlruns) or an http(s) tracking server; prints its model URI (runs:/ in a
                              file store, models:/<model id> on a server)
      --run-id <id>           with --log: into this run (default: a new run, FINISHED once the model is in)
      --experiment-id <id>    with --log: the new run's experiment (default $MLFLOW_EXPERIMENT_ID or 0)
      --run-name <name>       with --log: the new run's name
  -t, --task <task>           llm/v1/chat (default: MLflow's chat signature, and the OpenAI chat route when
                              served), llm/v1/completions, or none (a 'prompt' column in, generated text out)
      --max-tokens <n>        the saved default for requests that do not say (model config max_tokens)`;

export async function run(argv: string[]): Promise<void> {
  const positional = argv.length > 0 && !argv[0].startsWith('-');
  const source = positional ? argv[0] : undefined;
  const rest = positional ? argv.slice(1) : argv;
  const values = parseCommandArgs(rest, {
    out: { type: 'string', short: 'o' },
    log: { type: 'string' },
    'run-id': { type: 'string' },
    'experiment-id': { type: 'string' },
    'run-name': { type: 'string' },
    task: { type: 'string', short: 't' },
    'max-tokens': { type: 'string' },
  }, HELP);
  if (!values) return;
  if (!source || (values.out === undefined) === (values.log === undefined)) {
    throw new UsageError(`the model folder and one of --out or --log are required\n\n${HELP}`);
  }
  for (const flag of ['run-id', 'experiment-id', 'run-name'] as const) {
    if (values[flag] !== undefined && values.log === undefined) throw new UsageError(`--${flag} is only used with --log`);
  }
  const task = taskFlag(values.task);
  const maxTokens = numberFlag('max-tokens', values['max-tokens'], 'integer');
  const options = {
    model: source,
    task,
    // Ranges are checked by the flavor's config schema, with the API's messages.
    modelConfig: maxTokens === undefined ? undefined : { max_tokens: maxTokens },
  };
  const what = task ? ` (task ${task})` : '';
  if (values.out !== undefined) {
    const info = await ortgenai.saveModel(values.out, options);
    console.log(`saved ${source} as an MLflow model in ${info.path}${what}`);
    return;
  }
  const info = await ortgenai.logModel(values.log!, {
    ...options,
    runId: values['run-id'],
    experimentId: values['experiment-id'],
    runName: values['run-name'],
  });
  // runs:/<run>/<path> in a file store; MLflow 3's models:/<model id> on a tracking server.
  console.log(`logged ${source} into run ${info.runId} as ${info.modelUri}${what}`);
}
