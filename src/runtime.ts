/**
 * Where the runtime libraries are. ONNX Runtime and ORT-GenAI are loaded at run time (dlopen), never linked, so
 * users can point at their own builds (CUDA, DML, newer releases) with environment variables:
 *
 * - `ORTGENAI_PYTHON`:   a Python interpreter whose environment has the `onnxruntime-genai` wheel: both libraries
 *                        come from its `onnxruntime_genai` and `onnxruntime` packages (the official builds MLflow
 *                        users deploy); the same as the `runtime: { python }` load option
 * - `ORTGENAI_LIB_PATH`: full path of the ORT-GenAI library (`libonnxruntime-genai.so`)
 * - `ORTGENAI_LIB_DIR`:  directory holding `libonnxruntime-genai.so`
 * - `ORT_LIB_PATH`:      full path of the ONNX Runtime library (its soname must be `libonnxruntime.so.1`)
 * - `ORT_LIB_DIR`:       directory holding `libonnxruntime.so`
 *
 * Without them, the npm packages `com.github.asus4.onnxruntime-genai` and `com.github.asus4.onnxruntime`
 * (dependencies of this package) provide the Linux x64 builds.
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

interface LibrarySpec {
  what: string;
  fileName: string;
  pathVar: string;
  dirVar: string;
  npmPackage: string;
}

const ORT: LibrarySpec = {
  what: 'ONNX Runtime',
  fileName: 'libonnxruntime.so',
  pathVar: 'ORT_LIB_PATH',
  dirVar: 'ORT_LIB_DIR',
  npmPackage: 'com.github.asus4.onnxruntime',
};

const GENAI: LibrarySpec = {
  what: 'ORT-GenAI',
  fileName: 'libonnxruntime-genai.so',
  pathVar: 'ORTGENAI_LIB_PATH',
  dirVar: 'ORTGENAI_LIB_DIR',
  npmPackage: 'com.github.asus4.onnxruntime-genai',
};

const require = createRequire(import.meta.url);

function fromNpmPackage(spec: LibrarySpec): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new RuntimeLoadError(
      `${spec.what}: the bundled runtime packages only cover linux-x64 (this is ${process.platform}-${process.arch}); ` +
        `set ${spec.pathVar} or ${spec.dirVar} to your own build of ${spec.fileName}`,
    );
  }
  let root: string;
  try {
    root = path.dirname(require.resolve(`${spec.npmPackage}/package.json`));
  } catch (cause) {
    throw new RuntimeLoadError(
      `${spec.what}: npm package '${spec.npmPackage}' is not installed and neither ${spec.pathVar} nor ${spec.dirVar} is set`,
      { cause },
    );
  }
  return path.join(root, 'Plugins', 'Linux', 'x64', spec.fileName);
}

function locate(spec: LibrarySpec, env: NodeJS.ProcessEnv): { file: string; source: string } {
  let file: string;
  let source: string;
  if (env[spec.pathVar]) {
    file = path.resolve(env[spec.pathVar]!);
    source = `${spec.pathVar}`;
  } else if (env[spec.dirVar]) {
    file = path.resolve(env[spec.dirVar]!, spec.fileName);
    source = `${spec.dirVar}`;
  } else {
    file = fromNpmPackage(spec);
    source = `npm package '${spec.npmPackage}'`;
  }
  if (!existsSync(file)) {
    throw new RuntimeLoadError(`${spec.what} library not found: looked for ${file} (from ${source})`);
  }
  return { file, source };
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
 * (option or ORTGENAI_PYTHON) decides both; otherwise each library has its own variables, then its npm package.
 */
export function resolveRuntimeLibraries(env: NodeJS.ProcessEnv = process.env, options: RuntimeOptions = {}): RuntimeLibraries {
  const python = options.python ?? env.ORTGENAI_PYTHON;
  if (python) {
    const libs = fromPython(python);
    for (const [what, file] of [['ONNX Runtime', libs.ort], ['ORT-GenAI', libs.genai]] as const) {
      if (!existsSync(file)) throw new RuntimeLoadError(`${what} library not found: looked for ${file} (from the Python environment of '${python}')`);
    }
    return libs;
  }
  const ort = locate(ORT, env);
  const genai = locate(GENAI, env);
  return { ort: ort.file, genai: genai.file, ortSource: ort.source, genaiSource: genai.source };
}
