/**
 * YAML as MLflow reads and writes it.
 *
 * Reading uses the `yaml` package with PyYAML's own scalar resolvers plugged in (below), so plain
 * scalars get the types `yaml.safe_load` gives them.
 *
 * Writing reproduces `yaml.safe_dump(data, default_flow_style=False[, sort_keys=False])` byte for byte.
 * This is a port of the parts of PyYAML's emitter that JSON-like data reaches (analyze_scalar,
 * choose_scalar_style, write_plain / write_single_quoted / write_double_quoted). The `yaml` package
 * cannot be configured into it: it folds long scalars *before* column 80, while PyYAML writes each word
 * and breaks at the first single space *after* passing column 80, so every folded signature line would
 * differ from the files MLflow writes.
 */
import YAML from 'yaml';
import { MlflowException } from '../errors.js';
import { PyFloat, pyFloatRepr, pyIsoformat } from './repr.js';

export interface DumpYamlOptions {
  /** PyYAML's `sort_keys` (default true). `python_env.yaml` is written with `sort_keys=False`. */
  sortKeys?: boolean;
}

// PyYAML's implicit resolvers (resolver.py, YAML 1.1). Reading uses them to type plain scalars exactly
// as `safe_load` does (the yaml package's own 1.1 schema also reads `y`/`n` as booleans and `1e5` as a
// number; PyYAML does not). Writing uses them to quote strings that would otherwise read back as
// another type. Python's `$` also matches before a final newline. Timestamps stay strings on read:
// MLflow never writes them unquoted, and Dates would lose the microseconds.
const BOOL_RE = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)\n?$/;
const FLOAT_RE = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\n?$/;
const INT_RE = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)\n?$/;
const NULL_RE = /^(?:~|null|Null|NULL|)\n?$/;
const IMPLICIT_RESOLVERS: readonly RegExp[] = [
  BOOL_RE,
  FLOAT_RE,
  INT_RE,
  /^(?:<<)\n?$/,
  NULL_RE,
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)\n?$/,
  /^(?:=)\n?$/,
];

