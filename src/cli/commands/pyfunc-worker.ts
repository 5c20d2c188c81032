import { ValidationError } from '../../errors.js';
import { replyStream, runPyfuncWorker } from '../../server/pyfunc-worker.js';
import { numberFlag, parseCommandArgs, UsageError } from '../args.js';

const HELP = `usage: ortgenai pyfunc-worker -m <model uri> --reply-fd <fd> [--model-config <json>]

Loads the model, then answers JSON-lines requests from stdin on file descriptor <fd> until stdin closes.
Started by python/ortgenai_node_pyfunc.py, the python_function loader of TypeScript PythonModels.

  -m, --model <uri>          model folder or URI
      --reply-fd <fd>        an open file descriptor for the replies
      --model-config <json>  load-time model config override (a JSON object)`;

export async function run(argv: string[]): Promise<void> {
  const values = parseCommandArgs(argv, { model: { type: 'string', short: 'm' }, 'reply-fd': { type: 'string' }, 'model-config': { type: 'string' } }, HELP);
  if (!values) return;
  const fd = numberFlag('reply-fd', values['reply-fd'], 'integer');
  if (!values.model || fd === undefined) throw new UsageError(`-m/--model and --reply-fd are required\n\n${HELP}`);
  let modelConfig: Record<string, unknown> | undefined;
  if (values['model-config'] !== undefined) {
    try {
      modelConfig = JSON.parse(values['model-config']) as Record<string, unknown>;
    } catch (err) {
      throw new ValidationError(`--model-config must be a JSON object: ${(err as Error).message}`, [], { cause: err });
    }
  }
  await runPyfuncWorker({ modelUri: values.model, modelConfig, input: process.stdin, output: replyStream(fd) });
}
