// The runtime of a Python environment: the official onnxruntime-genai wheel (0.18.0 in the pinned test venv)
// and its onnxruntime, found by asking the interpreter, loaded under the same rules as the npm builds. Loads run
// in child processes, since a process loads its runtime once.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuntimeLoadError } from '../src/errors.js';
import { resolveRuntimeLibraries } from '../src/runtime.js';
import { runTypeScriptChild } from './helpers/child.js';
import { fixtureModel, repoRoot, testPython } from './helpers/fixtures.js';

const python = testPython();
const sitePackages = path.join(repoRoot, '.cache', 'python', 'venv', 'lib', 'python3.11', 'site-packages');

/** Runs `body` (TypeScript, `m` = the package) in a fresh node process with `env` added; returns its stdout lines. */
function inChild(body: string, env: Record<string, string>): string[] {
  const child = runTypeScriptChild(
    `
    const m = await import(${JSON.stringify(path.join(repoRoot, 'src/index.ts'))});
    try { ${body} } catch (err) { console.log('ERROR ' + err.constructor.name + ': ' + err.message); }
  `,
    env,
  );
  expect(child.signal, child.err).toBeNull();
  expect(child.status, child.err).toBe(0);
  return child.out.split('\n');
}

describe('runtime libraries from a Python environment', () => {
  it('finds the wheel libraries and says where they came from, with their versions', () => {
    const libs = resolveRuntimeLibraries({ ORTGENAI_PYTHON: python });
    expect(libs).toEqual({
      ort: path.join(sitePackages, 'onnxruntime', 'capi', 'libonnxruntime.so.1.32.0'),
      genai: path.join(sitePackages, 'onnxruntime_genai', 'libonnxruntime-genai.so'),
      ortSource: `Python environment of '${python}' (onnxruntime 1.32.0)`,
      genaiSource: `Python environment of '${python}' (onnxruntime-genai 0.18.0)`,
      ortVersion: '1.32.0',
      genaiVersion: '0.18.0',
    });
    // The option is the same as the variable, and decides both libraries over the per-library variables.
    expect(resolveRuntimeLibraries({ ORTGENAI_LIB_DIR: '/nowhere' }, { python })).toEqual(libs);
  });

  it('names the interpreter and the install command when it lacks the package or cannot run', () => {
    // The machine's own python3 has no onnxruntime-genai (only the test venv has).
    expect(() => resolveRuntimeLibraries({ ORTGENAI_PYTHON: 'python3' })).toThrow(RuntimeLoadError);
    expect(() => resolveRuntimeLibraries({ ORTGENAI_PYTHON: 'python3' })).toThrow(
      "the Python environment of 'python3' has no onnxruntime_genai package; install it: 'python3 -m pip install onnxruntime-genai' (or point ORTGENAI_PYTHON at an interpreter that has it)",
    );
    expect(() => resolveRuntimeLibraries({ ORTGENAI_PYTHON: '/nowhere/python' })).toThrow(
      /^could not ask the Python interpreter '\/nowhere\/python' \(ORTGENAI_PYTHON\) where onnxruntime-genai is: .*ENOENT/,
    );
  });

  it('generates on the official 0.18.0 what the npm 0.15.2 build generates (greedy, counting model)', () => {
    const body = `
      const model = await m.Model.load(${JSON.stringify(fixtureModel('tiny-deterministic'))});
      console.log(JSON.stringify(Array.from((await model.generate('The the, and', { maxTokens: 8 })).tokens)));
      console.log(m.runtimeLibraries().genaiVersion);
      model.dispose();`;
    const [official, version] = inChild(body, { ORTGENAI_PYTHON: python });
    const [npm, npmVersion] = inChild(body, {});
    expect(version).toBe('0.18.0');
    expect(npmVersion).toBe('0.15.2');
    expect(JSON.parse(official)).toHaveLength(8);
    expect(official).toBe(npm);
  });

  it('takes the runtime as a Model.load option, and refuses to switch runtimes in a running process', () => {
    const model = JSON.stringify(fixtureModel('tiny-deterministic'));
    const [first, second] = inChild(
      `
      const a = await m.Model.load(${model}, { runtime: { python: ${JSON.stringify(python)} } });
      console.log(m.runtimeLibraries().genaiSource);
      await m.Model.load(${model}, { runtime: { python: 'python3' } });`,
      {},
    );
    expect(first).toBe(`Python environment of '${python}' (onnxruntime-genai 0.18.0)`);
    expect(second).toMatch(/^ERROR RuntimeLoadError: .*has no onnxruntime_genai package/);
    const [switched] = inChild(
      `
      await m.Model.load(${model});
      await m.Model.load(${model}, { runtime: { python: ${JSON.stringify(python)} } });`,
      {},
    );
    expect(switched).toMatch(/^ERROR RuntimeLoadError: the runtime is already loaded from .* in this process; it cannot be switched to /);
  });

  it('schedules with the 0.16+ Engine API on 0.18 what the 0.15 Engine API schedules on the npm build', () => {
    // Six requests at once (two static batches of 4 and 2), prompts of different lengths, greedy.
    const body = `
      const model = await m.Model.load(${JSON.stringify(fixtureModel('tiny-random'))}, { threads: 1 });
      const engine = await m.Engine.create(model);
      const prompts = Array.from({ length: 6 }, (_, i) => Array.from({ length: 2 + i }, (_, k) => 100 + 37 * k + 11 * i));
      const results = await Promise.all(prompts.map((p) => engine.generate(p, { maxTokens: 8 })));
      console.log(JSON.stringify(results.map((r) => Array.from(r.tokens))));
      engine.dispose();
      model.dispose();`;
    const [official] = inChild(body, { ORTGENAI_PYTHON: python });
    const [npm] = inChild(body, {});
    expect(JSON.parse(official).map((t: number[]) => t.length)).toEqual([8, 8, 8, 8, 8, 8]);
    expect(official).toBe(npm);
  });
});
