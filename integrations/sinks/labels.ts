/**
 * Bounded label sets for metric sinks: each metric accepts at most `max` distinct label
 * combinations; events with a new combination past the cap are counted as dropped instead of
 * creating a new time series (a tag such as a user id would otherwise grow the backend without
 * bound).
 */
import { InstrumentOptionsError, type Tags } from "../../runtime/index.js";

/** The default cap on distinct label combinations per metric. */
export const DEFAULT_MAX_LABEL_SETS = 1_000;

export class LabelBudget {
  /** Events dropped because their label combination was new past the cap. */
  dropped = 0;
  private readonly seen = new Set<string>();

  constructor(readonly max: number = DEFAULT_MAX_LABEL_SETS) {}

  /** Whether `labels` may be recorded: a known combination, or a new one within the cap. */
  admit(labels: Readonly<Record<string, string>>): boolean {
    const key = JSON.stringify(
      Object.keys(labels)
        .sort()
        .map((k) => [k, labels[k]]),
    );
    if (this.seen.has(key)) return true;
    if (this.seen.size >= this.max) {
      this.dropped++;
      return false;
    }
    this.seen.add(key);
    return true;
  }

  /** How many distinct combinations were admitted. */
  get size(): number {
    return this.seen.size;
  }
}

/** Tags as label values (strings), keeping only `names` when given (missing ones become ""). */
export function toLabels(tags: Tags, names?: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (names === undefined) {
    for (const k of Object.keys(tags)) out[k] = String(tags[k]);
  } else {
    for (const k of names) out[k] = tags[k] === undefined ? "" : String(tags[k]);
  }
  return out;
}

/** The number a metric records for `raw` (a finite number or a BigInt), else undefined. */
export function metricNumber(raw: unknown): number | undefined {
  const value = typeof raw === "bigint" ? Number(raw) : raw;
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Checks a `maxLabelSets` option. */
export function checkMax(max: unknown, fallback = DEFAULT_MAX_LABEL_SETS): number {
  if (max === undefined) return fallback;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1) {
    throw new InstrumentOptionsError(`\`maxLabelSets\` must be a positive integer, got ${String(max)}.`);
  }
  return max;
}
