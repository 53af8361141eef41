// The t and normal distributions the tests need, built on jStat.
//
// jStat's own `studentt.cdf` goes through `ibeta`, whose continued fraction stops at a relative
// change of 3e-7 (Numerical Recipes' EPS) and computes small upper tails as 1 - cdf. Measured
// against scipy that leaves p-values up to 3e-7 off. So the regularised incomplete beta below
// evaluates the same continued fraction (DLMF 8.17.22, modified Lentz) to full double precision,
// takes both tails directly (no 1 - x cancellation for small p), and uses jStat's `loggam`
// (SPECFUN, ~1e-15) for the beta function. The normal distribution and the quantile starting
// points are jStat's.
import jStat from "jstat";

const TINY = 1e-300;
const EPS = 1e-16;

/** Continued fraction for I_x(a, b), valid (fast) for x < (a + 1) / (a + b + 2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const maxIterations = 1000 + Math.ceil(20 * Math.sqrt(Math.max(a, b)));
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= maxIterations; m++) {
    const m2 = 2 * m;
    // even step
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    // odd step
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return h;
}

function logBeta(a: number, b: number): number {
  return jStat.loggam(a) + jStat.loggam(b) - jStat.loggam(a + b);
}

/**
 * Regularised incomplete beta I_x(a, b) and its complement 1 - I_x(a, b), each computed without
 * cancellation. `y` must be 1 - x, computed by the caller as accurately as it can.
 */
export function incompleteBeta(x: number, y: number, a: number, b: number): { lower: number; upper: number } {
  if (x <= 0) return { lower: 0, upper: 1 };
  if (y <= 0) return { lower: 1, upper: 0 };
  const logX = x < 0.5 ? Math.log(x) : Math.log1p(-y);
  const logY = y < 0.5 ? Math.log(y) : Math.log1p(-x);
  const front = Math.exp(a * logX + b * logY - logBeta(a, b));
  if (x < (a + 1) / (a + b + 2)) {
    const lower = (front * betaContinuedFraction(x, a, b)) / a;
    return { lower, upper: 1 - lower };
  }
  const upper = (front * betaContinuedFraction(y, b, a)) / b;
  return { lower: 1 - upper, upper };
}

/** P(|T| >= |t|) for Student's t with `df` degrees of freedom. */
export function tTwoSided(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df)) return Number.NaN;
  if (!Number.isFinite(t)) return 0;
  if (t === 0) return 1;
  const t2 = t * t;
  // I_{df/(df+t^2)}(df/2, 1/2) is the two-sided tail.
  return incompleteBeta(df / (df + t2), t2 / (df + t2), df / 2, 0.5).lower;
}

/** P(T <= t). */
export function tCdf(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df)) return Number.NaN;
  if (t === Number.POSITIVE_INFINITY) return 1;
  if (t === Number.NEGATIVE_INFINITY) return 0;
  const half = tTwoSided(t, df) / 2;
  return t < 0 ? half : 1 - half;
}

/** P(T >= t). */
export function tSf(t: number, df: number): number {
  return tCdf(-t, df);
}

/** The p-quantile of Student's t: jStat's estimate refined by Newton steps on `tCdf`. */
export function tQuantile(p: number, df: number): number {
  if (Number.isNaN(p) || Number.isNaN(df)) return Number.NaN;
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  // Work in the lower tail, where the cdf has full relative precision.
  const lower = Math.min(p, 1 - p);
  let x = jStat.studentt.inv(lower, df);
  if (!Number.isFinite(x) || x >= 0) x = -1;
  for (let i = 0; i < 50; i++) {
    const density = jStat.studentt.pdf(x, df);
    if (!(density > 0)) break;
    const step = (tCdf(x, df) - lower) / density;
    let next = x - step;
    if (next >= 0) next = x / 2; // stay in the lower tail
    if (Math.abs(next - x) <= 1e-15 * Math.abs(x)) {
      x = next;
      break;
    }
    x = next;
  }
  return p < 0.5 ? x : -x;
}

/** P(Z >= z) for the standard normal. */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  return 0.5 * jStat.erfc(z / Math.SQRT2);
}

/** P(Z <= z) for the standard normal. */
export function normalCdf(z: number): number {
  return normalSf(-z);
}

/** The p-quantile of the standard normal (−∞ at 0, +∞ at 1, like scipy's `ndtri`). */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p)) return Number.NaN;
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  return jStat.normal.inv(p, 0, 1);
}
