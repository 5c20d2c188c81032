import r50kRanks from 'gpt-tokenizer/bpeRanks/r50k_base';
import { bytesToUnicode, textToUnicode } from './byte-unicode.js';

/** A byte-level BPE model in HF `tokenizers` form: byte-level token -> id, and merges in priority order. */
export interface BpeModel {
  readonly vocab: ReadonlyMap<string, number>;
  /** `"left right"` pairs; merge i produces token 256 + i, as in GPT-2's own merges.txt. */
  readonly merges: readonly string[];
}

/** GPT-2's whole vocabulary, `<|endoftext|>` included (as in GPT-2's own tokenizer.json). */
export interface Gpt2Bpe extends BpeModel {
  /** GPT-2's only special token, `<|endoftext|>`, after the 50256 BPE tokens. */
  readonly endOfTextId: number;
}

let cached: Gpt2Bpe | undefined;

/**
 * GPT-2's vocab and merges, rebuilt from gpt-tokenizer's `r50k_base` ranks (tiktoken's name for the GPT-2
 * encoding; rank == GPT-2 token id). A rank table has no merges, but BPE implies them: token r is made by
 * exactly one merge, the last step of running BPE on its bytes with only the ranks below r. Ordering those
 * merges by r reproduces GPT-2's merges.txt (the tests compare against the original when it is at hand).
 * Built once per process, lazily.
 */
export function gpt2Bpe(): Gpt2Bpe {
  cached ??= rebuild();
  return cached;
}

/**
 * GPT-2's first `size` ranks: the 256 bytes and the first `size - 256` merges. Merges are ordered by rank and
 * each joins two lower-ranked tokens, so the prefix is a complete byte-level BPE on its own. It tokenizes
 * like GPT-2 stopped before its first merge of rank >= size: tokens below `size` come out the same, rarer
 * ones stay split into the pieces they were merged from.
 */
export function gpt2BpePrefix(size: number): BpeModel {
  const { vocab, merges } = gpt2Bpe();
  return { vocab: new Map([...vocab].filter(([, id]) => id < size)), merges: merges.slice(0, size - 256) };
}

function rebuild(): Gpt2Bpe {
  // Ranks are strings where the token is valid UTF-8, byte arrays where it is not.
  const tokens = r50kRanks.map((t) => (typeof t === 'string' ? textToUnicode(t) : bytesToUnicode(t)));
  const vocab = new Map<string, number>();
  tokens.forEach((token, rank) => vocab.set(token, rank));
  if (vocab.size !== tokens.length) throw new Error('r50k_base ranks contain duplicate tokens');

  const merges: string[] = [];
  for (let rank = 256; rank < tokens.length; rank++) merges.push(lastMerge(tokens[rank], rank, vocab).join(' '));
  const endOfTextId = tokens.length;
  vocab.set('<|endoftext|>', endOfTextId);
  return { vocab, merges, endOfTextId };
}

/**
 * The merge that makes token `rank`: its split into two tokens of lower rank. Most tokens have only one
 * such split; for the others, BPE over its characters with only the ranks below `rank` leaves the two parts.
 * Byte-level characters are all in the BMP, so string indices are character (= byte) indices.
 */
function lastMerge(token: string, rank: number, vocab: ReadonlyMap<string, number>): [string, string] {
  let found: [string, string] | undefined;
  for (let i = 1; i < token.length; i++) {
    const left = vocab.get(token.slice(0, i));
    if (left === undefined || left >= rank) continue;
    const right = vocab.get(token.slice(i));
    if (right === undefined || right >= rank) continue;
    if (found) return bpeWithRanksBelow(token, rank, vocab);
    found = [token.slice(0, i), token.slice(i)];
  }
  if (!found) throw new Error(`r50k_base token ${rank} is not the merge of two lower-ranked tokens`);
  return found;
}

function bpeWithRanksBelow(token: string, maxRank: number, vocab: ReadonlyMap<string, number>): [string, string] {
  const parts = Array.from(token);
  while (parts.length > 2) {
    let best = -1;
    let bestRank = maxRank;
    for (let i = 0; i + 1 < parts.length; i++) {
      const rank = vocab.get(parts[i] + parts[i + 1]);
      if (rank !== undefined && rank < bestRank) {
        best = i;
        bestRank = rank;
      }
    }
    if (best < 0) break;
    parts.splice(best, 2, parts[best] + parts[best + 1]);
  }
  if (parts.length !== 2) throw new Error(`r50k_base token ${maxRank} is not the merge of two lower-ranked tokens`);
  return [parts[0], parts[1]];
}
