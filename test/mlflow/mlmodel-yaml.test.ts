import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MlflowException } from '../../src/mlflow/errors.js';
import { dumpYaml, loadYaml } from '../../src/mlflow/pycompat/yaml.js';

// Generated once with PyYAML 6.0.3: [data, safe_dump(data, default_flow_style=False), same with sort_keys=False].
// The data mixes every scalar PyYAML quotes differently (resolver look-alikes, indicators, non-ASCII,
// line breaks, long folded text, empty and 128+ character keys).
const golden = JSON.parse(readFileSync(new URL('./mlmodel-yaml.pyyaml.json', import.meta.url), 'utf8')) as {
  cases: [unknown, string, string][];
};

describe('dumpYaml reproduces yaml.safe_dump(default_flow_style=False)', () => {
  golden.cases.forEach(([data, sorted, unsorted], i) => {
    it(`case ${i}: ${JSON.stringify(data).slice(0, 60)}`, () => {
      expect(dumpYaml(data)).toBe(sorted);
      expect(dumpYaml(data, { sortKeys: false })).toBe(unsorted);
      expect(loadYaml(sorted)).toEqual(data);
    });
  });

  it('folds a long signature string after column 80 with the value indent', () => {
    const inputs = '[' + Array.from({ length: 6 }, (_, i) => `{"type": "string", "name": "column_${i}", "required": true}`).join(', ') + ']';
    const text = dumpYaml({ signature: { inputs } });
    const lines = text.split('\n');
    expect(lines[1].startsWith("  inputs: '[{")).toBe(true);
    expect(lines.slice(2, -2).every((l) => l.startsWith('    '))).toBe(true);
    expect(lines[1].length).toBeGreaterThan(80);
    expect((loadYaml(text) as { signature: { inputs: string } }).signature.inputs).toBe(inputs);
  });

  it('quotes strings that would read back as another type', () => {
    expect(dumpYaml({ a: '3.10', b: '0', c: 'true', d: '2025-01-02 03:04:05.123456', e: '', f: 'null', g: '3.11.9' })).toBe(
      "a: '3.10'\nb: '0'\nc: 'true'\nd: '2025-01-02 03:04:05.123456'\ne: ''\nf: 'null'\ng: 3.11.9\n",
    );
  });

  it('writes floats as Python does', () => {
    expect(dumpYaml([0.1, 1e-7, 1.5e300, -2.25, NaN, Infinity, -Infinity, 3])).toBe(
      '- 0.1\n- 1.0e-07\n- 1.5e+300\n- -2.25\n- .nan\n- .inf\n- -.inf\n- 3\n',
    );
  });
});

describe('loadYaml', () => {
  it('reads YAML 1.1 scalars like PyYAML and keeps timestamps as text', () => {
    expect(loadYaml('a: yes\nb: off\nc: 0x1F\nd: 2024-01-02\ne: 1_000\n')).toEqual({ a: true, b: false, c: 31, d: '2024-01-02', e: 1000 });
  });

  it('reads CRLF files', () => {
    expect(loadYaml("a: '[1,\r\n  2]'\r\nb: c\r\n")).toEqual({ a: '[1, 2]', b: 'c' });
  });

  it('turns bad YAML into an MlflowException', () => {
    expect(() => loadYaml('a: [1, 2\nb: {', 'MLmodel')).toThrow(MlflowException);
    expect(() => loadYaml('a: [1, 2\nb: {', 'MLmodel')).toThrow(/Failed to parse MLmodel as YAML/);
  });
});
