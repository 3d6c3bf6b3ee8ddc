/**
 * Seeded random number generation. Every random draw in ntk-sweep comes from a generator made
 * here, seeded from task parameters, so the same params give the same numbers bit for bit.
 * The global unseeded generator is never used.
 *
 * Generator: xoroshiro128+ from `pure-rand`, its 128-bit state taken from SHA-256 of the
 * canonical JSON of the seed material. Uniform doubles use 53 random bits
 * (`pure-rand` `uniformFloat64`); normals use the Box–Muller transform.
 */
import { createHash } from 'node:crypto';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { canonicalJson } from './hash.js';

/** A seeded stream of random numbers. Not thread-safe; make one per consumer. */
export interface Rng {
  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number;
  /** Standard normal N(0, 1) (Box–Muller, both outputs used). */
  normal(): number;
  /** Fill `out` with i.i.d. N(0, scale²) draws, in index order. Returns `out`. */
  fillNormal(out: Float64Array, scale?: number): Float64Array;
  /** Uniform integer in [0, n). @throws RangeError if n < 1. */
  int(n: number): number;
  /** In-place Fisher–Yates shuffle of `a`. Returns `a`. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T;
}

/**
 * Create a generator from arbitrary JSON-serialisable seed material, e.g.
 * `makeRng({ purpose: 'init', seed: 3, width: 512 })`. Different `purpose` strings give
 * independent streams for the same params.
 */
export function makeRng(material: unknown): Rng {
  const digest = createHash('sha256').update(canonicalJson(material)).digest();
  const state: number[] = [digest.readInt32BE(0), digest.readInt32BE(4), digest.readInt32BE(8), digest.readInt32BE(12)];
  if (!state.some((v) => v !== 0)) state[0] = 1; // all-zero state is invalid for xoroshiro
  const gen = xoroshiro128plusFromState(state);
  let spare = NaN;
  const rng: Rng = {
    uniform: () => uniformFloat64(gen),
    normal: () => {
      if (!Number.isNaN(spare)) {
        const s = spare;
        spare = NaN;
        return s;
      }
      let u = 0;
      do u = uniformFloat64(gen);
      while (u === 0);
      const v = uniformFloat64(gen);
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    fillNormal: (out, scale = 1) => {
      for (let i = 0; i < out.length; i++) out[i] = scale * rng.normal();
      return out;
    },
    int: (n) => {
      if (!(n >= 1)) throw new RangeError(`rng.int: n must be >= 1, got ${n}`);
      return Math.floor(uniformFloat64(gen) * n);
    },
    shuffle: (a) => {
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(uniformFloat64(gen) * (i + 1));
        const tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
      }
      return a;
    },
  };
  return rng;
}
