/**
 * Time ratios paired by round. On a shared machine one process of a build can run 1.5× slower
 * than another of the same build (other tenants, V8's compile and GC scheduling), so comparing
 * "the best process" of each variant compares luck. Instead each round's variant process is
 * divided by the plain process of the same round and workload — they ran seconds apart, so drift
 * that lasts a while hits both — and the median over rounds is reported, with the min–max of
 * the per-round values as the honest error bar.
 */
import { median } from "./stats.js";

/** One value per round, combined from two processes of that round. */
export interface Paired {
  /** Median over the rounds where both processes succeeded; NaN when there is none. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Per round, in round order; null where either process failed. */
  readonly perRound: (number | null)[];
}

/**
 * Pairs `a[r]` with `b[r]` for every round r and combines each pair with `combine` (e.g. a
 * ratio). A round where either side is missing (a failed process) is left out of the median.
 */
export function pairByRound(
  a: readonly (number | null | undefined)[],
  b: readonly (number | null | undefined)[],
  combine: (a: number, b: number) => number,
): Paired {
  const rounds = Math.max(a.length, b.length);
  const perRound: (number | null)[] = [];
  for (let r = 0; r < rounds; r++) {
    const x = a[r];
    const y = b[r];
    const ok = x != null && y != null && Number.isFinite(x) && Number.isFinite(y);
    perRound.push(ok ? combine(x, y) : null);
  }
  const values = perRound.filter((v): v is number => v !== null && !Number.isNaN(v));
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN, perRound };
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), perRound };
}

/** Per-round ratio variant ÷ baseline (process medians of the same round). */
export function pairedRatio(
  variant: readonly (number | null | undefined)[],
  baseline: readonly (number | null | undefined)[],
): Paired {
  return pairByRound(variant, baseline, (v, b) => v / b);
}

/** Per-round extra ns per hit: (variant − its off state) ÷ hits per op, same round. */
export function pairedExtraPerHit(
  variant: readonly (number | null | undefined)[],
  offState: readonly (number | null | undefined)[],
  hitsPerOp: number,
): Paired {
  return pairByRound(variant, offState, (v, off) => (v - off) / hitsPerOp);
}
