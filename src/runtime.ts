/**
 * Where the runtime libraries are. ONNX Runtime and ORT-GenAI are loaded at run time (dlopen), never linked, so
 * they can come from several places. Each library is looked for in these sources, in this order; the first that
 * applies decides (a variable that is set wins even when its file is missing, so a typo is an error, not a silent
 * fallback):
 *
 * 0. `ORTGENAI_PYTHON` (or the `runtime: { python }` load option): a Python interpreter whose environment has the
 *    official `onnxruntime-genai` wheel; it decides both libraries, from its `onnxruntime_genai` and `onnxruntime`
 *    packages (the builds MLflow users deploy)
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
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { RuntimeLoadError } from './errors.js';

export interface RuntimeLibraries {
  /** Absolute path of the ONNX Runtime shared library. */
  ort: string;
  /** Absolute path of the ORT-GenAI shared library. */
  genai: string;
  /** Where each came from: an environment variable, an npm package, or a Python environment. */
  ortSource: string;
  genaiSource: string;
  /** Releases where the source states them (a Python environment's package metadata; the loaded file for ORT-GenAI). */
  ortVersion?: string;
  genaiVersion?: string;
}

/** How to find the runtime; every field overrides its environment variable. */
export interface RuntimeOptions {
  /** A Python interpreter whose environment has `onnxruntime-genai` (`ORTGENAI_PYTHON`). */
  python?: string;
}

export interface ResolveOptions extends RuntimeOptions {
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

function locate(spec: LibrarySpec, env: NodeJS.ProcessEnv, packageRoot: (name: string) => string | undefined): Candidate {
  for (const source of SOURCES) {
    const found = source(spec, env, packageRoot);
    if (!found) continue;
    if (!existsSync(found.file)) {
      throw new RuntimeLoadError(`${spec.what} library not found: looked for ${found.file} (from ${found.from})`);
    }
    return found;
  }
  throw new RuntimeLoadError(
    `${spec.what}: no ${spec.fileName} for ${process.platform}-${process.arch}: install '${RUNTIME_PACKAGE}'` +
      (process.platform === 'linux' && process.arch === 'x64' ? ` (or '${spec.unityPackage}')` : '') +
      `, or set ${spec.pathVar} or ${spec.dirVar} to your own build`,
  );
}

// Asks the interpreter where the packages are without importing them (importing would load the libraries there).
const PYTHON_QUERY = `
import importlib.metadata as md, importlib.util as iu, json
dists = md.packages_distributions()
out = {}
for module in ("onnxruntime_genai", "onnxruntime"):
    spec = iu.find_spec(module)
    names = dists.get(module) or []
    out[module] = {
        "dir": list(spec.submodule_search_locations)[0] if spec and spec.submodule_search_locations else None,
        "dist": names[0] if names else None,
        "version": md.version(names[0]) if names else None,
    }
print(json.dumps(out))
`;

interface PythonPackage {
  dir: string | null;
  dist: string | null;
  version: string | null;
}

function fromPython(python: string): RuntimeLibraries {
  const fix = `'${python} -m pip install onnxruntime-genai' (or point ORTGENAI_PYTHON at an interpreter that has it)`;
  let found: Record<'onnxruntime_genai' | 'onnxruntime', PythonPackage>;
  try {
    const stdout = execFileSync(python, ['-c', PYTHON_QUERY], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    found = JSON.parse(stdout) as typeof found;
  } catch (cause) {
    const detail = (cause as { stderr?: string }).stderr?.trim().split('\n').at(-1) ?? (cause as Error).message;
    throw new RuntimeLoadError(`could not ask the Python interpreter '${python}' (ORTGENAI_PYTHON) where onnxruntime-genai is: ${detail}`, { cause });
  }
  const genai = found.onnxruntime_genai;
  const ort = found.onnxruntime;
  if (!genai.dir) throw new RuntimeLoadError(`the Python environment of '${python}' has no onnxruntime_genai package; install it: ${fix}`);
  if (!ort.dir) throw new RuntimeLoadError(`the Python environment of '${python}' has no onnxruntime package (onnxruntime-genai needs it); install it: ${fix}`);
  // The wheel ships the versioned file (libonnxruntime.so.1.32.0); its soname is libonnxruntime.so.1.
  const capi = path.join(ort.dir, 'capi');
  const ortFile = existsSync(capi) ? readdirSync(capi).find((f) => /^libonnxruntime\.so(\.\d+)+$/.test(f)) : undefined;
  if (!ortFile) throw new RuntimeLoadError(`no libonnxruntime.so.* in ${capi} (the ${ort.dist ?? 'onnxruntime'} package of '${python}')`);
  const source = (p: PythonPackage) => `Python environment of '${python}' (${p.dist ?? 'unknown package'} ${p.version ?? ''})`.replace(' )', ')');
  return {
    ort: path.join(capi, ortFile),
    genai: path.join(genai.dir, GENAI.fileName),
    ortSource: source(ort),
    genaiSource: source(genai),
    ...(ort.version ? { ortVersion: ort.version } : {}),
    ...(genai.version ? { genaiVersion: genai.version } : {}),
  };
}

/**
 * Resolves both libraries and checks that the files exist; does not load anything. A Python interpreter
 * (option or ORTGENAI_PYTHON) decides both; otherwise each library comes from the first of SOURCES that applies.
 */
export function resolveRuntimeLibraries(env: NodeJS.ProcessEnv = process.env, options: ResolveOptions = {}): RuntimeLibraries {
  const python = options.python ?? env.ORTGENAI_PYTHON;
  if (python) {
    const libs = fromPython(python);
    for (const [what, file] of [['ONNX Runtime', libs.ort], ['ORT-GenAI', libs.genai]] as const) {
      if (!existsSync(file)) throw new RuntimeLoadError(`${what} library not found: looked for ${file} (from the Python environment of '${python}')`);
    }
    return libs;
  }
  const packageRoot = packageResolver(options.from);
  const ort = locate(ORT, env, packageRoot);
  const genai = locate(GENAI, env, packageRoot);
  return { ort: ort.file, genai: genai.file, ortSource: ort.from, genaiSource: genai.from };
}