/** Base-60 `a:b:c` (PyYAML's sexagesimal ints and floats). */
function sexagesimal(text: string): number {
  return text.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

/** PyYAML `construct_yaml_int`; integers beyond 2^53 become bigints so that they survive a round trip. */
function resolveInt(source: string): number | bigint {
  let text = source.replaceAll('_', '');
  let sign = 1n;
  if (text[0] === '-' || text[0] === '+') {
    if (text[0] === '-') sign = -1n;
    text = text.slice(1);
  }
  let value: bigint;
  if (text === '0') value = 0n;
  else if (text.startsWith('0b')) value = BigInt(text);
  else if (text.startsWith('0x')) value = BigInt(text);
  else if (text[0] === '0') value = BigInt(`0o${text.slice(1)}`);
  else if (text.includes(':')) return Number(sign) * sexagesimal(text);
  else value = BigInt(text);
  const result = sign * value;
  return result <= BigInt(Number.MAX_SAFE_INTEGER) && result >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(result) : result;
}

/** PyYAML `construct_yaml_float`. */
function resolveFloat(source: string): number {
  const text = source.replaceAll('_', '').toLowerCase();
  const sign = text[0] === '-' ? -1 : 1;
  const body = text.replace(/^[-+]/, '');
  if (body === '.inf') return sign * Infinity;
  if (body === '.nan') return NaN;
  if (body.includes(':')) return sign * sexagesimal(body);
  return sign * Number(body);
}

const PYYAML_SCALAR_TAGS = [
  { tag: 'tag:yaml.org,2002:null', default: true, test: NULL_RE, resolve: () => null,
    identify: (v: unknown) => v === null },
  { tag: 'tag:yaml.org,2002:bool', default: true, test: BOOL_RE, resolve: (s: string) => /^(?:yes|true|on)$/i.test(s),
    identify: (v: unknown) => typeof v === 'boolean' },
  { tag: 'tag:yaml.org,2002:int', default: true, test: INT_RE, resolve: resolveInt,
    identify: (v: unknown) => typeof v === 'bigint' || Number.isInteger(v) },
  { tag: 'tag:yaml.org,2002:float', default: true, test: FLOAT_RE, resolve: resolveFloat,
    identify: (v: unknown) => typeof v === 'number' },
];
const REPLACED_TAGS = new Set([...PYYAML_SCALAR_TAGS.map((t) => t.tag), 'tag:yaml.org,2002:timestamp']);

/** Parse YAML like `yaml.safe_load`. Throws MlflowException (INVALID_PARAMETER_VALUE) on bad YAML. */
export function loadYaml(text: string, source = 'YAML document'): unknown {
  try {
    return YAML.parse(text, {
      schema: 'yaml-1.1',
      customTags: (tags) => [
        ...PYYAML_SCALAR_TAGS,
        ...tags.filter((t) => !(typeof t === 'object' && REPLACED_TAGS.has(t.tag))),
      ],
      uniqueKeys: false, // PyYAML keeps the last of duplicated keys
      intAsBigInt: false,
      prettyErrors: true,
    });
  } catch (error) {
    throw MlflowException.invalidParameterValue(`Failed to parse ${source} as YAML: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

const BEST_WIDTH = 80;
const BEST_INDENT = 2;
const LINE_BREAKS = '\n\x85\u2028\u2029';
const WHITESPACE = '\0 \t\r\n\x85\u2028\u2029';

interface ScalarAnalysis {
  empty: boolean;
  multiline: boolean;
  allowBlockPlain: boolean;
  allowSingleQuoted: boolean;
}

/** PyYAML `Emitter.analyze_scalar`, reduced to what block-style output consults. */
function analyzeScalar(chars: readonly string[]): ScalarAnalysis {
  if (chars.length === 0) return { empty: true, multiline: false, allowBlockPlain: true, allowSingleQuoted: true };
  let blockIndicators = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  const text = chars.join('');
  if (text.startsWith('---') || text.startsWith('...')) blockIndicators = true;
  let precededByWhitespace = true;
  let followedByWhitespace = chars.length === 1 || WHITESPACE.includes(chars[1]);
  let previousSpace = false;
  let previousBreak = false;
  for (let index = 0; index < chars.length; index++) {
    const ch = chars[index];
    if (index === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) blockIndicators = true;
      if ('?:'.includes(ch) && followedByWhitespace) blockIndicators = true;
      if (ch === '-' && followedByWhitespace) blockIndicators = true;
    } else {
      if (ch === ':' && followedByWhitespace) blockIndicators = true;
      if (ch === '#' && precededByWhitespace) blockIndicators = true;
    }
    if (LINE_BREAKS.includes(ch)) lineBreaks = true;
    if (!(ch === '\n' || (ch >= '\x20' && ch <= '\x7e'))) special = true; // allow_unicode is False
    if (ch === ' ') {
      if (index === 0) leadingSpace = true;
      if (index === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (LINE_BREAKS.includes(ch)) {
      if (index === 0) leadingBreak = true;
      if (index === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = WHITESPACE.includes(ch);
    followedByWhitespace = index + 2 >= chars.length || WHITESPACE.includes(chars[index + 2]);
  }
  let allowBlockPlain = true;
  let allowSingleQuoted = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) allowBlockPlain = false;
  if (breakSpace) allowBlockPlain = allowSingleQuoted = false;
  if (spaceBreak || special) allowBlockPlain = allowSingleQuoted = false;
  if (lineBreaks) allowBlockPlain = false;
  if (blockIndicators) allowBlockPlain = false;
  return { empty: false, multiline: lineBreaks, allowBlockPlain, allowSingleQuoted };
}

const ESCAPES: Record<string, string> = {
  '\0': '0', '\x07': 'a', '\x08': 'b', '\x09': 't', '\x0a': 'n', '\x0b': 'v', '\x0c': 'f', '\x0d': 'r',
  '\x1b': 'e', '"': '"', '\\': '\\', '\x85': 'N', '\xa0': '_', '\u2028': 'L', '\u2029': 'P',
};

/** The emitter's output position, as PyYAML tracks it (column, whitespace and indention flags). */
class Writer {
  out = '';
  column = 0;
  whitespace = true;
  indention = true;
  indent = 0;

  write(data: string): void {
    this.out += data;
    this.column += data.length;
  }

  lineBreak(): void {
    this.out += '\n';
    this.column = 0;
    this.whitespace = true;
    this.indention = true;
  }

  /** PyYAML `write_indent`. */
  writeIndent(): void {
    if (!this.indention || this.column > this.indent || (this.column === this.indent && !this.whitespace)) {
      this.lineBreak();
    }
    if (this.column < this.indent) {
      this.whitespace = true;
      this.write(' '.repeat(this.indent - this.column));
    }
  }

  /** PyYAML `write_indicator`. */
  indicator(text: string, needWhitespace: boolean, whitespace = false, indention = false): void {
    this.write(this.whitespace || !needWhitespace ? text : ` ${text}`);
    this.whitespace = whitespace;
    this.indention = this.indention && indention;
  }

  /**
   * A run of line breaks inside a plain or single-quoted scalar: a leading '\n' is doubled (YAML folds a
   * single one into a space), each break is written as itself, then the indent.
   */
  breaks(chars: readonly string[], start: number, end: number): void {
    if (chars[start] === '\n') this.lineBreak();
    for (const br of chars.slice(start, end)) {
      this.lineBreak();
      if (br !== '\n') this.out = this.out.slice(0, -1) + br;
    }
    this.writeIndent();
  }

  plain(chars: readonly string[], split: boolean): void {
    if (chars.length === 0) return;
    if (!this.whitespace) this.write(' ');
    this.whitespace = false;
    this.indention = false;
    let spaces = false;
    let breaks = false;
    let start = 0;
    for (let end = 0; end <= chars.length; end++) {
      const ch = end < chars.length ? chars[end] : undefined;
      if (spaces) {
        if (ch !== ' ') {
          if (start + 1 === end && this.column > BEST_WIDTH && split) {
            this.writeIndent();
            this.whitespace = false;
            this.indention = false;
          } else {
            this.write(chars.slice(start, end).join(''));
          }
          start = end;
        }
      } else if (breaks) {
        if (ch === undefined || !LINE_BREAKS.includes(ch)) {
          this.breaks(chars, start, end);
          this.whitespace = false;
          this.indention = false;
          start = end;
        }
      } else if (ch === undefined || ' \n\x85\u2028\u2029'.includes(ch)) {
        this.write(chars.slice(start, end).join(''));
        start = end;
      }
      if (ch !== undefined) {
        spaces = ch === ' ';
        breaks = LINE_BREAKS.includes(ch);
      }
    }
  }

  singleQuoted(chars: readonly string[], split: boolean): void {
    this.indicator("'", true);
    let spaces = false;
    let breaks = false;
    let start = 0;
    for (let end = 0; end <= chars.length; end++) {
      const ch = end < chars.length ? chars[end] : undefined;
      if (spaces) {
        if (ch === undefined || ch !== ' ') {
          if (start + 1 === end && this.column > BEST_WIDTH && split && start !== 0 && end !== chars.length) {
            this.writeIndent();
          } else {
            this.write(chars.slice(start, end).join(''));
          }
          start = end;
        }
      } else if (breaks) {
        if (ch === undefined || !LINE_BREAKS.includes(ch)) {
          this.breaks(chars, start, end);
          start = end;
        }
      } else if (ch === undefined || ' \n\x85\u2028\u2029'.includes(ch) || ch === "'") {
        if (start < end) {
          this.write(chars.slice(start, end).join(''));
          start = end;
        }
      }
      if (ch === "'") {
        this.write("''");
        start = end + 1;
      }
      if (ch !== undefined) {
        spaces = ch === ' ';
        breaks = LINE_BREAKS.includes(ch);
      }
    }
    this.indicator("'", false);
  }

  doubleQuoted(chars: readonly string[], split: boolean): void {
    this.indicator('"', true);
    let start = 0;
    for (let end = 0; end <= chars.length; end++) {
      const ch = end < chars.length ? chars[end] : undefined;
      if (ch === undefined || '"\\\x85\u2028\u2029\ufeff'.includes(ch) || !(ch >= '\x20' && ch <= '\x7e')) {
        if (start < end) {
          this.write(chars.slice(start, end).join(''));
          start = end;
        }
        if (ch !== undefined) {
          const cp = ch.codePointAt(0)!;
          const hex = cp.toString(16).toUpperCase();
          this.write(
            ch in ESCAPES
              ? `\\${ESCAPES[ch]}`
              : cp <= 0xff
                ? `\\x${hex.padStart(2, '0')}`
                : cp <= 0xffff
                  ? `\\u${hex.padStart(4, '0')}`
                  : `\\U${hex.padStart(8, '0')}`,
          );
          start = end + 1;
        }
      }
      if (
        end > 0 && end < chars.length - 1 && (ch === ' ' || start >= end) &&
        this.column + (end - start) > BEST_WIDTH && split
      ) {
        this.write(chars.slice(start, end).join('') + '\\');
        if (start < end) start = end;
        this.writeIndent();
        this.whitespace = false;
        this.indention = false;
        if (chars[start] === ' ') this.write('\\');
      }
    }
    this.indicator('"', false);
  }
}

type Style = 'plain' | 'single' | 'double';

interface Scalar {
  text: string;
  /** False when the text would resolve to a non-string if written plain (PyYAML's `implicit[0]`). */
  plainImplicit: boolean;
}

function representScalar(value: unknown): Scalar | undefined {
  if (value === null || value === undefined) return { text: 'null', plainImplicit: true };
  if (typeof value === 'boolean') return { text: value ? 'true' : 'false', plainImplicit: true };
  if (typeof value === 'bigint') return { text: value.toString(), plainImplicit: true };
  if (typeof value === 'number' || value instanceof PyFloat) {
    const n = value instanceof PyFloat ? value.value : value;
    if (typeof value === 'number' && Number.isInteger(n) && Math.abs(n) < 1e21) {
      return { text: String(n), plainImplicit: true };
    }
    // PyYAML represent_float: '.nan', '.inf', else repr().lower() with '.0' added before a bare 'e'.
    let text = Number.isNaN(n) ? '.nan' : n === Infinity ? '.inf' : n === -Infinity ? '-.inf' : pyFloatRepr(n);
    if (!text.includes('.') && text.includes('e')) text = text.replace('e', '.0e');
    return { text, plainImplicit: true };
  }
  if (value instanceof Date) return { text: `${pyIsoformat(value, ' ')}+00:00`, plainImplicit: true };
  if (typeof value === 'string') {
    return { text: value, plainImplicit: !IMPLICIT_RESOLVERS.some((re) => re.test(value)) };
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) &&
    !(value instanceof PyFloat);
}

class Emitter {
  private readonly w = new Writer();

  constructor(private readonly sortKeys: boolean) {}

  dump(data: unknown): string {
    this.node(data, { root: true, indent: -BEST_INDENT, mapping: false, simpleKey: false, sequence: false });
    this.w.write('\n');
    return this.w.out;
  }

  private node(
    value: unknown,
    ctx: { root: boolean; indent: number; mapping: boolean; simpleKey: boolean; sequence: boolean },
  ): void {
    const scalar = representScalar(value);
    if (scalar) {
      // A root scalar gets PyYAML's flow indent (2), like any other scalar.
      this.w.indent = ctx.root ? BEST_INDENT : ctx.indent + BEST_INDENT;
      const style = this.scalar(scalar, ctx.simpleKey);
      if (ctx.root && style === 'plain') this.w.write('\n...');
      return;
    }
    if (Array.isArray(value)) {
      if (value.length === 0) return this.emptyCollection('[]');
      // Sequences directly under a mapping key are "indentless": `- item` at the key's own indent.
      const indentless = ctx.mapping && !this.w.indention;
      const indent = ctx.indent + (indentless ? 0 : BEST_INDENT);
      for (const item of value) {
        this.w.indent = indent;
        this.w.writeIndent();
        this.w.indicator('-', true, false, true);
        this.node(item, { root: false, indent, mapping: false, simpleKey: false, sequence: true });
      }
      return;
    }
    if (isPlainObject(value)) {
      let entries = Object.entries(value).filter(([, v]) => v !== undefined);
      if (entries.length === 0) return this.emptyCollection('{}');
      if (this.sortKeys) entries = entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const indent = ctx.indent + BEST_INDENT;
      for (const [key, item] of entries) {
        this.w.indent = indent;
        this.w.writeIndent();
        const keyScalar = representScalar(key)!;
        const chars = Array.from(key);
        // PyYAML check_simple_key: empty keys, keys of 128+ characters or with line breaks use `? key`.
        const keyAnalysis = analyzeScalar(chars);
        if (chars.length < 128 && !keyAnalysis.empty && !keyAnalysis.multiline) {
          this.w.indent = indent + BEST_INDENT;
          this.scalar(keyScalar, true);
          this.w.indicator(':', false);
        } else {
          this.w.indicator('?', true, false, true);
          this.w.indent = indent + BEST_INDENT;
          this.scalar(keyScalar, false);
          this.w.indent = indent;
          this.w.writeIndent();
          this.w.indicator(':', true, false, true);
        }
        this.node(item, { root: false, indent, mapping: true, simpleKey: false, sequence: false });
      }
      return;
    }
    throw new TypeError(`Cannot write a value of type ${Object.prototype.toString.call(value)} as YAML`);
  }

  private emptyCollection(text: string): void {
    this.w.indicator(text[0], true, true);
    this.w.indicator(text[1], false);
  }

  private scalar(scalar: Scalar, simpleKey: boolean): Style {
    const chars = Array.from(scalar.text);
    const analysis = analyzeScalar(chars);
    let style: Style = 'double';
    if (scalar.plainImplicit && !(simpleKey && (analysis.empty || analysis.multiline)) && analysis.allowBlockPlain) {
      style = 'plain';
    } else if (analysis.allowSingleQuoted && !(simpleKey && analysis.multiline)) {
      style = 'single';
    }
    const split = !simpleKey;
    if (style === 'plain') this.w.plain(chars, split);
    else if (style === 'single') this.w.singleQuoted(chars, split);
    else this.w.doubleQuoted(chars, split);
    return style;
  }
}

/** `yaml.safe_dump(data, default_flow_style=False)` as PyYAML writes it (keys sorted unless told not to). */
export function dumpYaml(data: unknown, options: DumpYamlOptions = {}): string {
  return new Emitter(options.sortKeys ?? true).dump(data);
}
