// Sums, means and variances, computed carefully: compensated (Neumaier) summation and two-pass
// variances, so a difference of two close means keeps its digits.

/** Compensated sum. */
export function sum(values: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

export function mean(values: ArrayLike<number>): number {
  return sum(values) / values.length;
}

/** Sum of squared deviations from the mean (two-pass). */
export function sumOfSquares(values: ArrayLike<number>, centre: number = mean(values)): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const d = (values[i] as number) - centre;
    const v = d * d;
    const t = s + v;
    c += s >= v ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

/** Sample variance (denominator n - 1). */
export function variance(values: ArrayLike<number>, centre: number = mean(values)): number {
  return sumOfSquares(values, centre) / (values.length - 1);
}

/** Sum of |x|, a scale for numerical tolerances. */
export function sumAbs(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += Math.abs(values[i] as number);
  return s;
}
