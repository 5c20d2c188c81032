/**
 * JSON bodies nested deeper than this are refused before parsing. Python's `json` gives up at its
 * recursion limit (1000) too; deeper values would overflow the stack of every recursive walk after the
 * parse (schema checks, error messages, JSON.stringify), well under any body limit (`[` × 100,000).
 */
export const MAX_JSON_DEPTH = 1000;

/** Whether `text` nests arrays/objects deeper than `limit`: one pass, strings skipped, no parse. */
export function jsonTooDeep(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
