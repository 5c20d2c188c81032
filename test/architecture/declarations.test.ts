import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The published type declarations (dist/, built by `npm test`'s pretest): what a TypeScript user compiles against.

const DIST = path.resolve(import.meta.dirname, '../../dist');
const declarations = readdirSync(DIST, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'));

describe('the published .d.ts files', () => {
  it('carry no @internal members (tsconfig stripInternal)', () => {
    expect(declarations.length).toBeGreaterThan(50);
    const leaking = declarations.filter((f) => readFileSync(path.join(DIST, f), 'utf8').includes('@internal'));
    expect(leaking).toEqual([]);
  });
});
