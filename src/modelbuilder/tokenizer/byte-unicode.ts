/**
 * GPT-2's `bytes_to_unicode`: byte-level BPE vocabularies (GPT-2, HF `ByteLevel`) spell every byte as one
 * printable code point, so tokens and merges are plain strings without whitespace or control characters.
 * Printable Latin-1 bytes keep their own code point; the other 68 bytes take 256, 257, ... in byte order.
 */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const keepsItsCodePoint = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) table.push(String.fromCodePoint(keepsItsCodePoint(b) ? b : next++));
  return table;
})();

/** The byte-level spelling of some bytes, e.g. " hello" -> "Ġhello". */
export function bytesToUnicode(bytes: Uint8Array | readonly number[]): string {
  let s = '';
  for (const b of bytes) s += BYTE_TO_UNICODE[b];
  return s;
}

const ASCII = /^[\x00-\x7f]*$/;
const ASCII_REMAPPED = /[\x00-\x20\x7f]/g;
const encoder = new TextEncoder();

/** The byte-level spelling of a string's UTF-8 bytes; most vocabulary entries take the ASCII shortcut. */
export function textToUnicode(text: string): string {
  if (ASCII.test(text)) return text.replace(ASCII_REMAPPED, (c) => BYTE_TO_UNICODE[c.charCodeAt(0)]);
  return bytesToUnicode(encoder.encode(text));
}
