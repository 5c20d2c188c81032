import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/make-model.js';
import { AbortError, ValidationError } from '../../src/errors.js';
import { buildModel } from '../../src/modelbuilder/index.js';
import { readOnnxModel } from '../../src/modelbuilder/onnx/reader.js';
import { repoRoot } from '../helpers/fixtures.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ortgenai-make-model-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('make-model', () => {
  it('rejects an unknown preset and names the valid ones', async () => {
    const err = await run(['--preset', 'gpt-5', '--out', path.join(tmp, 'x')]).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/unknown preset 'gpt-5'.*tiny-deterministic, tiny-random, small, phi3-mini/);
  });

  it('rejects an output folder that cannot be created', async () => {
    const file = path.join(tmp, 'a-file');
    await writeFile(file, 'not a folder');
    const err = await run(['--preset', 'tiny-deterministic', '--out', path.join(file, 'model')]).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/output folder .*a-file.model is not writable/);
    // Where mkdir fails with ENOENT under an existing parent (Node's own recursive mkdir loops forever there).
    const proc = await run(['--preset', 'tiny-deterministic', '--out', '/proc/ortgenai-model/x']).catch((e) => e);
    expect(proc).toBeInstanceOf(ValidationError);
    expect(proc.message).toMatch(/output folder \/proc\/ortgenai-model\/x is not writable/);
  });

  it('refuses to write into a non-empty folder unless forced', async () => {
    const out = path.join(tmp, 'busy');
    await run(['--preset', 'tiny-deterministic', '--out', out]);
    const err = await run(['--preset', 'tiny-deterministic', '--out', out]).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/not empty.*--force/);
    await run(['--preset', 'tiny-deterministic', '--out', out, '--force']);
    expect((await readdir(out)).sort()).toEqual(['genai_config.json', 'model.onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
  });

  it('rejects bad flags', async () => {
    await expect(run(['--preset', 'tiny-random'])).rejects.toThrow(ValidationError);
    await expect(run(['--preset', 'tiny-random', '--out', tmp, '--seed', '1.5'])).rejects.toThrow(/--seed must be a non-negative integer/);
    await expect(run(['--preset', 'tiny-random', '--out', tmp, '--bogus'])).rejects.toThrow(ValidationError);
    await expect(run(['--preset', 'tiny-random', '--out', tmp, '--tokenizer', 'llama'])).rejects.toThrow(
      /unknown tokenizer 'llama' \(expected one of: gpt2-phi3, gpt2-phi3-32k\)/,
    );
  });

  it('--lora gives tiny-deterministic LoRA inputs with rank-0 defaults, and is refused for other presets', async () => {
    const out = path.join(tmp, 'lora');
    await run(['--preset', 'tiny-deterministic', '--out', out, '--lora']);
    const model = await readOnnxModel(path.join(out, 'model.onnx'));
    const inputs = (model.proto.graph?.input ?? []).map((i) => i.name);
    for (const name of ['lm_head.lora_A.MatMul.weight', 'lm_head.lora_B.MatMul.weight']) {
      expect(inputs).toContain(name);
      expect(model.tensor(name).bytes.byteLength).toBe(0);
    }
    await expect(run(['--preset', 'tiny-random', '--out', path.join(tmp, 'lora-random'), '--lora'])).rejects.toThrow(
      /lora is available for tiny-deterministic only, not 'tiny-random'/,
    );
  });

  it('is deterministic in the seed', async () => {
    const build = async (name: string, seed: number) => {
      const built = await buildModel({ preset: 'tiny-random', outDir: path.join(tmp, name), seed });
      return readFile(path.join(built.dir, 'model.onnx'));
    };
    const [a, b, c] = await Promise.all([build('s1', 7), build('s2', 7), build('s3', 8)]);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });

  it('exits non-zero with the message when run as a process', async () => {
    const cli = path.join(repoRoot, 'src/cli/index.ts');
    const err = await promisify(execFile)(process.execPath, ['--import', 'tsx', cli, 'make-model', '--preset', 'nope', '--out', tmp], { cwd: repoRoot })
      .catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toContain("ortgenai make-model: invalid model build options: preset: unknown preset 'nope'");
  });

  it('prints the plan and progress when it builds', async () => {
    const cli = path.join(repoRoot, 'src/cli/index.ts');
    const { stderr, stdout } = await promisify(execFile)(
      process.execPath, ['--import', 'tsx', cli, 'make-model', '--preset', 'tiny-random', '--out', path.join(tmp, 'cli')], { cwd: repoRoot });
    expect(stderr).toMatch(/tiny-random: \d+\.\dM parameters, vocab \d+, 2 layers, seed 42/);
    expect(stderr).toMatch(/needs [\d.]+ MB of disk, about/);
    expect(stderr).toContain('100%');
    expect(stdout).toContain(`wrote tiny-random to ${path.join(tmp, 'cli')}`);
  });

  it('builds a preset with another tokenizer, its vocabulary following it', async () => {
    const out = path.join(tmp, 'tokenizer-32k');
    await run(['--preset', 'tiny-deterministic', '--out', out, '--tokenizer', 'gpt2-phi3-32k']);
    const config = JSON.parse(await readFile(path.join(out, 'genai_config.json'), 'utf8'));
    expect(config.model).toMatchObject({ vocab_size: 32064, pad_token_id: 32000 });
    expect(JSON.parse(await readFile(path.join(out, 'tokenizer.json'), 'utf8')).added_tokens).toHaveLength(11);
  });
});

describe('buildModel', () => {
  it('stops a large build between chunks when its signal aborts, leaving no loadable folder', async () => {
    const out = path.join(tmp, 'aborted');
    const controller = new AbortController();
    let written = 0;
    const err = await buildModel({
      preset: 'small',
      outDir: out,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type !== 'write') return;
        written = e.bytesWritten;
        controller.abort();
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(written).toBeLessThan(2 << 20);
    expect((await readdir(tmp)).filter((n) => n.includes('aborted'))).toEqual([]); // neither the folder nor its staging
  });

  it('leaves a forced rebuild\'s other files alone and replaces only the model\'s', async () => {
    const out = path.join(tmp, 'forced');
    await buildModel({ preset: 'tiny-deterministic', outDir: out });
    await writeFile(path.join(out, 'notes.txt'), 'mine');
    await writeFile(path.join(out, 'model.onnx.data'), 'stale weights of an older, larger build');
    const built = await buildModel({ preset: 'tiny-deterministic', outDir: out, force: true });
    expect((await readdir(out)).sort()).toEqual([...built.files.map((f) => path.basename(f)), 'notes.txt'].sort());
    expect((await readdir(tmp)).filter((n) => n.startsWith('.forced'))).toEqual([]);
  });
});

describe('make-model interrupted', () => {
  it('removes everything it wrote when the process gets SIGINT mid-build', async () => {
    const parent = await mkdtemp(path.join(tmp, 'interrupted-'));
    const cli = path.join(repoRoot, 'src/cli/index.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'make-model', '--preset', 'small', '--out', path.join(parent, 'model')], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let interrupted = false;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (!interrupted && /^writing weights 0% /m.test(stderr)) interrupted = child.kill('SIGINT'); // weights are being written
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(stderr).toContain('ortgenai make-model: model build aborted');
    expect(code).toBe(1);
    expect(await readdir(parent)).toEqual([]);
  });
});
