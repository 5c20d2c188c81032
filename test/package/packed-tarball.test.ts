// The package as a consumer gets it: `npm pack` (whose prepack runs prebuildify), installed from the tarball into
// a fresh project with --ignore-scripts and nothing but node on PATH (no compiler, no make, no python, no shell),
// together with the per-platform runtime package packed from npm/runtime-linux-x64. Then it must generate, save
// and load an MLflow model; its bench must fail loudly for runners it cannot run; and when the prebuilt addon is
// missing, the command the load error suggests must rebuild it there.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../src/index.js';
import { RUNTIME_PACKAGE } from '../../src/runtime.js';
import { fixtureModel, repoRoot } from '../helpers/fixtures.js';

const SLOW = 15 * 60_000; // packing compiles the addon, installing copies ~650 MB of runtime packages on 2 cores

/** npm's own CLI script (found through PATH), so npm can run with a PATH that has only node on it. */
function npmCli(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const npm = path.join(dir, 'npm');
    if (existsSync(npm)) return realpathSync(npm);
  }
  throw new Error('npm is not on PATH');
}

let scratch: string;
let project: string;
let installed: string;
let bareEnv: NodeJS.ProcessEnv;

/** Packs the package in `dir` into scratch; returns the tarball's path. */
function pack(dir: string): string {
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', scratch], { cwd: dir, encoding: 'utf8' });
  return path.join(scratch, out.trim().split('\n').at(-1)!);
}

/** Runs `args` with node in the consumer project, with only node on PATH. */
function nodeInProject(args: string[], env: NodeJS.ProcessEnv = bareEnv) {
  return spawnSync(process.execPath, args, { cwd: project, env, encoding: 'utf8' });
}

