// Seeded random indices for the resampling tests.
//
// The generator is seedrandom's Tyche-i (a small-state generator that passes BigCrush; of
// seedrandom's good generators it was the fastest here, alea and xor4096 taking 1.3–1.7× as long),
// seeded with String(seed) and read as raw 32-bit words. Indices are exactly uniform, by Lemire's
// multiply-and-reject method ("Fast random integer generation in an interval", ACM TOMACS 2019):
// for a range n <= 2^16 each 32-bit word yields two 16-bit halves, so resampling 1000 values
// costs about one generator call per two indices; rejections are rare (< n / 2^16).
import seedrandom from "seedrandom";

export type Seed = number | string;

export function isSeed(value: unknown): value is Seed {
  return (typeof value === "number" && Number.isFinite(value)) || typeof value === "string";
}

const TWO_16 = 65536;
const TWO_32 = 4294967296;
const TWO_21 = 2097152;

/** A reproducible stream of uniform random indices. */
export interface IndexStream {
  /** The sum of `count` values drawn uniformly, with replacement, from `values` (a bootstrap). */
  sampleSum(values: Float64Array, count: number): number;
  /**
   * A partial Fisher–Yates shuffle of `pool` in place: for i < k, swaps item i with a uniformly
   * chosen item of i..n-1, so that pool[0..k) is a uniform random k-subset (in random order).
   * Returns the sum of those k values.
   */
  shuffleSum(pool: Float64Array, k: number): number;
}

/** An index stream for a seed. Numbers and their decimal strings give the same stream. */
export function createIndexStream(seed: Seed): IndexStream {
  return indexStreamFrom(seedrandom.tychei(String(seed)).int32);
}

/** An index stream over any source of 32-bit words (`next() >>> 0` uniform on [0, 2^32)). */
export function indexStreamFrom(next: () => number): IndexStream {
  // An unused 16-bit half of the last word, or -1.
  let spare = -1;

  /** A uniform integer in [0, range) for 2^16 < range < 2^32 (rare: huge samples). */
  function wide(range: number): number {
    if (range <= TWO_21) {
      // 32-bit Lemire: u * range is exact in a double below 2^53.
      const threshold = TWO_32 % range;
      for (;;) {
        const m = (next() >>> 0) * range;
        const high = Math.floor(m / TWO_32);
        if (m - high * TWO_32 >= threshold) return high;
      }
    }
    // 53 bits from two words; the bias is below range / 2^53.
    const u = (next() >>> 0) * TWO_21 + ((next() >>> 0) >>> 11);
    return Math.floor((u / 9007199254740992) * range);
  }

  /** A uniform integer in [0, range) for range <= 2^16, from 16-bit halves (Lemire). */
  function narrow(range: number): number {
    const threshold = TWO_16 % range;
    for (;;) {
      let h: number;
      if (spare >= 0) {
        h = spare;
        spare = -1;
      } else {
        const w = next() >>> 0;
        h = w & 0xffff;
        spare = w >>> 16;
      }
      const m = h * range;
      if ((m & 0xffff) >= threshold) return m >>> 16;
    }
  }

  return {
    // The loops below inline `narrow` for speed: they are the resampling tests' hot path.
    sampleSum(values, count) {
      const n = values.length;
      if (n < 1 && count > 0) throw new RangeError("cannot draw from no values");
      let sum = 0;
      if (n > TWO_16) {
        for (let i = 0; i < count; i++) sum += values[wide(n)] as number;
        return sum;
      }
      const threshold = TWO_16 % n;
      let i = 0;
      let s = spare;
      if (s >= 0 && count > 0) {
        const m = s * n;
        if ((m & 0xffff) >= threshold) {
          sum += values[m >>> 16] as number;
          i++;
        }
        s = -1;
      }
      while (i < count) {
        const w = next() >>> 0;
        const m1 = (w & 0xffff) * n;
        if ((m1 & 0xffff) >= threshold) {
          sum += values[m1 >>> 16] as number;
          i++;
        }
        if (i < count) {
          const m2 = (w >>> 16) * n;
          if ((m2 & 0xffff) >= threshold) {
            sum += values[m2 >>> 16] as number;
            i++;
          }
        } else {
          s = w >>> 16;
        }
      }
      spare = s;
      return sum;
    },

    shuffleSum(pool, k) {
      const n = pool.length;
      if (k > n) throw new RangeError(`cannot draw ${k} of ${n} items`);
      let sum = 0;
      if (n > TWO_16) {
        for (let i = 0; i < k; i++) {
          const range = n - i;
          const j = i + (range > TWO_16 ? wide(range) : narrow(range));
          const v = pool[j] as number;
          pool[j] = pool[i] as number;
          pool[i] = v;
          sum += v;
        }
        return sum;
      }
      let s = spare;
      let i = 0;
      while (i < k) {
        let h: number;
        if (s >= 0) {
          h = s;
          s = -1;
        } else {
          const w = next() >>> 0;
          h = w & 0xffff;
          s = w >>> 16;
        }
        const range = n - i;
        const m = h * range;
        const low = m & 0xffff;
        // Lemire: accept at once when low >= range (the threshold 2^16 mod range is below it).
        if (low < range && low < TWO_16 % range) continue;
        const j = i + (m >>> 16);
        const v = pool[j] as number;
        pool[j] = pool[i] as number;
        pool[i] = v;
        sum += v;
        i++;
      }
      spare = s;
      return sum;
    },
  };
}
