import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The import rules of the README's Architecture section, checked on the sources: areas import one way
// (cli → server → mlflow → genai → native), and no module reaches itself through others (type-only imports
// count: a type circle is a design circle even when the emitted JavaScript has none).

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Root modules every area may import: the error classes and how validation issues read. */
const BASE = ['errors', 'zod-issues'];

/** The areas each area may import besides itself and BASE (a root module is an area of its own). */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  'zod-issues': [],
  runtime: [],
  native: ['runtime'],
  index: ['runtime', 'native', 'genai'],
  genai: ['runtime', 'native'],
  modelbuilder: [],
  mlflow: ['genai'],
  server: ['genai', 'mlflow'],
  bench: ['runtime', 'index', 'genai', 'modelbuilder', 'mlflow'],
  cli: ['runtime', 'genai', 'modelbuilder', 'mlflow', 'server', 'bench'],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

function area(file: string): string {
  const parts = path.relative(SRC, file).split(path.sep);
  return parts.length === 1 ? parts[0].replace(/\.ts$/, '') : parts[0];
}

const graph = new Map<string, string[]>(
  sources(SRC).map((file) => {
    const imports = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((i) => i.fileName);
    const local = imports.filter((name) => name.startsWith('.')).map((name) => path.resolve(path.dirname(file), name.replace(/\.js$/, '.ts')));
    return [file, local];
  }),
);

/** Strongly connected components of more than one module (Tarjan). */
function circles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(path.relative(SRC, w));
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the import graph of src/', () => {
  it('resolves every relative import to a source file', () => {
    const missing = [...graph].flatMap(([file, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${path.relative(SRC, file)} → ${path.relative(SRC, d)}`));
    expect(missing).toEqual([]);
  });

  it('has no circles', () => {
    expect(circles()).toEqual([]);
  });

  it('runs one way between areas', () => {
    expect(Object.keys(ALLOWED).sort()).toEqual([...new Set([...graph.keys()].map(area))].sort());
    const against = [...graph].flatMap(([file, deps]) =>
      deps.filter((d) => area(d) !== area(file) && !BASE.includes(area(d)) && !ALLOWED[area(file)].includes(area(d))).map((d) => `${path.relative(SRC, file)} → ${path.relative(SRC, d)}`),
    );
    expect(against).toEqual([]);
  });
});
