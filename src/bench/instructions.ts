// Instruction counts per generated token, under valgrind's callgrind: unlike wall-clock ratios, which move ±10–30%
// between rounds on a shared machine, the instructions a loop executes per token are nearly the same every run, so
// the binding's cost over the C++ loop becomes a stable number (issue 17).
//
// Each runner runs in its own process under callgrind, generating N1 and then, in another process, N2 tokens per
// request (two requests each). Everything but the extra tokens — process start, model load, prefill, JIT warm-up — is
// the same in both processes, so (I(N2) − I(N1)) / (2·(N2 − N1)) is the cost of one decoding step: ORT's work for it
// plus whatever the loop around ORT adds. On the counting model ORT's work per step is smallest, so the difference
// between runners is the binding's own cost.
//
// What still varies is time-based spinning: the addon's executor workers spin 200 µs after a job, and under valgrind
// the instructions those microseconds take depend on the machine's load. Spinning only ever adds, so each count is
// the smaller of two processes.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OrtGenAIError } from '../errors.js';
import { readModelInfo, syntheticPrompt } from './model-info.js';
import type { InstructionRunner, RunnerSpec } from './protocol.js';
import { presetModel } from './model-source.js';
import { startRunner } from './runner-process.js';
import { PROBE } from './probe.js';


/** Token counts of the two processes: far enough apart that per-process noise is small per token. */
const TOKENS = [128, 768] as const;
/** A request is made twice per process: a warm-up, then the measured one (counted alike, see above). */
const REQUESTS = 2;
/**
 * V8 without its background threads (concurrent GC and compilation run on the main thread instead) and with fixed
 * seeds: how much of that work runs, and when, otherwise depends on thread timing, which moved generate's count
 * per token by ±10% between runs.
 */
const NODE_FLAGS = ['--single-threaded', '--random-seed=1', '--hash-seed=1'];

export interface InstructionCounts {
  model: string;
  prompt_tokens: number;
  gen_tokens: readonly number[];
  valgrind: string;
  /** Whole-process instructions (all threads) per runner, one per entry of gen_tokens. */
  totals: Partial<Record<InstructionRunner, number[]>>;
  /** Instructions per decoding step. */
  per_token: Partial<Record<InstructionRunner, number>>;
  /** per_token above the C++ loop's: what the binding adds per token. */
  overhead_per_token: Partial<Record<Exclude<InstructionRunner, 'native'>, number>>;
}

export class InstructionCountError extends OrtGenAIError {
  constructor(message: string) {
    super(message, 'BENCH_INSTRUCTIONS');
  }
}

function valgrindVersion(): string {
  try {
    return execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    throw new InstructionCountError("--instructions needs valgrind on PATH (e.g. 'apt-get install valgrind')");
  }
}

/** Total instructions of one callgrind run, from its output file's `totals:` (or `summary:`) line. */
export function callgrindTotal(text: string): number {
  const m = /^(?:totals|summary):\s+(\d+)/m.exec(text);
  if (!m) throw new InstructionCountError('callgrind wrote no totals line');
  return Number(m[1]);
}

async function countOnce(spec: RunnerSpec, outFile: string): Promise<number> {
  const wrapper = {
    // --fair-sched: threads take turns in a fixed order, so the interleaving (and the work it causes) varies less.
    argv: ['valgrind', '--tool=callgrind', '--fair-sched=yes', `--callgrind-out-file=${outFile}`, '--dump-instr=no', '--compress-strings=no'],
    nodeFlags: NODE_FLAGS,
  };
  const runner = await startRunner(spec, wrapper);
  try {
    for (let i = 0; i < REQUESTS; i++) await runner.run('sequential', 1);
  } finally {
    await runner.close();
  }
  return callgrindTotal(await readFile(outFile, 'utf8'));
}

export interface InstructionOptions {
  /** A model folder; default the counting model (the overhead probe's preset, from the cache). */
  model?: string;
  cacheDir?: string;
  runners: readonly InstructionRunner[];
  /** The two token counts (default 128 and 768). */
  tokens?: readonly [number, number];
  /** Processes per count, the smallest count kept (default 2). */
  processes?: number;
}

/** Instructions per token of each runner, at one intra-op thread (no ORT pool to spin). */
export async function countInstructions(options: InstructionOptions, log: (line: string) => void): Promise<InstructionCounts> {
  const valgrind = valgrindVersion();
  const tokens = options.tokens ?? TOKENS;
  const processes = options.processes ?? 2;
  const info = await readModelInfo(options.model ?? (await presetModel(PROBE.preset, options.cacheDir, log)));
  const promptIds = syntheticPrompt(info, PROBE.promptTokens);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'ortgenai-callgrind-'));
  const result: InstructionCounts = {
    model: info.dir, prompt_tokens: PROBE.promptTokens, gen_tokens: tokens, valgrind, totals: {}, per_token: {}, overhead_per_token: {},
  };
  try {
    for (const runner of options.runners) {
      const totals: number[] = [];
      for (const genTokens of tokens) {
        const t0 = performance.now();
        const spec: RunnerSpec = { runner, model: info.dir, promptIds, genTokens, batch: 1, threads: 1 };
        const counts: number[] = [];
        for (let i = 0; i < processes; i++) counts.push(await countOnce(spec, path.join(scratch, `${runner}-${genTokens}-${i}.out`)));
        totals.push(Math.min(...counts));
        const seconds = ((performance.now() - t0) / 1000).toFixed(0);
        log(`instructions: ${runner} ${genTokens} tokens: ${counts.map((c) => c.toLocaleString('en')).join(' / ')} (${seconds} s)`);
      }
      result.totals[runner] = totals;
      result.per_token[runner] = (totals[1] - totals[0]) / (REQUESTS * (tokens[1] - tokens[0]));
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const native = result.per_token.native;
  if (native !== undefined) {
    for (const runner of options.runners) if (runner !== 'native') result.overhead_per_token[runner] = result.per_token[runner]! - native;
  }
  return result;
}
