/**
 * Where the runtime libraries are. ONNX Runtime and ORT-GenAI are loaded at run time (dlopen), never linked, so
 * users can point at their own builds (CUDA, DML, newer releases) with environment variables:
 *
 * - `ORTGENAI_LIB_PATH`: full path of the ORT-GenAI library (`libonnxruntime-genai.so`)
 * - `ORTGENAI_LIB_DIR`:  directory holding `libonnxruntime-genai.so`
 * - `ORT_LIB_PATH`:      full path of the ONNX Runtime library (its soname must be `libonnxruntime.so.1`)
 * - `ORT_LIB_DIR`:       directory holding `libonnxruntime.so`
 *
 * Without them, the npm packages `com.github.asus4.onnxruntime-genai` and `com.github.asus4.onnxruntime`
 * (dependencies of this package) provide the Linux x64 builds.
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

function locate(spec: LibrarySpec, env: NodeJS.ProcessEnv): string {
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
  return file;
}

/** Resolves both libraries and checks that the files exist; does not load anything. */
export function resolveRuntimeLibraries(env: NodeJS.ProcessEnv = process.env): RuntimeLibraries {
  return { ort: locate(ORT, env), genai: locate(GENAI, env) };
}
