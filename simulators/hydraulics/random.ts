/**
 * Seeded randomness for the simulation. Every stream is derived from (scenario seed, a name), so a
 * sensor's noise does not change when another sensor is added, and the same seed gives the same run.
 */

/** 32-bit FNV-1a hash of a string, mixed with a seed. */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (from murmur3) so that near-identical names give unrelated streams
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** A small, fast, seedable generator (sfc32), with uniform and normal draws. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number, name = '') {
    this.a = hash32(name, seed);
    this.b = hash32(name, seed ^ 0x9e3779b9);
    this.c = hash32(name, seed ^ 0x7f4a7c15);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller, using both values of each pair). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/**
 * A first-order autoregressive process (AR(1)) with a given standard deviation and correlation
 * time: slow, smooth wandering, as demand and sensor drift behave, rather than white jitter.
 */
export class SlowNoise {
  private x = 0;

  constructor(private readonly rng: Rng, private readonly sd: number, private readonly tauS: number) {
    this.x = sd * rng.normal();
  }

  /** Advance by dtS seconds and return the new value. */
  step(dtS: number): number {
    if (this.sd === 0) return 0;
    const phi = Math.exp(-dtS / this.tauS);
    this.x = phi * this.x + this.sd * Math.sqrt(1 - phi * phi) * this.rng.normal();
    return this.x;
  }
}

/**
 * Slow wandering with a smooth path: an AR(1) drive (as SlowNoise) through a first-order lag of the
 * same time constant, scaled so that the output keeps the standard deviation asked for. Over hours it
 * spreads as SlowNoise does; from one minute to the next it moves by about sd·dt/τ (1/60 of sd for a
 * one-hour τ) instead of SlowNoise's sd·√(2dt/τ) (1/5.5 of sd): the summed use of a thousand
 * households drifts, it does not jump about like one random walk.
 */
export class SmoothNoise {
  private drive: number;
  private x: number;
  private readonly driveSd: number;

  constructor(private readonly rng: Rng, sd: number, private readonly tauS: number) {
    // with equal time constants the lag halves the drive's variance; start from the stationary
    // joint distribution (the output correlates with the drive by 1/√2)
    this.driveSd = sd * Math.SQRT2;
    this.drive = this.driveSd * rng.normal();
    this.x = this.drive / 2 + (this.driveSd / 2) * rng.normal();
  }

  /** Advance by dtS seconds and return the new value. */
  step(dtS: number): number {
    if (this.driveSd === 0) return 0;
    const phi = Math.exp(-dtS / this.tauS);
    this.drive = phi * this.drive + this.driveSd * Math.sqrt(1 - phi * phi) * this.rng.normal();
    this.x += (1 - phi) * (this.drive - this.x);
    return this.x;
  }
}
