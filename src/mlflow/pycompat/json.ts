/**
 * Python's `json.dumps` / `json.loads` as MLflow calls them for signatures, input examples and tracking
 * payloads: ASCII-only output, Python's separators, NaN and Infinity as Python writes them.
 */
import { PyFloat, pyNumberRepr } from './repr.js';

function jsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    // ensure_ascii=True: everything outside ' '..'~' becomes \uXXXX (UTF-16 units, like Python).
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += text[i];
  }
  return `${out}"`;
}

function jsonNumber(value: number | PyFloat): string {
  const n = value instanceof PyFloat ? value.value : value;
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return pyNumberRepr(value);
}

/**
 * Python `json.dumps(value)` (`indent` unset: separators `", "` and `": "`), or with `indent` the
 * multi-line form (`","` and `": "`). ASCII only, NaN/Infinity as Python writes them.
 * `undefined` object members are left out, as JSON.stringify does.
 */
export function pyJsonDumps(value: unknown, options: { indent?: number; sortKeys?: boolean } = {}): string {
  const { indent, sortKeys = false } = options;
  const walk = (v: unknown, level: number): string => {
    if (v === null || v === undefined) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'number' || v instanceof PyFloat) return jsonNumber(v);
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'string') return jsonString(v);
    const toJSON = (v as { toJSON?: () => unknown }).toJSON;
    if (typeof toJSON === 'function') return walk(toJSON.call(v), level);
    let items: string[];
    let open: string;
    let close: string;
    if (Array.isArray(v)) {
      items = v.map((item) => walk(item, level + 1));
      [open, close] = ['[', ']'];
    } else if (typeof v === 'object') {
      let entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
      if (sortKeys) entries = entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      items = entries.map(([k, x]) => `${jsonString(k)}: ${walk(x, level + 1)}`);
      [open, close] = ['{', '}'];
    } else {
      throw new TypeError(`Object of type ${typeof v} is not JSON serializable`);
    }
    if (items.length === 0) return open + close;
    if (indent === undefined) return open + items.join(', ') + close;
    const pad = '\n' + ' '.repeat(indent * (level + 1));
    return open + pad + items.join(',' + pad) + '\n' + ' '.repeat(indent * level) + close;
  };
  return walk(value, 0);
}

/** Python `json.loads`: also accepts the NaN / Infinity / -Infinity tokens Python writes. */
export function pyJsonLoads(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // Only pay for the token rewrite when plain JSON fails; strings are skipped so their text is untouched.
    const rewritten = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (m) =>
      m.startsWith('"') ? m : m === 'NaN' ? '"\u0000NaN"' : m === 'Infinity' ? '"\u0000Inf"' : '"\u0000-Inf"',
    );
    if (rewritten === text) throw error;
    return JSON.parse(rewritten, (_k, v) =>
      v === '\u0000NaN' ? NaN : v === '\u0000Inf' ? Infinity : v === '\u0000-Inf' ? -Infinity : v,
    );
  }
}
