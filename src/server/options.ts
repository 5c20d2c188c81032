import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { MLFLOW_VERSION } from '../mlflow/mlmodel.js';
import { describeIssues } from '../zod-issues.js';

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `1048576`, `'512kb'`, `'1mb'`, `'1.5MB'` → bytes (1024-based, as Express' body limits). */
const SIZE_HINT = "expected a size such as 1048576, '512kb' or '1mb'";

export const byteSizeSchema = z.union(
  [
    z.number().int().positive(),
    z
      .string()
      .trim()
      .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i)
      .transform((text) => {
        const [, num, unit = 'b'] = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text)!;
        return Math.floor(Number(num) * UNITS[unit.toLowerCase()]);
      })
      .pipe(z.number().int().positive()),
  ],
  // A union's own message would be "Invalid input": say what a size looks like instead.
  { error: (issue) => `${SIZE_HINT}, got ${JSON.stringify(issue.input)}` },
);

const MAX_TIMER_SECONDS = 2_147_483;

/**
 * Serving options, validated once at the boundary. Times are in seconds like MLflow's `--timeout`.
 * `concurrency`/`maxQueue`: the genai layer runs each generation on its own native thread, so requests on
 * one model may run at once; we still bound them (each live generation holds a KV cache and CPU threads)
 * and queue the rest in a bounded FIFO. A full queue answers 503 with Retry-After, which clients and load
 * balancers treat as "try again" rather than as a failed request.
 */
export const serverOptionsSchema = z.object({
  /** Per-request limit in seconds (MLflow: `MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT`, default 60). Streams: until their first chunk, then each wait for a client that stopped reading. */
  // setTimeout fires at once past 2^31-1 ms (~24.8 days).
  timeout: z.number().positive().max(MAX_TIMER_SECONDS).default(60),
  /** Largest accepted request body; larger ones get 413. */
  maxBodySize: byteSizeSchema.default(1024 * 1024),
  /** Predictions running at once. */
  concurrency: z.number().int().min(1).default(4),
  /** Requests waiting for a slot before the server answers 503. */
  maxQueue: z.number().int().min(0).default(64),
  /** The `model` id on the OpenAI routes; default: the saved model's source name or folder name. */
  modelName: z.string().min(1).optional(),
  /** Text of `GET /version` (the MLflow version this server speaks). */
  version: z.string().default(MLFLOW_VERSION),
  /** On close, how long in-flight requests may finish before they are aborted, in seconds. */
  shutdownTimeout: z.number().min(0).max(MAX_TIMER_SECONDS).default(10),
});

export type ServerOptions = z.input<typeof serverOptionsSchema>;
export type ResolvedServerOptions = z.output<typeof serverOptionsSchema>;

export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  const parsed = serverOptionsSchema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issues = describeIssues(parsed.error, '(options)');
  throw new ValidationError(`Invalid server options: ${issues.join('; ')}`, issues);
}
