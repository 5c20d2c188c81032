import type { ConcurrencyMode, RunnerName, RunnerSpec, RunTiming } from './protocol.js';
import { startRunner, type RunnerProcess } from './runner-process.js';

/** Everything measured for one runner, thread count and mode. */
export interface Cell {
  runner: RunnerName;
  threads: number;
  mode: ConcurrencyMode;
  concurrency: number;
  /** One per round, in round order: runs of different runners with the same index ran back to back. */
  runs: RunTiming[];
  tokens: number[];
  loadMs: number;
  baselineRssBytes: number;
  /** The process's peak RSS when this mode's rounds ended (single-stream rounds run first). */
  peakRssBytes: number;
  note?: string;
  error?: string;
}

export interface GroupPlan {
  /** Everything but `runner`. */
  spec: Omit<RunnerSpec, 'runner'>;
  runners: RunnerName[];
  /** Extra modes per runner, run after all single-stream rounds. */
  concurrencyModes: Partial<Record<RunnerName, ConcurrencyMode[]>>;
  concurrency: number;
  repeat: number;
  warmup: number;
}

/** Where the bench reports progress: each line, and with a round's line how far its phase has come. */
export type BenchLog = (line: string, round?: { phase: string; done: number; total: number }) => void;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const rotate = <T>(items: T[], by: number) => items.map((_, i) => items[(i + by) % items.length]);

/**
 * Loads every runner at once (each in its own process), then runs them round-robin: round r runs each
 * runner once, starting from a different runner each round. Load drifting on a shared machine then hits all
 * runners alike, which is what makes same-run ratios meaningful.
 */
export async function measureGroup(plan: GroupPlan, log: BenchLog): Promise<Cell[]> {
  const cells: Cell[] = [];
  const processes = new Map<RunnerName, RunnerProcess>();
  const cell = (runner: RunnerName, mode: ConcurrencyMode): Cell => {
    let c = cells.find((x) => x.runner === runner && x.mode === mode);
    if (!c) {
      c = {
        runner, mode, threads: plan.spec.threads, concurrency: mode === 'sequential' ? 1 : plan.concurrency,
        runs: [], tokens: [], loadMs: 0, baselineRssBytes: 0, peakRssBytes: 0,
      };
      cells.push(c);
    }
    return c;
  };
  const modesOf = (runner: RunnerName): ConcurrencyMode[] =>
    plan.concurrency > 1 ? (plan.concurrencyModes[runner] ?? []) : [];
  const where = `threads=${plan.spec.threads}`;
  try {
    for (const runner of plan.runners) {
      try {
        const p = await startRunner({ ...plan.spec, runner });
        processes.set(runner, p);
        for (const mode of ['sequential' as const, ...modesOf(runner)]) {
          Object.assign(cell(runner, mode), { loadMs: p.loadMs, baselineRssBytes: p.baselineRssBytes, note: p.note });
        }
        log(`${where} loaded ${runner} in ${(p.loadMs / 1000).toFixed(1)} s`);
      } catch (err) {
        for (const mode of ['sequential' as const, ...modesOf(runner)]) cell(runner, mode).error = message(err);
        log(`${where} ${runner} failed to load: ${message(err)}`);
      }
    }
    type Job = { runner: RunnerName; mode: ConcurrencyMode };
    const loaded = [...processes.keys()];
    // Single streams first, so their peak RSS is read before any concurrent run raises it.
    const phases: Job[][] = [
      loaded.map((runner) => ({ runner, mode: 'sequential' })),
      loaded.flatMap((runner) => modesOf(runner).map((mode) => ({ runner, mode }))),
    ];
    for (const jobs of phases) {
      if (jobs.length === 0) continue;
      const runOnce = async (job: Job, timed: boolean) => {
        const c = cell(job.runner, job.mode);
        if (c.error) return;
        try {
          const g = await processes.get(job.runner)!.run(job.mode, c.concurrency);
          if (timed) {
            c.runs.push(g.timing);
            c.tokens = g.tokens;
          }
        } catch (err) {
          c.error = message(err);
          log(`${where} ${job.runner} ${job.mode} failed: ${c.error}`);
        }
      };
      for (let w = 0; w < plan.warmup; w++) for (const job of jobs) await runOnce(job, false);
      for (let r = 0; r < plan.repeat; r++) {
        const t0 = performance.now();
        for (const job of rotate(jobs, r)) await runOnce(job, true);
        const phase = `${where} ${jobs[0].mode === 'sequential' ? 'single-stream' : 'concurrency'}`;
        log(`${phase} round ${r + 1}/${plan.repeat} (${((performance.now() - t0) / 1000).toFixed(1)} s)`, { phase, done: r + 1, total: plan.repeat });
      }
      for (const job of jobs) {
        const p = processes.get(job.runner)!;
        try {
          cell(job.runner, job.mode).peakRssBytes = await p.peakRssBytes();
        } catch (err) {
          cell(job.runner, job.mode).error ??= message(err);
        }
      }
    }
  } finally {
    await Promise.all([...processes.values()].map((p) => p.close().catch(() => {})));
  }
  return cells;
}
