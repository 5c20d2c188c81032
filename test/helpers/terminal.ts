import { spawnSync } from 'node:child_process';
import { testPython } from './fixtures.js';

// Commands run in a real pseudo-terminal (Python's pty module), as a user at a keyboard runs them.

// Runs a command in a pseudo-terminal 120 columns wide and prints all it wrote there, then its exit status
// (negative: the signal that ended it). PTY_STEPS (JSON) scripts the keyboard: each step waits until the output
// written since the previous step's text contains its `waitFor`, then types `send` or sends `signal` (SIGINT).
const PTY_RUNNER = `
import fcntl, json, os, select, signal, struct, subprocess, sys, termios, time
steps = json.loads(os.environ.get('PTY_STEPS', '[]'))
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 30, 120, 0, 0))
child = subprocess.Popen(sys.argv[1:], stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
# The slave stays open here, so no read of the master fails before all the child wrote is read.
out = b''
seen = 0
deadline = time.monotonic() + 100
while True:
    ready, _, _ = select.select([master], [], [], 0.2)
    if ready:
        out += os.read(master, 65536)
        while steps:
            at = out.find(steps[0]['waitFor'].encode(), seen)
            if at < 0:
                break
            seen = at + len(steps[0]['waitFor'].encode())
            step = steps.pop(0)
            if 'send' in step:
                os.write(master, step['send'].encode())
            if step.get('signal') == 'SIGINT':
                child.send_signal(signal.SIGINT)
    elif child.poll() is not None:
        break
    if time.monotonic() > deadline:
        child.kill()
sys.stdout.buffer.write(out)
sys.stdout.buffer.write(b'\\nstatus %d' % child.returncode)
`;

export interface TerminalStep {
  /** Text the command writes (after the previous step's) before this step's keys or signal. */
  waitFor: string;
  /** Keys to type, e.g. 'hello\r' (Enter is '\r') or '\x03' (Ctrl-C). */
  send?: string;
  signal?: 'SIGINT';
}

/**
 * The environment of a user's terminal: colour unless NO_COLOR says otherwise. Nothing inherited forces or
 * limits it: not FORCE_COLOR, and not CI, with which Node's hasColors() reports 2 colours (as under CI=true).
 */
export function terminalEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  delete env.CI;
  return { ...env, ...extra };
}

/** Runs `argv` in a pseudo-terminal, typing `steps`; what it wrote there (stdout and stderr) and how it ended. */
export function runInTerminal(argv: string[], { env = {}, steps = [] }: { env?: Record<string, string>; steps?: TerminalStep[] } = {}) {
  const r = spawnSync(testPython(), ['-c', PTY_RUNNER, ...argv], {
    encoding: 'utf8',
    timeout: 120_000,
    env: terminalEnv({ ...env, PTY_STEPS: JSON.stringify(steps) }),
  });
  if (r.status !== 0) throw new Error(`the pty runner failed (${r.status}): ${r.stderr}`);
  const [, output, code] = /^([\s\S]*)\nstatus (-?\d+)$/.exec(r.stdout)!;
  return { code: Number(code), output };
}
