import { serve } from '../../server/serve.js';
import { numberFlag, parseCommandArgs, UsageError } from '../args.js';
import { withActivity } from '../progress.js';
import { taskFlag } from '../task-flag.js';
import type { ResponseEvent } from '../../server/server.js';

const HELP = `usage: ortgenai serve -m <model uri> [options]

Serves one MLflow model over HTTP, like 'mlflow models serve' (a plain ORT-GenAI model folder is served as
the MLflow model 'ortgenai save' would make of it, without writing anything):
  GET /ping, /health, /version; POST /invocations (MLflow scoring protocol)
  POST /v1/chat/completions, /v1/completions; GET /v1/models   (models with task llm/v1/chat or llm/v1/completions)

Options:
  -m, --model <uri>          MLflow model folder, file:, runs:/ or models:/ URI, or an ORT-GenAI model folder
                             (required; --model-uri is the same)
      --task <task>          for an ORT-GenAI model folder: llm/v1/chat (default), llm/v1/completions, or none
                             (a 'prompt' column in, generated text out); an MLflow model's MLmodel says
      --host <host>          interface to listen on (default 127.0.0.1)
  -p, --port <port>          port (default $MLFLOW_PORT or 5000; 0 picks a free one)
  -t, --timeout <seconds>    per-request limit (default $MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT or 60);
                             streams: until their first chunk, then each wait for a slow reader
      --max-body <size>      largest request body, e.g. 1048576, 512kb, 1mb (default 1mb)
      --concurrency <n>      predictions running at once (default 4)
      --max-queue <n>        requests waiting for a slot before 503 (default 64)
      --model-name <name>    model id on the OpenAI routes (default: the saved model's name)
      --shutdown-timeout <s> on SIGINT/SIGTERM, how long in-flight requests may finish (default 10)
  -q, --quiet                no access log on stderr
  -h, --help                 this text

SIGINT/SIGTERM stop accepting connections, let in-flight requests finish (then abort them), dispose the
model and exit; a second signal exits at once.`;

export async function run(argv: string[]): Promise<void> {
  const values = parseCommandArgs(
    argv,
    {
      model: { type: 'string', short: 'm' },
      'model-uri': { type: 'string' },
      task: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string', short: 'p' },
      timeout: { type: 'string', short: 't' },
      'max-body': { type: 'string' },
      concurrency: { type: 'string' },
      'max-queue': { type: 'string' },
      'model-name': { type: 'string' },
      'shutdown-timeout': { type: 'string' },
      quiet: { type: 'boolean', short: 'q', default: false },
    },
    HELP,
  );
  if (!values) return;
  // --model-uri is mlflow models serve's spelling, kept as an alias of -m/--model, which every command takes.
  const uri = values.model ?? values['model-uri'];
  if (!uri) throw new UsageError(`-m/--model is required\n\n${HELP}`);
  const port = numberFlag('port', values.port ?? process.env.MLFLOW_PORT, 'integer') ?? 5000;
  if (port < 0 || port > 65535) throw new UsageError(`--port must be between 0 and 65535, got ${port}`);

  const task = taskFlag(values.task) ?? null;
  const server = await withActivity(`loading ${uri}`, () => serve(uri, {
    host: values.host ?? '127.0.0.1',
    port,
    timeout: numberFlag('timeout', values.timeout ?? process.env.MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT),
    maxBodySize: values['max-body'], // the server's schema reads '1048576', '512kb', '1mb'
    concurrency: numberFlag('concurrency', values.concurrency, 'integer'),
    maxQueue: numberFlag('max-queue', values['max-queue'], 'integer'),
    modelName: values['model-name'],
    shutdownTimeout: numberFlag('shutdown-timeout', values['shutdown-timeout']),
    task,
  }));
  if (!values.quiet) {
    server.on('response', (e: ResponseEvent) => {
      const note = e.outcome === 'ok' || e.outcome === 'error' ? '' : ` (${e.outcome})`;
      process.stderr.write(`${new Date().toISOString()} ${e.method} ${e.path} ${e.status} ${e.durationMs.toFixed(1)}ms${note}\n`);
    });
  }
  server.on('internalError', (err: unknown) => process.stderr.write(`ortgenai serve: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`));
  const routes = server.task ? `, /v1/* for ${server.task}` : '';
  console.log(`ortgenai serve: serving ${uri} as '${server.modelName}' at ${server.url} (/invocations${routes})`);

  await new Promise<void>((resolve, reject) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals === 2) {
        // Exiting under running native generations crashes ONNX Runtime: abort them, then exit.
        process.stderr.write(`ortgenai serve: ${signal} again, stopping generations and exiting (a third signal exits at once)\n`);
        server.close({ timeout: 0 }).finally(() => process.exit(130));
        return;
      }
      if (signals > 2) process.exit(130);
      process.stderr.write(`ortgenai serve: ${signal}, shutting down (in-flight requests get ${server.options.shutdownTimeout} s)\n`);
      server.close().then(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      }, reject);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  console.log('ortgenai serve: stopped');
}
