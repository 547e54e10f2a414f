import { GradkitError } from './errors.js';

/** SplitMix32: turns any 32-bit seed into well-mixed words (used to seed and to split). */
function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [state, z >>> 0];
}

/**
 * A seeded, splittable random generator (xoshiro128**). Every random result in gradkit comes
 * from one of these, so a seed reproduces a run exactly. `split()` derives an independent
 * stream without disturbing reproducibility of the parent's later draws more than one step.
 */
export class Random {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal: number | null = null;

  constructor(seed = 0) {
    if (!Number.isFinite(seed)) throw new GradkitError('Random', `seed must be a finite number, got ${seed}`);
    this.reseed(seed);
  }

  reseed(seed: number): void {
    // Fold both halves of a large integer seed so seeds above 2^32 still differ.
    let st = (Math.floor(seed) ^ Math.floor(seed / 0x100000000)) | 0;
    let w: number;
    [st, w] = splitmix32(st);
    this.s0 = w;
    [st, w] = splitmix32(st);
    this.s1 = w;
    [st, w] = splitmix32(st);
    this.s2 = w;
    [st, w] = splitmix32(st);
    this.s3 = w;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spareNormal = null;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /**
   * Fills `out` with uniform draws on [low, high): the very values `uniform(low, high)` called
   * once per element would give, in order. The generator's state stays in locals for the loop:
   * measured 26 ns a draw through uniform() in a per-element callback (a dropout mask of 100k
   * values took ~6% of the digits CNN's step), a few ns here. The loop body is nextUint32's step
   * written out on locals, on purpose; test/tensor.test.ts holds the two to the same stream.
   */
  fillUniform(out: Float32Array | Float64Array, low = 0, high = 1): void {
    let s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    const span = high - low;
    for (let i = 0; i < out.length; i++) {
      const x = Math.imul(s1, 5);
      const word = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = low + span * (word / 4294967296);
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /** Standard normal draw (Box–Muller; the second value of each pair is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [low, high). */
  int(low: number, high: number): number {
    if (!(high > low)) throw new GradkitError('Random.int', `high (${high}) must be greater than low (${low})`);
    return low + Math.floor(this.next() * (high - low));
  }

  /** An independent generator derived from this one's stream. */
  split(): Random {
    const child = new Random(0);
    child.setState([this.nextUint32(), this.nextUint32(), this.nextUint32(), this.nextUint32() | 1]);
    return child;
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** The full state, for checkpoints (resume continues the exact stream). */
  getState(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0, this.spareNormal ?? NaN];
  }

  setState(state: readonly number[]): void {
    if (state.length < 4) throw new GradkitError('Random.setState', `expected at least 4 words, got ${state.length}`);
    this.s0 = state[0] | 0;
    this.s1 = state[1] | 0;
    this.s2 = state[2] | 0;
    this.s3 = state[3] | 0;
    this.spareNormal = state.length > 4 && !Number.isNaN(state[4]) ? state[4] : null;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

let globalRng = new Random(0);

/** Reseeds the global generator used when no `rng` option is given. */
export function manualSeed(seed: number): void {
  globalRng = new Random(seed);
}

/** The global Random that random creation ops and initializers use when none is given (reset by manualSeed). */
export function getGlobalRng(): Random {
  return globalRng;
}
