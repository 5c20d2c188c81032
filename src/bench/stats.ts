/** Median and spread of one metric over repeats. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** (max - min) / 2 / median: the ± shown in the table. */
  rel: number;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function spread(values: readonly number[]): Spread {
  const m = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { median: m, min, max, rel: m === 0 ? 0 : (max - min) / 2 / m };
}
