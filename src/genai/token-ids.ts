import { ValidationError } from '../errors.js';

/**
 * Refuses ids outside [0, vocabSize): the library embeds them without a word (-1 wraps to the last row of the
 * embedding table). `vocabSize` undefined (not in genai_config.json) checks nothing.
 */
export function checkTokenIds(tokens: ArrayLike<number>, vocabSize: number | undefined, what: string): void {
  if (vocabSize === undefined || typeof tokens !== 'object' || tokens === null) return;
  for (let i = 0; i < tokens.length; i++) {
    if (!(tokens[i] >= 0 && tokens[i] < vocabSize)) {
      throw new ValidationError(`${what} ${tokens[i]} at position ${i} is outside the vocabulary [0, ${vocabSize})`);
    }
  }
}
