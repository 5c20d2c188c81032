import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatSession, Model } from '../../src/index.js';
import { saveModel } from '../../src/mlflow/flavors/ortgenai.js';
import { fixtureModel, repoRoot } from '../helpers/fixtures.js';
import { runInTerminal } from '../helpers/terminal.js';

// `ortgenai chat` in real processes: through pipes (a script feeding it lines) and in a real pseudo-terminal (a
// person typing, Ctrl-C included). Answers are checked against the API's ChatSession on the same model.

const CLI = path.join(repoRoot, 'dist', 'cli', 'index.js');
const RANDOM = fixtureModel('tiny-random');

function piped(args: string[], input: string) {
  const r = spawnSync(process.execPath, [CLI, 'chat', ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What ChatSession answers to `script`: messages, or `(session) => void` steps (/system, /reset). */
async function expectedAnswers(dir: string, maxTokens: number, script: (string | ((s: ChatSession) => void))[]): Promise<string[]> {
  using model = await Model.load(dir, { threads: 1 });
  using session = await ChatSession.create(model, { maxTokens });
  const answers: string[] = [];
  for (const step of script) {
    if (typeof step === 'string') answers.push((await session.generate(step)).text);
    else step(session);
  }
  return answers;
}

describe('ortgenai chat through pipes', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'ortgenai-chat-'));
  });

  it('answers line by line on stdout, keeps the history, and takes /system, /reset and /exit', async () => {
    const input = 'Hello there\nAnd again?\n/system Be brief.\nThird one\n/reset\nFourth\n/exit\nnever read\n';
    const { code, stdout, stderr } = piped(['-m', RANDOM, '--max-tokens', '8', '--stats'], input);
    expect(code, stderr).toBe(0);
    const answers = await expectedAnswers(RANDOM, 8, [
      'Hello there',
      'And again?',
      (s) => (s.systemPrompt = 'Be brief.'),
      'Third one',
      (s) => s.reset(),
      'Fourth',
    ]);
    expect(stdout).toBe(answers.map((a) => `${a}\n`).join(''));
    // Nothing interactive in a pipe: no prompt, no greeting; the stats lines go to stderr, one per answer.
    const stats = stderr.split('\n').filter((l) => l.startsWith('prompt '));
    expect(stats).toHaveLength(4);
    expect(stats[1]).toMatch(/^prompt \d+ tokens \(([1-9]\d*) reused, \d+ prefilled\), 8 generated, TTFT [\d.]+ ms, finish: length/);
    expect(stderr).not.toContain('> ');
  });

  it('chats with the ORT-GenAI folder an MLflow model holds, by folder and by file: URI', async () => {
    const saved = path.join(root, 'mlflow-chat');
    await saveModel(saved, { model: RANDOM, task: 'llm/v1/chat' });
    const [answer] = await expectedAnswers(RANDOM, 6, ['Hello there']);
    for (const uri of [saved, pathToFileURL(saved).href]) {
      const { code, stdout, stderr } = piped(['-m', uri, '--max-tokens', '6'], 'Hello there\n');
      expect(code, stderr).toBe(0);
      expect(stdout).toBe(`${answer}\n`);
    }
  });

  it('stops an answer on SIGINT, answers the next line, and ends at EOF', async () => {
    const child = spawn(process.execPath, [CLI, 'chat', '-m', fixtureModel('tiny-deterministic'), '--max-tokens', '2000', '--stats'], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const firstChunk = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stdin.write('Hello there\n');
    await firstChunk;
    child.kill('SIGINT');
    child.stdin.end('Once more\n');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    const finishes = [...stderr.matchAll(/(\d+) generated, .*finish: (\w+)/g)].map((m) => [Number(m[1]), m[2]]);
    expect(finishes).toHaveLength(2);
    expect(finishes[0][1]).toBe('abort');
    expect(finishes[0][0]).toBeLessThan(2000);
    expect(finishes[1]).toEqual([2000, 'length']);
    expect(stdout.endsWith('\n')).toBe(true);
  });

  it('refuses bad flags with the words of the API, before loading anything', () => {
    const typo = piped(['-m', RANDOM, '--max-token', '5'], '');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("did you mean '--max-tokens'?");
    const range = piped(['-m', RANDOM, '--temperature', '-1'], '');
    expect(range.code).toBe(1);
    expect(range.stderr).toMatch(/temperature/);
    const context = piped(['-m', RANDOM, '--context-length', '9999'], '');
    expect(context.code).toBe(1);
    expect(context.stderr).toContain("contextLength 9999 exceeds the model's context_length 512");
    const none = piped([], '');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('-m/--model is required');
  });
});

describe('ortgenai chat in a terminal', () => {
  const DETERMINISTIC = fixtureModel('tiny-deterministic');
  let expected: string[];
  beforeAll(async () => {
    expected = await expectedAnswers(DETERMINISTIC, 40, ['Hello there', 'And again?']);
  });

  it('streams answers at a prompt, takes /system and /reset, Ctrl-C stops an answer and not the program, /exit leaves', () => {
    const { code, output } = runInTerminal([process.execPath, CLI, 'chat', '-m', DETERMINISTIC, '--max-tokens', '40', '--stats'], {
      steps: [
        { waitFor: '> ', send: 'Hello there\r' },
        { waitFor: '> ', send: 'And again?\r' },
        { waitFor: '> ', send: '/system Be brief.\r' },
        { waitFor: '(system prompt set)' },
        { waitFor: '> ', send: '/reset\r' },
        { waitFor: '(conversation forgotten)' },
        { waitFor: '> ', send: '/help\r' },
        { waitFor: '/exit' },
        { waitFor: '> ', send: '/exit\r' },
      ],
    });
    expect(code, output).toBe(0);
    const plain = output.replace(/\r/g, '');
    expect(plain).toContain(`Hello there\n${expected[0]}\n`);
    expect(plain).toContain(`And again?\n${expected[1]}\n`);
    expect(plain).toContain("Type a message; '/help' lists the commands.");
    expect(plain).toContain('Ctrl-C during an answer stops the answer');
  });

  it('Ctrl-C during an answer stops it; the next question is answered; Ctrl-C at the prompt exits cleanly', async () => {
    // Ctrl-C once the answer has begun: its first characters are known from the API.
    const [answer] = await expectedAnswers(DETERMINISTIC, 8, ['Count for me']);
    const { code, output } = runInTerminal([process.execPath, CLI, 'chat', '-m', DETERMINISTIC, '--max-tokens', '2000', '--stats'], {
      steps: [
        { waitFor: '> ', send: 'Count for me\r' },
        { waitFor: `Count for me\r\r\n${answer.slice(0, 6)}`, send: '\x03' },
        { waitFor: '(stopped)' },
        { waitFor: '> ', send: 'Once more\r' },
        { waitFor: 'finish: length' },
        { waitFor: '> ', send: '\x03' },
      ],
    });
    expect(code, output).toBe(0);
    const finishes = [...output.matchAll(/(\d+) generated, .*finish: (\w+)/g)].map((m) => [Number(m[1]) < 2000 ? 'cut' : 'all', m[2]]);
    expect(finishes, output).toEqual([['cut', 'abort'], ['all', 'length']]);
  });

  it('Ctrl-D (end of input) at the prompt exits cleanly', () => {
    const { code, output } = runInTerminal([process.execPath, CLI, 'chat', '-m', DETERMINISTIC], { steps: [{ waitFor: '> ', send: '\x04' }] });
    expect(code, output).toBe(0);
  });
});
