import { readFile, writeFile } from 'node:fs/promises';
import { MlflowException } from '../../mlflow/errors.js';
import { loadModel } from '../../mlflow/pyfunc/index.js';
import { predictionsToJson } from '../../server/scoring/jsonable.js';
import { invalidInput } from '../../server/scoring/frame.js';
import { parseScoringInput } from '../../server/scoring/payload.js';
import { parseCommandArgs, UsageError } from '../args.js';
import { withActivity } from '../progress.js';

const HELP = `usage: ortgenai predict -m <model uri> -i <file|-> [-t json|csv] [-o <file>]

Like 'mlflow models predict': loads the model, reads one scoring request (what POST /invocations takes:
dataframe_split, dataframe_records, instances, inputs (+ params), the unified chat/completions form, or CSV),
predicts through the same pyfunc path as 'ortgenai serve', and writes the JSON answer ({"predictions": ...},
or the bare answer for a unified LLM request).

  -m, --model <uri>         model folder, file:, runs:/ or models:/ URI (required)
  -i, --input <file|->      the request; '-' reads standard input (required)
  -t, --content-type <type> json (default) or csv
  -o, --output <file>       write the answer there instead of standard output`;

const MIME = { json: 'application/json', csv: 'text/csv' } as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The request text; invalid UTF-8 is refused as /invocations refuses it, never replaced with U+FFFD. */
async function readInput(where: string): Promise<string> {
  let bytes: Buffer;
  if (where !== '-') {
    bytes = await readFile(where);
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    bytes = Buffer.concat(chunks);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalidInput('The request body is not valid UTF-8.');
  }
}

export async function run(argv: string[]): Promise<void> {
  const values = parseCommandArgs(argv, {
    model: { type: 'string', short: 'm' },
    input: { type: 'string', short: 'i' },
    'content-type': { type: 'string', short: 't' },
    output: { type: 'string', short: 'o' },
  }, HELP);
  if (!values) return;
  if (!values.model || !values.input) throw new UsageError(`-m/--model and -i/--input are required\n\n${HELP}`);
  const type = values['content-type'] ?? 'json';
  if (type !== 'json' && type !== 'csv') throw new UsageError(`--content-type must be json or csv, got '${type}'`);
  const text = await readInput(values.input);
  const model = await withActivity(`loading ${values.model}`, () => loadModel(values.model!));
  try {
    const request = parseScoringInput(text, MIME[type], model.metadata.signature);
    let predictions: unknown;
    try {
      predictions = await model.predict(request.data, request.params as Record<string, unknown> | undefined);
    } catch (err) {
      // The message the server's /invocations gives for the same request.
      if (err instanceof MlflowException) throw new MlflowException(`Failed to predict data: ${err.message}`, err.errorCode, { cause: err, errorClass: err.errorClass });
      throw err;
    }
    const json = `${predictionsToJson(request.unified ? predictions : { predictions })}\n`;
    if (values.output) await writeFile(values.output, json);
    else process.stdout.write(json);
  } finally {
    await model.dispose();
  }
}
