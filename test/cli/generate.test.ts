import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adapters, Model } from '../../src/index.js';
import { saveModel } from '../../src/mlflow/flavors/ortgenai.js';
import { buildModel, deterministicShiftAdapter, writeAdapter } from '../../src/modelbuilder/index.js';
import { fixtureModel, repoRoot } from '../helpers/fixtures.js';

// `ortgenai generate` as users run it: the built CLI (dist/, built by `npm test`'s pretest) in its own process.

const CLI = path.join(repoRoot, 'dist', 'cli', 'index.js');
const exec = promisify(execFile);
const PROMPT = 'The the, and';

interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], stdin?: string): Promise<Exit> {
  const child = spawn(process.execPath, [CLI, 'generate', ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdin.end(stdin ?? '');
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? -1));
  });
  return { code, stdout, stderr };
}

describe.each(['tiny-deterministic', 'tiny-random'] as const)('ortgenai generate on %s', (preset) => {
  const dir = fixtureModel(preset);
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(dir, { threads: 1 });
  });
  afterAll(() => model.dispose());

  it('streams exactly what model.generate returns, then a newline', async () => {
    const expected = await model.generate(PROMPT, { maxTokens: 12 });
    expect(expected.text.length).toBeGreaterThan(0);
    const { code, stdout, stderr } = await cli(['-m', dir, '-p', PROMPT, '--max-tokens', '12', '--threads', '1']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(`${expected.text}\n`);
  });

  it('generates with the ORT-GenAI folder an MLflow model holds', async () => {
    const saved = path.join(await mkdtemp(path.join(tmpdir(), 'ortgenai-cli-mlflow-')), 'model');
    try {
      await saveModel(saved, { model: dir });
      const expected = await model.generate(PROMPT, { maxTokens: 6 });
      const { code, stdout, stderr } = await cli(['-m', saved, '-p', PROMPT, '--max-tokens', '6']);
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(stdout).toBe(`${expected.text}\n`);
    } finally {
      await rm(path.dirname(saved), { recursive: true, force: true });
    }
  });

  it('reads the prompt from stdin, applies the chat template and stop strings, and reports --stats', async () => {
    const chat = model.tokenizer.applyChatTemplate([{ role: 'user', content: PROMPT }]);
    const full = await model.generate(chat, { maxTokens: 16 });
    // A stop string from the middle of the greedy output: the CLI must end right before it, like the library.
    const pieces = Array.from(full.tokens, (t) => model.tokenizer.decode([t]));
    const stop = pieces.find((p, i) => i >= 3 && p.trim().length > 0)!;
    const expected = await model.generate(chat, { maxTokens: 16, stop: [stop] });
    expect(expected.finishReason).toBe('stop');
    const { code, stdout, stderr } = await cli(['-m', dir, '-p', '-', '--chat', '--max-tokens', '16', '--stop', stop, '--stats'], PROMPT);
    expect(code).toBe(0);
    expect(stdout).toBe(`${expected.text}\n`);
    expect(stderr).toMatch(
      new RegExp(`^prompt ${expected.promptTokens} tokens, completion ${expected.completionTokens} tokens, [\\d.]+ tokens/s, finish: stop\\n$`),
    );
  });
});

describe('ortgenai generate --adapter', () => {
  let tmp: string;
  let model: Model;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'ortgenai-cli-lora-'));
    await buildModel({ preset: 'tiny-deterministic', outDir: path.join(tmp, 'model'), lora: true });
    await writeAdapter(path.join(tmp, 'plus5.onnx_adapter'), deterministicShiftAdapter(4, 2));
    model = await Model.load(path.join(tmp, 'model'), { threads: 1 });
  });
  afterAll(async () => {
    model?.dispose();
    await rm(tmp, { recursive: true, force: true });
  });

  it('generates with the adapter, as model.generate does with it active', async () => {
    using adapters = new Adapters(model);
    await adapters.loadAdapter(path.join(tmp, 'plus5.onnx_adapter'), 'plus5');
    const plain = await model.generate(PROMPT, { maxTokens: 8 });
    const shifted = await model.generate(PROMPT, { maxTokens: 8, adapter: { adapters, name: 'plus5' } });
    expect(shifted.text).not.toBe(plain.text);
    const args = ['-m', path.join(tmp, 'model'), '-p', PROMPT, '--max-tokens', '8', '--threads', '1'];
    const { code, stdout, stderr } = await cli([...args, '--adapter', path.join(tmp, 'plus5.onnx_adapter')]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(`${shifted.text}\n`);
  });

  it('names an adapter file that is missing', async () => {
    const gone = path.join(tmp, 'gone.onnx_adapter');
    const { code, stdout, stderr } = await cli(['-m', path.join(tmp, 'model'), '-p', PROMPT, '--adapter', gone]);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toBe(`ortgenai generate: cannot load adapter 'cli' from ${gone}: no such file\n`);
  });
});

describe('ortgenai generate errors', () => {
  const dir = fixtureModel('tiny-random');

  it('rejects an unknown flag with the usage text and exit code 2', async () => {
    const { code, stdout, stderr } = await cli(['-m', dir, '-p', 'hi', '--max-token', '3']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain("ortgenai generate: Unknown option '--max-token'");
    expect(stderr).toContain('usage: ortgenai generate -m <ORT-GenAI model folder | MLflow model URI> -p <prompt>');
  });

  it('rejects a non-numeric or out-of-range --max-tokens and a missing --model', async () => {
    const bad = await cli(['-m', dir, '-p', 'hi', '--max-tokens', 'lots']);
    // A malformed value is a usage error (2); a value the API refuses is a failure of the command (1).
    expect(bad).toEqual({ code: 2, stdout: '', stderr: "ortgenai generate: --max-tokens must be an integer, got 'lots'\n" });
    const range = await cli(['-m', dir, '-p', 'hi', '--max-tokens', '0']);
    expect(range.code).toBe(1);
    expect(range.stderr).toMatch(/^ortgenai generate: invalid generate option: maxTokens: /);
    const missing = await cli(['-p', 'hi']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--model and --prompt are required');
  });

  it('names a missing model folder and one without genai_config.json', async () => {
    const gone = path.join(repoRoot, '.cache', 'no-such-model');
    const missing = await cli(['-m', gone, '-p', 'hi']);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: `ortgenai generate: model folder not found: ${gone}\n` });
    const notModel = await cli(['-m', path.join(repoRoot, 'test'), '-p', 'hi']);
    expect(notModel.code).toBe(1);
    expect(notModel.stderr).toBe(
      `ortgenai generate: ${path.join(repoRoot, 'test')} is not an ORT-GenAI model folder: it has no genai_config.json\n`,
    );
  });

  it('prints its usage for --help and exits 0', async () => {
    const { stdout, stderr } = await exec(process.execPath, [CLI, 'generate', '--help'], { cwd: repoRoot });
    expect(stderr).toBe('');
    expect(stdout).toContain('--max-tokens <n>');
  });
});
