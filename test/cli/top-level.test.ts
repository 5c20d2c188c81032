import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MLModel, pyfunc } from '../../src/mlflow/index.js';
import { fixtureModel, repoRoot } from '../helpers/fixtures.js';

// The `ortgenai` command itself, as users run it: the built CLI in its own process.
const CLI = path.join(repoRoot, 'dist', 'cli', 'index.js');
const VERSION = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

function ortgenai(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ortgenai', () => {
  it('prints its version for --version, -v and version', () => {
    for (const flag of ['--version', '-v', 'version']) expect(ortgenai(flag)).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('lists every command with a one-line description, and the exit codes', () => {
    const help = ortgenai('help');
    expect(help.code).toBe(0);
    for (const name of ['make-model', 'generate', 'demo', 'bench', 'serve', 'pyfunc-worker']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${name} +\\S.{20,}$`, 'm'));
    }
    expect(help.stdout).toContain('Exit codes: 0 done; 1 the command failed (the message says why); 2 the command line is wrong');
    expect(ortgenai('--help').stdout).toBe(help.stdout);
    // With no command at all it is a usage error.
    expect(ortgenai()).toMatchObject({ code: 2, stdout: help.stdout });
  });

  it("'help <command>' is '<command> --help'", () => {
    const help = ortgenai('help', 'serve');
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(ortgenai('serve', '--help').stdout);
    expect(help.stdout).toMatch(/^usage: ortgenai serve /);
  });

  it('names the command it thinks was meant, and exits 2', () => {
    const r = ortgenai('genrate', '-m', 'x');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ortgenai: unknown command 'genrate' \(did you mean 'generate'\?\)\n\nusage: ortgenai/);
    expect(ortgenai('frobnicate').stderr).toMatch(/^ortgenai: unknown command 'frobnicate'\n/);
  });
});

describe('command flags', () => {
  it('take negative numbers as values, so the API range check answers', () => {
    const r = ortgenai('generate', '-m', fixtureModel('tiny-random'), '-p', 'hi', '--temperature', '-1');
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('ambiguous');
    expect(r.stderr).toMatch(/temperature: Too small: expected number to be >=0/);
  });

  it("check ranges with the API's own schemas and words, before any model is built or loaded (exit 1)", () => {
    expect(ortgenai('demo', '--max-tokens', '0')).toEqual({ code: 1, stdout: '', stderr: 'ortgenai demo: Invalid model config: max_tokens: Too small: expected number to be >=1\n' });
    expect(ortgenai('serve', '-m', fixtureModel('tiny-random'), '--concurrency', '0')).toEqual({
      code: 1, stdout: '', stderr: 'ortgenai serve: Invalid server options: concurrency: Too small: expected number to be >=1\n',
    });
    expect(ortgenai('generate', '-m', fixtureModel('tiny-random'), '-p', 'hi', '--top-p', '2').stderr).toBe('ortgenai generate: invalid generate option: topP: Too big: expected number to be <=1\n');
  });

  it('name the flag that was probably meant', () => {
    const r = ortgenai('generate', '-m', 'nowhere', '-p', 'hi', '--max-token', '3');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ortgenai generate: Unknown option '--max-token' \(did you mean '--max-tokens'\?\)/);
  });

  it('-m/--model names the model on serve too; --model-uri, as in mlflow models serve, is the same', () => {
    for (const flag of ['-m', '--model', '--model-uri']) {
      const r = ortgenai('serve', flag, path.join(repoRoot, 'no-such-model'), '--port', '0');
      expect(r.code, flag).toBe(1);
      expect(r.stderr, flag).not.toContain('is required');
      expect(r.stderr, flag).toContain('no-such-model');
    }
  });
});

describe('ortgenai save', () => {
  it('packages an ORT-GenAI folder as an MLflow model that pyfunc loads, chat by default', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'ortgenai-save-')), 'chat');
    expect(ortgenai('save', fixtureModel('tiny-random'), '--out', out)).toMatchObject({ code: 0 });
    const chat = await MLModel.load(out);
    expect(chat.metadata).toEqual({ task: 'llm/v1/chat' });
    const plain = path.join(path.dirname(out), 'plain');
    expect(ortgenai('save', fixtureModel('tiny-random'), '-o', plain, '--task', 'none', '--max-tokens', '3')).toMatchObject({ code: 0 });
    const model = await pyfunc.loadModel(plain);
    try {
      const [text] = (await model.predict({ prompt: 'The the, and' })) as string[];
      expect(model.modelConfig).toEqual({ max_tokens: 3 });
      expect(typeof text).toBe('string');
    } finally {
      await model.dispose();
    }
  });

  it('refuses what it cannot package, with the API\'s messages', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'ortgenai-save-')), 'x');
    expect(ortgenai('save', fixtureModel('tiny-random'), '-o', out, '--task', 'chat')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--task must be one of llm\/v1\/chat, llm\/v1\/completions, none, got 'chat'/),
    });
    expect(ortgenai('save', '/nowhere', '-o', out)).toMatchObject({ code: 1, stderr: "ortgenai save: '/nowhere' is not an ORT-GenAI model folder: it has no genai_config.json\n" });
    expect(ortgenai('save', fixtureModel('tiny-random'), '-o', out, '--max-tokens', '-3').stderr).toMatch(/max_tokens: Too small: expected number to be >=1/);
    expect(ortgenai('save', '-o', out)).toMatchObject({ code: 2, stderr: expect.stringMatching(/the model folder and one of --out or --log are required/) });
    expect(ortgenai('save', fixtureModel('tiny-random'), '-o', out, '--log', 'model').code).toBe(2);
    expect(ortgenai('save', fixtureModel('tiny-random'), '-o', out, '--run-id', 'abc').stderr).toMatch(/--run-id is only used with --log/);
  });
});
