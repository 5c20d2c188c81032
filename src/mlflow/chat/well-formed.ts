/**
 * A lone UTF-16 surrogate (`"a\ud800b"`, legal in JSON and in JS strings) cannot become UTF-8: the chat
 * template's JSON parser and the tokenizer fail on it deep in native code. Requests are checked for it up
 * front so the client hears which field is wrong.
 */

const LONE_SURROGATE = /\p{Cs}/u; // with the u flag, a paired surrogate is one code point and does not match

/** The path (`messages.0.content`) of the first string in `value` holding a lone surrogate, if any. Iterative: no depth limit. */
export function loneSurrogatePath(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [item, path] = stack.pop()!;
    if (typeof item === 'string') {
      if (LONE_SURROGATE.test(item)) return path || '(request)';
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (LONE_SURROGATE.test(key)) return path ? `${path}.${key}` : key;
        stack.push([child, path ? `${path}.${key}` : key]);
      }
    }
  }
  return undefined;
}

export const LONE_SURROGATE_MESSAGE = 'contains a lone UTF-16 surrogate, which is not Unicode text; send well-formed UTF-16/UTF-8';
