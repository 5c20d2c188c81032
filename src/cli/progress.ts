import cliProgress from 'cli-progress';
import { colorsFor } from './colors.js';

// Progress on standard error, so standard output stays the command's answer. On a terminal it is drawn
// (and redrawn) in place by cli-progress; in logs and pipes it is a few plain lines, never control codes.

export interface ProgressBarOptions {
  /** How a done/total amount reads, e.g. formatBytes (default: the number). */
  format?: (n: number) => string;
  stream?: NodeJS.WriteStream;
}

/** Work of known size: a bar on a terminal, a line at each tenth elsewhere. */
export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly format: (n: number) => string;
  private readonly bar?: cliProgress.SingleBar;
  private release?: () => void;
  private lastTenth = -1;
  private done = 0;

  constructor(private readonly label: string, private readonly total: number, options: ProgressBarOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.format = options.format ?? String;
    if (this.stream.isTTY) {
      const c = colorsFor(this.stream);
      this.bar = new cliProgress.SingleBar({
        stream: this.stream,
        format: `${label} ${c.cyan('{bar}')} {percentage}% {amount}`,
        barCompleteChar: '#',
        barIncompleteChar: '-',
        barsize: 30,
        hideCursor: true,
      });
      this.release = restoreTerminalOnSignal(this.bar); // before the first drawing, which hides the cursor
      this.bar.start(total, 0, { amount: this.amount(0) });
    }
  }

  private amount(done: number): string {
    return `${this.format(done)} of ${this.format(this.total)}`;
  }

  update(done: number): void {
    this.done = done;
    if (this.bar) {
      this.bar.update(done, { amount: this.amount(done) });
      return;
    }
    const tenth = Math.floor((this.total ? done / this.total : 1) * 10);
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.stream.write(`${this.label} ${tenth * 10}% (${this.amount(done)})\n`);
    }
  }

  /** Ends the bar's line (the bar stays, as last drawn). Call it when the work fails too. */
  stop(): void {
    if (this.bar?.isActive) {
      this.bar.update(this.done, { amount: this.amount(this.done) });
      this.bar.stop();
    }
    this.release?.();
  }
}

/**
 * Work of unknown length, such as a model load: `label` with the seconds gone by on a terminal, cleared when
 * the work settles; nothing elsewhere (a load is one step, and the command's own output says it happened).
 */
export async function withActivity<T>(label: string, work: () => Promise<T>, stream: NodeJS.WriteStream = process.stderr): Promise<T> {
  if (!stream.isTTY) return work();
  const c = colorsFor(stream);
  const line = new cliProgress.SingleBar({
    stream,
    format: `${c.cyan('…')} ${label} {duration}s`,
    hideCursor: true,
    clearOnComplete: true,
    fps: 4,
  });
  const release = restoreTerminalOnSignal(line);
  line.start(1, 0);
  try {
    return await work();
  } finally {
    if (line.isActive) line.stop();
    release();
  }
}

/**
 * A bar hides the cursor and turns line wrapping off: Ctrl-C or a kill must not leave the terminal so. On
 * SIGINT/SIGTERM the bar is stopped; then, when nothing else listens for the signal (make-model aborts its
 * build on it, serve shuts down), the signal is raised again so the process ends as it would have.
 * (cli-progress's gracefulExit stops the bar but swallows the signal.) Returns the remover.
 */
function restoreTerminalOnSignal(bar: cliProgress.SingleBar): () => void {
  // Counted now too: a `once` listener is already gone by the time ours runs.
  const handled = { SIGINT: process.listenerCount('SIGINT') > 0, SIGTERM: process.listenerCount('SIGTERM') > 0 };
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    if (bar.isActive) bar.stop();
    remove();
    if (!handled[signal] && process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const remove = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return remove;
}
