import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { OrtGenAIError } from '../errors.js';
import { resolveRuntimeLibraries } from '../runtime.js';
import type { ConcurrencyMode, Generation, Reply, Request, RunnerSpec } from './protocol.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// The C++ loop is a development tool: it is not published, so an installed package has to point at one.
export const BUILD_NATIVE_LOOP =
  "'npm run build:reference' in a checkout of ortgenai-node (node-gyp; test/native/binding.gyp), or set " +
  'ORTGENAI_BENCH_NATIVE_LOOP to a built native_loop';

/** Where `npm run build:reference` puts the C++ loop; ORTGENAI_BENCH_NATIVE_LOOP points elsewhere. */
export function nativeLoopPath(): string {
  return process.env.ORTGENAI_BENCH_NATIVE_LOOP ?? path.join(packageRoot, 'test', 'native', 'build', 'Release', 'native_loop');
}

/** Running from TypeScript sources (tests), Node scripts need the tsx loader; built JS needs nothing. */
export function nodeArgsFor(script: string): string[] {
  return script.endsWith('.ts') ? ['--import', 'tsx'] : [];
}

/** A runner in its own process with its model loaded: its RSS is its own and a native abort stays contained. */
export interface RunnerProcess {
  readonly loadMs: number;
  readonly baselineRssBytes: number;
  readonly note?: string;
  run(mode: ConcurrencyMode, concurrency: number): Promise<Generation>;
  peakRssBytes(): Promise<number>;
  close(): Promise<void>;
}

/** A runner that could not start or answer; `ortgenai bench` exits non-zero when any requested runner hit one. */
export class RunnerError extends OrtGenAIError {
  constructor(message: string) {
    super(message, 'BENCH_RUNNER_ERROR');
  }
}

/** Sends one request at a time and waits for its reply; a dead process fails the pending request. */
abstract class Channel {
  private pending?: { resolve: (r: Reply) => void; reject: (e: Error) => void };
  private output = '';
  protected exited?: string;

  constructor(protected readonly child: ChildProcess, private readonly label: string) {
    child.stderr?.on('data', (d: Buffer) => this.keepOutput(d));
    child.once('exit', (code, signal) => this.fail(signal ? `signal ${signal}` : `exit code ${code}`));
    // Spawning failed (not executable, a folder) or the channel broke: the pending request fails, no crash.
    child.on('error', (err) => this.fail(err.message));
  }

  private fail(why: string): void {
    this.exited ??= why;
    const tail = this.output.trim().split('\n').slice(-5).join(' | ');
    this.pending?.reject(new RunnerError(`the ${this.label} process died (${why})${tail ? `: ${tail}` : ''}`));
    this.pending = undefined;
  }

  /** The last 4000 characters a process printed, for the message when it dies. */
  protected keepOutput(d: Buffer | string): void {
    this.output = (this.output + d.toString()).slice(-4000);
  }

  protected receive(reply: Reply): void {
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(reply);
  }

  protected abstract send(request: Request): void;

  /** Sends `request` (or nothing: waits for what the process says unasked, like the C++ loop's load line). */
  async request(request?: Request): Promise<Reply> {
    if (this.exited) throw new RunnerError(`the ${this.label} process has exited (${this.exited})`);
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.pending = { resolve, reject };
      if (request) this.send(request);
    });
    if (reply.type === 'error') throw new RunnerError(reply.error);
    return reply;
  }

  /** Asks the process to quit; one that has not exited 10 s later is killed. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exit = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    try {
      this.send({ type: 'quit' });
    } catch {
      this.child.kill('SIGKILL');
    }
    await exit;
    clearTimeout(kill);
  }
}

class NodeChannel extends Channel {
  constructor(child: ChildProcess, label: string) {
    super(child, label);
    child.stdout?.on('data', (d: Buffer) => this.keepOutput(d));
    child.on('message', (m) => this.receive(m as Reply));
  }
  protected send(request: Request): void {
    this.child.send(request);
  }
}

/** The C++ loop (and the Python binding's loop) speak the same requests as text lines and answer JSON lines. */
class LineChannel extends Channel {
  constructor(child: ChildProcess, label: string) {
    super(child, label);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        msg = undefined;
      }
      const reply = nativeReply(msg);
      // Anything else is a library's log line on stdout, not a reply: it must not crash the bench.
      if (reply) this.receive(reply);
      else this.keepOutput(`${line}\n`);
    });
  }
  protected send(request: Request): void {
    const line = request.type === 'run' ? `run ${request.mode} ${request.concurrency}` : request.type;
    this.child.stdin!.write(`${line}\n`);
  }
}