const CONSUMER = `
import { Model, runtimeLibraries } from 'ortgenai-node';
import { ortgenai, pyfunc } from 'ortgenai-node/mlflow';
const [modelDir, mlflowDir] = process.argv.slice(2);
const model = await Model.load(modelDir);
const generated = await model.generate('Hello', { maxTokens: 6, temperature: 0 });
model.dispose();
await ortgenai.saveModel(mlflowDir, { model: modelDir, task: 'llm/v1/chat', modelConfig: { max_tokens: 4, temperature: 0 } });
const chat = await pyfunc.loadModel(mlflowDir);
const [reply] = await chat.predict([{ messages: [{ role: 'user', content: 'Hi' }] }]);
await chat.dispose();
console.log(JSON.stringify({ tokens: Array.from(generated.tokens), libraries: runtimeLibraries(), reply }));
`;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'ortgenai-packed-'));
  const tarball = pack(repoRoot);
  const runtimeTarball = pack(path.join(repoRoot, 'npm', 'runtime-linux-x64'));

  const bin = path.join(scratch, 'bin');
  await mkdir(bin);
  await symlink(process.execPath, path.join(bin, 'node'));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin };
  for (const name of ['ORTGENAI_PYTHON', 'ORT_LIB_PATH', 'ORT_LIB_DIR', 'ORTGENAI_LIB_PATH', 'ORTGENAI_LIB_DIR']) delete env[name];
  bareEnv = env;

  project = path.join(scratch, 'consumer');
  await mkdir(project);
  await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await writeFile(path.join(project, 'consumer.mjs'), CONSUMER);
  execFileSync(process.execPath, [npmCli(), 'install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball, runtimeTarball], {
    cwd: project,
    env: bareEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  installed = path.join(project, 'node_modules', 'ortgenai-node');
}, SLOW);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the packed package, installed with --ignore-scripts and no compiler', () => {
  it('ships a prebuilt addon and nothing that builds what is not shipped', () => {
    expect(readdirSync(path.join(installed, 'prebuilds', 'linux-x64')).filter((f) => f.endsWith('.node'))).toHaveLength(1);
    expect(existsSync(path.join(installed, 'build'))).toBe(false); // nothing was compiled
    // The published build file builds only published sources (the C++ reference programs stay in test/).
    const sources = [...readFileSync(path.join(installed, 'binding.gyp'), 'utf8').matchAll(/"([\w/.-]+\.cc)"/g)].map((m) => m[1]);
    expect(sources).toContain('native/addon.cc');
    for (const source of sources) expect(existsSync(path.join(installed, source)), source).toBe(true);
    expect(existsSync(path.join(installed, 'test'))).toBe(false);
    for (const file of ['LICENSE', 'CHANGELOG.md', 'README.md']) expect(existsSync(path.join(installed, file)), file).toBe(true);
  });

  it('generates what the checkout generates, and saves and loads an MLflow chat model', async () => {
    const mlflowDir = path.join(scratch, 'chat-model');
    const run = nodeInProject(['consumer.mjs', fixtureModel('tiny-deterministic'), mlflowDir]);
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as {
      tokens: number[];
      libraries: { ort: string; genai: string };
      reply: { object: string; choices: { message: { role: string } }[]; usage: { completion_tokens: number } };
    };
    const model = await Model.load(fixtureModel('tiny-deterministic'));
    try {
      expect(out.tokens).toEqual(Array.from((await model.generate('Hello', { maxTokens: 6, temperature: 0 })).tokens));
    } finally {
      model.dispose();
    }
    const runtimeLib = path.join(project, 'node_modules', RUNTIME_PACKAGE, 'lib');
    expect(out.libraries).toEqual({
      ort: path.join(runtimeLib, 'libonnxruntime.so'),
      genai: path.join(runtimeLib, 'libonnxruntime-genai.so'),
      ortSource: "npm package '@ortgenai-node/runtime-linux-x64'",
      genaiSource: "npm package '@ortgenai-node/runtime-linux-x64'",
      genaiVersion: '0.15.2',
    });
    expect(out.reply.object).toBe('chat.completion');
    expect(out.reply.choices[0].message.role).toBe('assistant');
    expect(out.reply.usage.completion_tokens).toBeGreaterThan(0);
    expect(statSync(path.join(mlflowDir, 'MLmodel')).isFile()).toBe(true);
  });

  it('runs the demo through the installed bin', () => {
    const run = nodeInProject([path.join(project, 'node_modules', '.bin', 'ortgenai'), 'demo', '--max-tokens', '4']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('5. predict() returned a chat.completion');
  });

  it('bench exits 1 for runners it cannot run there, saying how to get each', () => {
    const run = nodeInProject([
      path.join(installed, 'dist', 'cli', 'index.js'), 'bench', '-m', fixtureModel('tiny-random'), '--runners', 'native,ort-loop,transformersjs',
      '--prompt-tokens', '4', '--gen-tokens', '2', '--repeat', '1', '--warmup', '0', '--threads', '1', '--cache-dir', scratch,
    ]);
    expect(run.status).toBe(1);
    const failed = /ortgenai bench: requested runners could not run: (.*) \(see above/.exec(run.stderr)?.[1];
    expect(failed?.split(', ').sort()).toEqual(['native', 'ort-loop', 'transformersjs']);
    const output = run.stdout + run.stderr;
    expect(output).toContain("run 'npm run build:reference' in a checkout of ortgenai-node");
    expect(output).toMatch(/the ort-loop runner needs 'onnxruntime-node', which is not installed: npm install onnxruntime-node@'\^1\.\d+/);
    expect(output).toMatch(/the transformersjs runner needs '@huggingface\/transformers', which is not installed: npm install @huggingface\/transformers@'\^/);
  });

  it('without the prebuilt addon, fails with a RuntimeLoadError whose suggested command rebuilds it in the project', async () => {
    const prebuilds = path.join(installed, 'prebuilds');
    await rename(prebuilds, `${prebuilds}.away`);
    const failed = nodeInProject(['consumer.mjs', fixtureModel('tiny-deterministic'), path.join(scratch, 'chat-model-2')]);
    expect(failed.status).toBe(1);
    const command = /'(npm rebuild ortgenai-node [^']*)'/.exec(failed.stderr)?.[1];
    expect(failed.stderr).toContain('RuntimeLoadError');
    expect(command).toBe('npm rebuild ortgenai-node --ignore-scripts=false');

    // Run exactly that command, now with the machine's PATH (building needs a compiler).
    const [npm, ...args] = command!.split(' ');
    execFileSync(npm, args, { cwd: project, stdio: ['ignore', 'ignore', 'inherit'] });
    expect(existsSync(path.join(installed, 'build', 'Release', 'ortgenai.node'))).toBe(true);
    const rebuilt = nodeInProject(['consumer.mjs', fixtureModel('tiny-deterministic'), path.join(scratch, 'chat-model-3')]);
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
  }, SLOW);
});
