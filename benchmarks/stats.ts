/** Small statistics over timing samples. */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Median, extremes, and the interquartile range as a percentage of the median. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (p75 − p25) / median × 100. */
  readonly iqrPct: number;
  readonly n: number;
}

export function summarize(xs: readonly number[]): Summary {
  const m = median(xs);
  return {
    median: m,
    min: Math.min(...xs),
    max: Math.max(...xs),
    iqrPct: ((quantile(xs, 0.75) - quantile(xs, 0.25)) / m) * 100,
    n: xs.length,
  };
}
