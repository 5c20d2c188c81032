/**
 * Seeded random numbers for weights: sfc32 (a small, fast, statistically solid generator), seeded per
 * tensor from (seed, tensor name). Per-tensor streams make a weight's values independent of the
 * order tensors are written in, so streaming, tests and the reference forward pass all agree.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = '') {
    // cyrb128-style mixing of the stream name and seed into four 32-bit words.
    let h1 = 1779033703 ^ seed;
    let h2 = 3144134277 ^ seed;
    let h3 = 1013904242;
    let h4 = 2773480762;
    for (let i = 0; i < stream.length; i++) {
      const k = stream.charCodeAt(i);
      h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
      h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
      h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
      h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
    }
    this.a = h1 >>> 0;
    this.b = h2 >>> 0;
    this.c = h3 >>> 0;
    this.d = h4 >>> 0;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Fills `out` with uniform values of mean 0 and standard deviation `std`. */
  fillUniform(out: Float32Array, std: number): Float32Array {
    const half = std * Math.sqrt(3);
    for (let i = 0; i < out.length; i++) out[i] = (this.next() * 2 - 1) * half;
    return out;
  }

  /** Fills `out` with uniform random bytes, four per draw. */
  fillBytes(out: Uint8Array): Uint8Array {
    const whole = out.byteOffset % 4 === 0 ? out.length & ~3 : 0;
    const words = new Uint32Array(out.buffer, out.byteOffset, whole >>> 2);
    for (let i = 0; i < words.length; i++) words[i] = this.nextUint32();
    for (let i = whole; i < out.length; i++) out[i] = this.nextUint32() & 0xff;
    return out;
  }
}
