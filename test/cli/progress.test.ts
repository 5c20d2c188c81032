import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel, repoRoot } from '../helpers/fixtures.js';
import { runInTerminal, terminalEnv } from '../helpers/terminal.js';

// Progress of the long steps (make-model's weights, model loads, bench rounds) as users see it: in a real
// pseudo-terminal (Python's pty module), and in a pipe as CI logs get it.

const CLI = path.join(repoRoot, 'dist', 'cli', 'index.js');

function inTerminal(args: string[], extra: Record<string, string> = {}) {
  const { PTY_INTERRUPT: interrupt, ...env } = extra;
  return runInTerminal([process.execPath, CLI, ...args], { env, steps: interrupt ? [{ waitFor: interrupt, signal: 'SIGINT' }] : [] });
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