/** A JSON line of the C++ loop as a reply, or undefined when it is not one of its replies. */
function nativeReply(msg: unknown): Reply | undefined {
  if (msg === null || typeof msg !== 'object') return undefined;
  const m = msg as Record<string, unknown>;
  if (typeof m.error === 'string') return { type: 'error', error: m.error };
  if (m.loaded === true) return { type: 'loaded', loadMs: m.loadMs as number, baselineRssBytes: m.baselineRssBytes as number };
  if (m.timing && typeof m.timing === 'object') return { type: 'generation', generation: m as unknown as Generation };
  if (typeof m.peakRssBytes === 'number') return { type: 'rss', peakRssBytes: m.peakRssBytes };
  return undefined;
}

function wrap(channel: Channel, loaded: Reply): RunnerProcess {
  if (loaded.type !== 'loaded') throw new RunnerError(loaded.type === 'error' ? loaded.error : 'unexpected reply');
  return {
    loadMs: loaded.loadMs,
    baselineRssBytes: loaded.baselineRssBytes,
    note: loaded.note,
    async run(mode, concurrency) {
      const reply = await channel.request({ type: 'run', mode, concurrency });
      if (reply.type !== 'generation') throw new RunnerError(`unexpected reply ${reply.type}`);
      return reply.generation;
    },
    async peakRssBytes() {
      const reply = await channel.request({ type: 'rss' });
      return reply.type === 'rss' ? reply.peakRssBytes : 0;
    },
    close: () => channel.close(),
  };
}

/**
 * Runs a runner's process inside another program (`valgrind --tool=callgrind ...` for the instruction counts):
 * `argv` is the program and its arguments, the runner's own command line follows them; `nodeFlags` go to a Node
 * runner's node.
 */
export interface ProcessWrapper {
  argv: readonly string[];
  nodeFlags?: readonly string[];
}

async function startNative(spec: RunnerSpec, wrapper?: ProcessWrapper): Promise<RunnerProcess> {
  const exe = nativeLoopPath();
  if (!existsSync(exe)) throw new RunnerError(`the C++ reference loop is not built (${exe} is missing): run ${BUILD_NATIVE_LOOP}`);
  const libs = resolveRuntimeLibraries();
  const args = [
    '--model', spec.model, '--ort-lib', libs.ort, '--genai-lib', libs.genai, '--prompt-ids', spec.promptIds.join(','),
    '--gen-tokens', String(spec.genTokens), '--batch', String(spec.batch), '--threads', String(spec.threads),
  ];
  const [command, ...prefix] = [...(wrapper?.argv ?? []), exe];
  const channel = new LineChannel(spawn(command, [...prefix, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }), 'native');
  return wrap(channel, await channel.request());
}

/**
 * The official Python binding's token loop (bench/python_og_loop.py) in the interpreter of ORTGENAI_PYTHON, so it
 * runs the very library file every other runner of this bench loads from that environment.
 */
async function startPython(spec: RunnerSpec): Promise<RunnerProcess> {
  const python = process.env.ORTGENAI_PYTHON;
  if (!python) {
    throw new RunnerError(
      'the python-og runner needs a Python with onnxruntime-genai: set ORTGENAI_PYTHON=/path/to/python (every runner then uses that ' +
        "environment's libraries); 'bash scripts/python-env.sh' in a checkout makes one",
    );
  }
  const script = path.join(packageRoot, 'bench', 'python_og_loop.py');
  if (!existsSync(script)) throw new RunnerError(`the Python loop is not here (${script} is missing): run the bench from a checkout of ortgenai-node`);
  const args = [
    script, '--model', spec.model, '--prompt-ids', spec.promptIds.join(','), '--gen-tokens', String(spec.genTokens),
    '--batch', String(spec.batch), '--threads', String(spec.threads),
  ];
  const channel = new LineChannel(spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] }), 'python-og');
  return wrap(channel, await channel.request());
}

async function startNode(spec: RunnerSpec, wrapper?: ProcessWrapper): Promise<RunnerProcess> {
  const script = fileURLToPath(new URL(`./child${path.extname(import.meta.url)}`, import.meta.url));
  // Wrapped, the wrapper is the executable and node one of its arguments; the IPC channel's fd passes through.
  const [execPath, ...prefix] = [...(wrapper?.argv ?? []), process.execPath, ...(wrapper?.nodeFlags ?? [])];
  const child = fork(script, [], { execPath, execArgv: [...prefix, ...nodeArgsFor(script)], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const channel = new NodeChannel(child, spec.runner);
  try {
    return wrap(channel, await channel.request({ type: 'load', spec }));
  } catch (err) {
    await channel.close();
    throw err;
  }
}

export function startRunner(spec: RunnerSpec, wrapper?: ProcessWrapper): Promise<RunnerProcess> {
  if (spec.runner === 'native') return startNative(spec, wrapper);
  if (spec.runner === 'python-og') {
    if (wrapper) throw new RunnerError('the python-og runner cannot run inside another program');
    return startPython(spec);
  }
  return startNode(spec, wrapper);
}
