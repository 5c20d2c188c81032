// A real `mlflow server` from the pinned Python environment (test/python/requirements.txt), on a free
// loopback port, with a SQLite or PostgreSQL backend and a local artifact root served through the
// server (`mlflow-artifacts:`). Started per test file in beforeAll, always stopped in afterAll.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../helpers/fixtures.js';

const execFileAsync = promisify(execFile);

export interface MlflowServer {
  uri: string;
  dir: string;
  backendUri: string;
  python: string;
  /** Environment for Python children that talk to this server. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** The pinned venv's python, created on first use by scripts/python-env.sh. */
export function venvPython(): string {
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'python-env.sh')], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error('scripts/python-env.sh failed');
  return r.stdout.trim();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A fresh PostgreSQL database on the private server of scripts/postgres.sh. The server is started when it
 * is not running (CI starts it in .ci/run), and then stopped again with the database.
 */
export function postgresDatabase(): { url: string; drop(): void } {
  const script = path.join(repoRoot, 'scripts', 'postgres.sh');
  const wasRunning = spawnSync('bash', [script, 'running'], { stdio: 'ignore' }).status === 0;
  const start = spawnSync('bash', [path.join(repoRoot, 'scripts', 'postgres.sh'), 'start'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (start.status !== 0) throw new Error('scripts/postgres.sh start failed');
  const server = start.stdout.trim().split('\n').at(-1)!;
  const name = `mlflow_test_${randomBytes(6).toString('hex')}`;
  const psql = (sql: string) => {
    const r = spawnSync('psql', [`${server}/postgres`, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  };
  psql(`CREATE DATABASE ${name}`);
  return {
    url: `${server}/${name}`,
    drop: () => {
      psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      if (!wasRunning) spawnSync('bash', [script, 'stop'], { stdio: 'ignore' });
    },
  };
}

async function waitHealthy(uri: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mlflow server exited with ${child.exitCode}:\n${log()}`);
    const ok = await fetch(`${uri}/health`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`mlflow server at ${uri} did not become healthy:\n${log()}`);
}

export async function startMlflowServer(options: { backend?: 'sqlite' | 'postgresql' } = {}): Promise<MlflowServer> {
  const python = venvPython();
  const dir = await mkdtemp(path.join(tmpdir(), 'mlflow-server-'));
  const pg = options.backend === 'postgresql' ? postgresDatabase() : undefined;
  // psycopg2 is the driver the pinned environment has (SQLAlchemy's default would be psycopg 3).
  const backendUri = pg ? pg.url.replace(/^postgresql:/, 'postgresql+psycopg2:') : `sqlite:///${path.join(dir, 'mlflow.db')}`;
  const port = await freePort();
  const uri = `http://127.0.0.1:${port}`;
  const child = spawn(
    python,
    ['-m', 'mlflow', 'server', '--host', '127.0.0.1', '--port', String(port), '--workers', '1', '--backend-store-uri', backendUri, '--artifacts-destination', path.join(dir, 'artifacts')],
    { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' } },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-20_000)));
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGTERM'); // the server and the uvicorn worker it started
      } catch {
        /* already gone */
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    pg?.drop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(uri, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  const env = { ...process.env, MLFLOW_TRACKING_URI: uri };
  return { uri, dir, backendUri, python, env, stop };
}

/**
 * Run Python in the pinned venv against the server; returns stdout (throws with stderr on failure).
 * Asynchronous on purpose: a blocked event loop would not see the server close idle connections.
 */
export async function runPython(server: MlflowServer, code: string, args: string[] = []): Promise<string> {
  try {
    const { stdout } = await execFileAsync(server.python, ['-c', code, ...args], { encoding: 'utf8', env: server.env, cwd: server.dir, maxBuffer: 64 << 20 });
    return stdout;
  } catch (err) {
    throw new Error(`python failed:\n${(err as { stderr?: string }).stderr ?? err}`);
  }
}
