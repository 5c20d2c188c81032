import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel, repoRoot, testPython } from '../helpers/fixtures.js';

// Progress of the long steps (make-model's weights, model loads, bench rounds) as users see it: in a real
// pseudo-terminal (Python's pty module), and in a pipe as CI logs get it.

const CLI = path.join(repoRoot, 'dist', 'cli', 'index.js');

// Runs a command in a pseudo-terminal 120 columns wide and prints all it wrote there, then its exit status
// (negative: the signal that ended it). With PTY_INTERRUPT set, sends SIGINT once the output contains it.
const PTY_RUNNER = `
import fcntl, os, select, signal, struct, subprocess, sys, termios
marker = os.environ.get('PTY_INTERRUPT', '').encode()
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 30, 120, 0, 0))
child = subprocess.Popen(sys.argv[1:], stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
# The slave stays open here, so no read of the master fails before all the child wrote is read.
out = b''
interrupted = False
while True:
    ready, _, _ = select.select([master], [], [], 0.2)
    if ready:
        out += os.read(master, 65536)
        if marker and not interrupted and marker in out:
            interrupted = True
            child.send_signal(signal.SIGINT)
    elif child.poll() is not None:
        break
sys.stdout.buffer.write(out)
sys.stdout.buffer.write(b'\\nstatus %d' % child.returncode)
`;

/**
 * The environment of a user's terminal: colour unless NO_COLOR says otherwise. Nothing inherited forces or
 * limits it: not FORCE_COLOR, and not CI, with which Node's hasColors() reports 2 colours (as under CI=true).
 */
function terminalEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  delete env.CI;
  return { ...env, ...extra };
}

function inTerminal(args: string[], extra?: Record<string, string>) {
  const r = spawnSync(testPython(), ['-c', PTY_RUNNER, process.execPath, CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: terminalEnv(extra) });
  expect(r.status, r.stderr).toBe(0);
  const [, output, code] = /^([\s\S]*)\nstatus (-?\d+)$/.exec(r.stdout)!;
  return { code: Number(code), output };
}

function inPipe(args: string[]) {
  const env = terminalEnv();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CYAN = '\x1b[36m';
const ANY_SGR_COLOUR = /\x1b\[(3\d|9\d|2|1)m/; // foreground colours, dim, bold

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'ortgenai-progress-'));
});

describe('make-model progress', () => {
  it('is a coloured bar redrawn in place on a terminal', () => {
    const { code, output } = inTerminal(['make-model', '--preset', 'tiny-random', '--out', path.join(root, 'tty')]);
    expect(code).toBe(0);
    expect(output).toContain('tiny-random: 6.5M parameters');
    expect(output).toContain(`writing weights ${CYAN}${'#'.repeat(30)}\x1b[39m 100%`);
    expect(output).toMatch(/\x1b\[1Gwriting weights /); // redrawn from the first column, not a new line each time
    expect(output).not.toMatch(/writing weights \d+% \(/); // not the plain lines of a log
    expect(output).toMatch(/wrote tiny-random to /);
  });

  it('has no colour on a terminal when NO_COLOR is set, and still draws the bar', () => {
    const { code, output } = inTerminal(['make-model', '--preset', 'tiny-random', '--out', path.join(root, 'no-color')], { NO_COLOR: '1' });
    expect(code).toBe(0);
    expect(output).toContain(`writing weights ${'#'.repeat(30)} 100%`);
    expect(output).not.toMatch(ANY_SGR_COLOUR);
  });

  it('is a plain line per tenth in a pipe, with no control codes', () => {
    const { code, stderr } = inPipe(['make-model', '--preset', 'tiny-random', '--out', path.join(root, 'pipe')]);
    expect(code).toBe(0);
    expect(stderr).not.toContain('\x1b');
    const lines = stderr.split('\n').filter((l) => l.startsWith('writing weights'));
    expect(lines[0]).toMatch(/^writing weights 0% \([\d.]+ K?B of [\d.]+ MB\)$/);
    expect(lines.at(-1)).toMatch(/^writing weights 100% \(([\d.]+ MB) of \1\)$/);
    expect(lines.length).toBeLessThanOrEqual(11);
  });
});

describe('interrupted on a terminal', () => {
  /** The terminal as a bar left it: the cursor shown again after it was hidden, line wrapping back on. */
  const restored = (output: string) => output.lastIndexOf('\x1b[?25h') > output.lastIndexOf('\x1b[?25l') && output.lastIndexOf('\x1b[?7h') > output.lastIndexOf('\x1b[?7l');

  it('Ctrl-C during make-model aborts the build as before, and gives the terminal back', () => {
    const out = path.join(root, 'interrupted');
    const { code, output } = inTerminal(['make-model', '--preset', 'small', '--out', out], { PTY_INTERRUPT: 'writing weights' });
    expect(output).toContain('ortgenai make-model: model build aborted');
    expect(code).toBe(1);
    expect(output).toContain('\x1b[?25l');
    expect(restored(output)).toBe(true);
  });

  it('Ctrl-C during bench rounds ends the process by the signal, as without a bar, and gives the terminal back', () => {
    const args = ['bench', '-m', fixtureModel('tiny-random'), '--runners', 'generate', '--repeat', '500', '--warmup', '0', '--threads', '1', '--gen-tokens', '16', '--prompt-tokens', '8'];
    const { code, output } = inTerminal([...args, '--cache-dir', path.join(root, 'bench-int')], { PTY_INTERRUPT: 'single-stream rounds' });
    expect(code).toBe(-2); // SIGINT
    expect(restored(output), JSON.stringify(output)).toBe(true);
  });
});

describe('model load progress', () => {
  it('shows what is loading on a terminal and clears the line once loaded; prints nothing in a pipe', () => {
    const model = fixtureModel('tiny-random');
    const tty = inTerminal(['generate', '-m', model, '-p', 'hi', '--max-tokens', '2']);
    expect(tty.code).toBe(0);
    expect(tty.output).toContain(`loading ${model} 0s`);
    expect(tty.output).toMatch(/loading [^\n]* 0s\x1b\[0K[^\n]*\x1b\[2K/); // drawn, then erased before the answer
    const pipe = inPipe(['generate', '-m', model, '-p', 'hi', '--max-tokens', '2']);
    expect(pipe).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('bench progress', () => {
  const args = ['bench', '-m', fixtureModel('tiny-random'), '--runners', 'generate', '--repeat', '3', '--warmup', '0', '--threads', '1', '--gen-tokens', '2', '--prompt-tokens', '8'];

  it('is a bar of rounds on a terminal, and a line per round in a pipe', () => {
    const tty = inTerminal([...args, '--cache-dir', path.join(root, 'bench-tty')]);
    expect(tty.code).toBe(0);
    expect(tty.output).toContain(`threads=1 single-stream rounds ${CYAN}${'#'.repeat(30)}\x1b[39m 100% 3 of 3`);
    expect(tty.output).not.toMatch(/round \d\/3/);
    const pipe = inPipe([...args, '--cache-dir', path.join(root, 'bench-pipe')]);
    expect(pipe.code).toBe(0);
    expect(pipe.stderr).not.toContain('\x1b');
    expect(pipe.stderr.match(/^threads=1 single-stream round \d\/3 \([\d.]+ s\)$/gm)).toHaveLength(3);
  });
});
