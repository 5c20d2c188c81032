/**
 * Where the runtime libraries are. ONNX Runtime and ORT-GenAI are loaded at run time (dlopen), never linked, so
 * they can come from several places. Each library is looked for in these sources, in this order; the first that
 * applies decides (a variable that is set wins even when its file is missing, so a typo is an error, not a silent
 * fallback):
 *
 * 1. `ORT_LIB_PATH` / `ORTGENAI_LIB_PATH`: the full path of the library (your own build: CUDA, DML, newer releases)
 * 2. `ORT_LIB_DIR` / `ORTGENAI_LIB_DIR`: the folder holding `libonnxruntime.so` / `libonnxruntime-genai.so`
 * 3. the per-platform runtime package `@ortgenai-node/runtime-<platform>-<arch>` (npm/runtime-linux-x64 in the
 *    repository: the two libraries and their licenses, nothing else)
 * 4. the Unity packages `com.github.asus4.onnxruntime` and `com.github.asus4.onnxruntime-genai` (the fallback
 *    until the runtime package is published; they also carry builds for other platforms)
 *
 * Inside an Electron app, package files live in `app.asar`, which dlopen cannot read: paths found in packages are
 * mapped to `app.asar.unpacked`, where `asarUnpack` puts them (docs/electron.md).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { RuntimeLoadError } from './errors.js';

export interface RuntimeLibraries {
  /** Absolute path of the ONNX Runtime shared library. */
  ort: string;
  /** Absolute path of the ORT-GenAI shared library. */
  genai: string;
}

export interface ResolveOptions {
  /** Resolve packages as if from this folder (default: this package's own location). */
  from?: string;
}

interface LibrarySpec {
  what: string;
  fileName: string;
  pathVar: string;
  dirVar: string;
  /** The Unity package that carries its Linux x64 build. */
  unityPackage: string;
}

const ORT: LibrarySpec = {
  what: 'ONNX Runtime',
  fileName: 'libonnxruntime.so',
  pathVar: 'ORT_LIB_PATH',
  dirVar: 'ORT_LIB_DIR',
  unityPackage: 'com.github.asus4.onnxruntime',
};

const GENAI: LibrarySpec = {
  what: 'ORT-GenAI',
  fileName: 'libonnxruntime-genai.so',
  pathVar: 'ORTGENAI_LIB_PATH',
  dirVar: 'ORTGENAI_LIB_DIR',
  unityPackage: 'com.github.asus4.onnxruntime-genai',
};

/** The per-platform package with just the two libraries (npm/runtime-<platform>-<arch> in the repository). */
export const RUNTIME_PACKAGE = `@ortgenai-node/runtime-${process.platform}-${process.arch}`;

/** Where one source says a library is; `from` names the source in messages. */
interface Candidate {
  file: string;
  from: string;
}

/** A source either points at a file (which must then exist) or does not apply, and the next one is asked. */
type Source = (spec: LibrarySpec, env: NodeJS.ProcessEnv, packageRoot: (name: string) => string | undefined) => Candidate | undefined;

const SOURCES: readonly Source[] = [
  (spec, env) => (env[spec.pathVar] ? { file: path.resolve(env[spec.pathVar]!), from: spec.pathVar } : undefined),
  (spec, env) => (env[spec.dirVar] ? { file: path.resolve(env[spec.dirVar]!, spec.fileName), from: spec.dirVar } : undefined),
  (spec, _env, packageRoot) => {
    const root = packageRoot(RUNTIME_PACKAGE);
    return root === undefined ? undefined : { file: path.join(root, 'lib', spec.fileName), from: `npm package '${RUNTIME_PACKAGE}'` };
  },
  (spec, _env, packageRoot) => {
    if (process.platform !== 'linux' || process.arch !== 'x64') return undefined; // its only desktop Linux build
    const root = packageRoot(spec.unityPackage);
    if (root === undefined) return undefined;
    return { file: path.join(root, 'Plugins', 'Linux', 'x64', spec.fileName), from: `npm package '${spec.unityPackage}'` };
  },
];

/** dlopen cannot read inside an Electron asar archive; asarUnpack puts the real files next to it. */
function outsideAsar(file: string): string {
  const inAsar = `${path.sep}app.asar${path.sep}`;
  return file.includes(inAsar) ? file.replace(inAsar, `${path.sep}app.asar.unpacked${path.sep}`) : file;
}

function packageResolver(from: string | undefined): (name: string) => string | undefined {
  const require = createRequire(from ? path.join(path.resolve(from), 'noop.js') : import.meta.url);
  return (name) => {
    try {
      return outsideAsar(path.dirname(require.resolve(`${name}/package.json`)));
    } catch {
      return undefined; // not installed: the next source is asked
    }
  };
}

function locate(spec: LibrarySpec, env: NodeJS.ProcessEnv, packageRoot: (name: string) => string | undefined): string {
  for (const source of SOURCES) {
    const found = source(spec, env, packageRoot);
    if (!found) continue;
    if (!existsSync(found.file)) {
      throw new RuntimeLoadError(`${spec.what} library not found: looked for ${found.file} (from ${found.from})`);
    }
    return found.file;
  }
  throw new RuntimeLoadError(
    `${spec.what}: no ${spec.fileName} for ${process.platform}-${process.arch}: install '${RUNTIME_PACKAGE}'` +
      (process.platform === 'linux' && process.arch === 'x64' ? ` (or '${spec.unityPackage}')` : '') +
      `, or set ${spec.pathVar} or ${spec.dirVar} to your own build`,
  );
}

/** Resolves both libraries and checks that the files exist; does not load anything. */
export function resolveRuntimeLibraries(env: NodeJS.ProcessEnv = process.env, options: ResolveOptions = {}): RuntimeLibraries {
  const packageRoot = packageResolver(options.from);
  return { ort: locate(ORT, env, packageRoot), genai: locate(GENAI, env, packageRoot) };
}
