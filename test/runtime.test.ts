// The loader's promise: a missing or wrong runtime library is a RuntimeLoadError naming what was looked for and
// where, never a process abort. Each case runs in a child process, since a process loads the runtime only once.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNTIME_PACKAGE, resolveRuntimeLibraries } from '../src/runtime.js';
import { runTypeScriptChild } from './helpers/child.js';
import { fixtureModel } from './helpers/fixtures.js';

const repo = path.resolve(import.meta.dirname, '..');
const libs = resolveRuntimeLibraries({});

/** Loads a model in a fresh node process with `env` added; returns what it printed and how it exited. */
function loadInChild(env: Record<string, string>) {
  return runTypeScriptChild(
    `
    import { Model, RuntimeLoadError } from ${JSON.stringify(path.join(repo, 'src/index.ts'))};
    try {
      const m = await Model.load(${JSON.stringify(fixtureModel('tiny-random'))});
      console.log('LOADED ' + m.type);
    } catch (err) {
      console.log((err instanceof RuntimeLoadError ? 'RuntimeLoadError: ' : 'OTHER ' + err.name + ': ') + err.message);
    }
  `,
    env,
  );
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

/** A package folder under `root`/node_modules: its package.json, and `files` as links to real files. */
function fakePackage(root: string, name: string, files: Record<string, string> = {}): void {
  const dir = path.join(root, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '0.0.0' }));
  for (const [rel, target] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    symlinkSync(target, path.join(dir, rel));
  }
}

describe('runtime sources, in order', () => {
  it('prefers the per-platform runtime package to the Unity packages', () => {
    const project = mkdtempSync(path.join(tmpdir(), 'ortgenai-sources-'));
    fakePackage(project, RUNTIME_PACKAGE, { 'lib/libonnxruntime.so': libs.ort, 'lib/libonnxruntime-genai.so': libs.genai });
    fakePackage(project, 'com.github.asus4.onnxruntime', { 'Plugins/Linux/x64/libonnxruntime.so': libs.ort });
    fakePackage(project, 'com.github.asus4.onnxruntime-genai', { 'Plugins/Linux/x64/libonnxruntime-genai.so': libs.genai });
    const pkg = path.join(project, 'node_modules', RUNTIME_PACKAGE, 'lib');
    expect(resolveRuntimeLibraries({}, { from: project })).toEqual({
      ort: path.join(pkg, 'libonnxruntime.so'),
      genai: path.join(pkg, 'libonnxruntime-genai.so'),
      ortSource: `npm package '${RUNTIME_PACKAGE}'`,
      genaiSource: `npm package '${RUNTIME_PACKAGE}'`,
    });
    // A variable still wins over every package.
    expect(resolveRuntimeLibraries({ ORT_LIB_PATH: libs.ort }, { from: project }).ort).toBe(libs.ort);
  });

  it('says what to install when no source has a library', () => {
    const project = mkdtempSync(path.join(tmpdir(), 'ortgenai-sources-'));
    expect(() => resolveRuntimeLibraries({}, { from: project })).toThrow(
      `ONNX Runtime: no libonnxruntime.so for linux-x64: install '${RUNTIME_PACKAGE}' (or 'com.github.asus4.onnxruntime'), ` +
        'or set ORT_LIB_PATH or ORT_LIB_DIR to your own build',
    );
  });

  // Electron cannot be downloaded here, so the packaged app's layout is built by hand: package.json files where
  // Electron's fs shows them (inside app.asar, a real folder standing in for the archive), libraries where
  // asarUnpack puts them (app.asar.unpacked).
  it('finds both libraries in app.asar.unpacked when the packages resolve inside app.asar', () => {
    const resources = mkdtempSync(path.join(tmpdir(), 'ortgenai-electron-'));
    const asar = path.join(resources, 'app.asar');
    const unpacked = path.join(resources, 'app.asar.unpacked');
    const from = path.join(asar, 'node_modules', 'ortgenai-node', 'dist');
    mkdirSync(from, { recursive: true });
    fakePackage(asar, RUNTIME_PACKAGE);
    fakePackage(unpacked, RUNTIME_PACKAGE, { 'lib/libonnxruntime.so': libs.ort, 'lib/libonnxruntime-genai.so': libs.genai });
    const lib = path.join(unpacked, 'node_modules', RUNTIME_PACKAGE, 'lib');
    expect(resolveRuntimeLibraries({}, { from })).toMatchObject({
      ort: path.join(lib, 'libonnxruntime.so'),
      genai: path.join(lib, 'libonnxruntime-genai.so'),
    });
  });

  it('finds the Unity packages\' libraries in app.asar.unpacked too', () => {
    const resources = mkdtempSync(path.join(tmpdir(), 'ortgenai-electron-'));
    const asar = path.join(resources, 'app.asar');
    const unpacked = path.join(resources, 'app.asar.unpacked');
    fakePackage(asar, 'com.github.asus4.onnxruntime');
    fakePackage(asar, 'com.github.asus4.onnxruntime-genai');
    fakePackage(unpacked, 'com.github.asus4.onnxruntime', { 'Plugins/Linux/x64/libonnxruntime.so': libs.ort });
    fakePackage(unpacked, 'com.github.asus4.onnxruntime-genai', { 'Plugins/Linux/x64/libonnxruntime-genai.so': libs.genai });
    const r = resolveRuntimeLibraries({}, { from: asar });
    expect(r.ort).toBe(path.join(unpacked, 'node_modules', 'com.github.asus4.onnxruntime', 'Plugins', 'Linux', 'x64', 'libonnxruntime.so'));
    expect(r.genai).toBe(path.join(unpacked, 'node_modules', 'com.github.asus4.onnxruntime-genai', 'Plugins', 'Linux', 'x64', 'libonnxruntime-genai.so'));
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
