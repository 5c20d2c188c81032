// The loader's promise: a missing or wrong runtime library is a RuntimeLoadError naming what was looked for and
// where, never a process abort. Each case runs in a child process, since a process loads the runtime only once.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRuntimeLibraries } from '../src/runtime.js';
import { fixtureModel } from './helpers/fixtures.js';

const repo = path.resolve(import.meta.dirname, '..');
const libs = resolveRuntimeLibraries({});

/** Loads a model in a fresh node process with `env` added; returns what it printed and how it exited. */
function loadInChild(env: Record<string, string>) {
  const script = `
    import { Model, RuntimeLoadError } from ${JSON.stringify(path.join(repo, 'src/index.ts'))};
    try {
      const m = await Model.load(${JSON.stringify(fixtureModel('tiny-random'))});
      console.log('LOADED ' + m.type);
    } catch (err) {
      console.log((err instanceof RuntimeLoadError ? 'RuntimeLoadError: ' : 'OTHER ' + err.name + ': ') + err.message);
    }
  `;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ortgenai-runtime-')), 'child.mts');
  writeFileSync(file, script);
  const child = spawnSync(process.execPath, ['--import', 'tsx', file], {
    cwd: repo,
    env: { ...process.env, ORTGENAI_PYTHON: '', ORTGENAI_LIB_PATH: '', ORTGENAI_LIB_DIR: '', ORT_LIB_PATH: '', ORT_LIB_DIR: '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { out: child.stdout.trim(), err: child.stderr, status: child.status, signal: child.signal };
}

describe('runtime library resolution', () => {
  it('finds both libraries in the npm packages by default', () => {
    expect(libs.ort).toMatch(/com\.github\.asus4\.onnxruntime\/Plugins\/Linux\/x64\/libonnxruntime\.so$/);
    expect(libs.genai).toMatch(/com\.github\.asus4\.onnxruntime-genai\/Plugins\/Linux\/x64\/libonnxruntime-genai\.so$/);
  });

  it('honours the directory and path overrides', () => {
    const r = resolveRuntimeLibraries({ ORT_LIB_DIR: path.dirname(libs.ort), ORTGENAI_LIB_PATH: libs.genai });
    expect(r).toEqual({ ort: libs.ort, genai: libs.genai, ortSource: 'ORT_LIB_DIR', genaiSource: 'ORTGENAI_LIB_PATH' });
    expect(libs.genaiSource).toBe("npm package 'com.github.asus4.onnxruntime-genai'");
  });

  it('names the variable and the file when an override points nowhere', () => {
    expect(() => resolveRuntimeLibraries({ ORTGENAI_LIB_DIR: '/nowhere' })).toThrow(
      'ORT-GenAI library not found: looked for /nowhere/libonnxruntime-genai.so (from ORTGENAI_LIB_DIR)',
    );
    expect(() => resolveRuntimeLibraries({ ORT_LIB_PATH: '/nowhere/libonnxruntime.so.1' })).toThrow(
      /ONNX Runtime library not found: looked for \/nowhere\/libonnxruntime\.so\.1 \(from ORT_LIB_PATH\)/,
    );
  });
});

describe('runtime loading in a child process', () => {
  it('loads and runs with the default libraries', () => {
    const r = loadInChild({});
    expect(r.out).toMatch(/^LOADED /);
    expect(r.status).toBe(0);
  });

  it('reports hidden ORT-GenAI libraries as a RuntimeLoadError and exits normally', () => {
    const r = loadInChild({ ORTGENAI_LIB_DIR: '/tmp/no-genai-here' });
    expect(r.out).toBe(
      'RuntimeLoadError: ORT-GenAI library not found: looked for /tmp/no-genai-here/libonnxruntime-genai.so (from ORTGENAI_LIB_DIR)',
    );
    expect(r.status).toBe(0);
    expect(r.signal).toBeNull();
  });

  it('reports hidden ONNX Runtime as a RuntimeLoadError instead of letting ORT-GenAI abort', () => {
    const r = loadInChild({ ORT_LIB_PATH: '/tmp/no-ort-here/libonnxruntime.so' });
    expect(r.out).toMatch(/^RuntimeLoadError: ONNX Runtime library not found: looked for \/tmp\/no-ort-here/);
    expect(r.status).toBe(0);
  });

  it('rejects a library that is not ONNX Runtime', () => {
    const r = loadInChild({ ORT_LIB_PATH: libs.genai });
    // ORT-GenAI's own static initializers abort when ONNX Runtime is missing, so this must be caught before dlopen.
    expect(r.out).toBe(`RuntimeLoadError: ${libs.genai} is not an ONNX Runtime library (it does not export OrtGetApiBase)`);
    expect(r.status).toBe(0);
  });

  it('rejects a library that is not ORT-GenAI', () => {
    const r = loadInChild({ ORTGENAI_LIB_PATH: libs.ort });
    expect(r.out).toBe(
      `RuntimeLoadError: wrong ORT-GenAI library at ${libs.ort}: it does not export OgaCreateModel (this package needs ONNX Runtime GenAI 0.15 or newer)`,
    );
    expect(r.status).toBe(0);
  });

  it('rejects an ORT-GenAI build of the wrong version, naming the missing symbol and the file', () => {
    // A stand-in "older ORT-GenAI" that has only part of the C API.
    const dir = mkdtempSync(path.join(tmpdir(), 'ortgenai-old-'));
    writeFileSync(path.join(dir, 'old.c'), 'void OgaCreateModel(void) {}\nvoid OgaShutdown(void) {}\n');
    const lib = path.join(dir, 'libonnxruntime-genai.so');
    const cc = spawnSync('cc', ['-shared', '-fPIC', '-o', lib, path.join(dir, 'old.c')], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    const r = loadInChild({ ORTGENAI_LIB_DIR: dir });
    expect(r.out).toBe(
      `RuntimeLoadError: wrong ORT-GenAI version at ${lib}: it does not export OgaResultGetError (this package needs ONNX Runtime GenAI 0.15 or newer)`,
    );
    expect(r.status).toBe(0);
  });

  it('reports a file that is not a shared library at all', () => {
    const bogus = path.join(mkdtempSync(path.join(tmpdir(), 'ortgenai-bogus-')), 'libonnxruntime-genai.so');
    writeFileSync(bogus, 'not an ELF file, just text that is long enough to hold an ELF header'.repeat(4));
    const r = loadInChild({ ORTGENAI_LIB_PATH: bogus });
    expect(r.out).toBe(`RuntimeLoadError: could not load ORT-GenAI: ${bogus} is not a shared library (not a 64-bit ELF file)`);
    expect(r.status).toBe(0);
  });
});
