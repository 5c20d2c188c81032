/**
 * Greedy selection from the last position of [batch, seq, vocab] logits, never choosing an EOS id: the
 * same effect as ORT-GenAI's min_length = max_length, so the JS peers do exactly the C++ loop's work.
 */
export function argmaxRows(logits: Float32Array, batch: number, dims: readonly number[], banned: readonly number[]): number[] {
  const vocab = dims[dims.length - 1];
  const seq = dims.length === 3 ? dims[1] : 1;
  const next: number[] = [];
  for (let b = 0; b < batch; b++) {
    const base = (b * seq + seq - 1) * vocab;
    let best = -1;
    let bestValue = -Infinity;
    for (let v = 0; v < vocab; v++) {
      const x = logits[base + v];
      if (x > bestValue && !banned.includes(v)) {
        best = v;
        bestValue = x;
      }
    }
    next.push(best);
  }
  return next;
}
