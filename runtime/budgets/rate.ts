/**
 * The per-instrument rate limit: a token bucket of `burst` hits refilled at `perSecond`, checked
 * before any instrument work. The hot path is one decrement and one comparison (`tokens` is
 * Infinity without a limit); the clock is read only when the bucket is empty, and the refill is
 * computed then from the time since the last one, which never grants more than a bucket refilled
 * continuously would.
 */
import { InstrumentOptionsError } from "../instruments/errors.js";

export interface RateLimit {
  /** Hits per second, on average. */
  perSecond: number;
  /** Hits allowed at once after a quiet period. Default: `perSecond` (at least 1). */
  burst?: number;
}

/** The limit of every instrument under the default budgets (those made from specs, see docs/budgets.md). */
export const DEFAULT_RATE: Readonly<Required<RateLimit>> = Object.freeze({ perSecond: 1000, burst: 1000 });

/** A validated limit; `undefined` means none. */
export interface ResolvedRate {
  readonly perMs: number;
  readonly burst: number;
}

/**
 * Reads a limit from the `rate` option (code: a number, `{ perSecond, burst }`, or false for none)
 * or `custom.rate` (a spec: a number or `{ perSecond, burst }`, never false). Throws
 * InstrumentOptionsError for anything else.
 */
export function resolveRate(
  value: unknown,
  where: string,
  allowOff: boolean,
  fallback: ResolvedRate | undefined,
): ResolvedRate | undefined {
  if (value === undefined) return fallback;
  if (value === false && allowOff) return undefined;
  let perSecond: unknown;
  let burst: unknown;
  if (typeof value === "number") perSecond = value;
  else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    perSecond = o["perSecond"];
    burst = o["burst"];
  } else perSecond = Number.NaN;
  if (typeof perSecond !== "number" || !(perSecond > 0) || perSecond === Infinity) {
    throw new InstrumentOptionsError(
      `${where} must be a number of hits per second (> 0) or { perSecond, burst }${allowOff ? ", or false for no limit" : ""}, ` +
        `got ${JSON.stringify(value) ?? String(value)}.`,
    );
  }
  if (burst !== undefined && (typeof burst !== "number" || !(burst >= 1) || burst === Infinity)) {
    throw new InstrumentOptionsError(
      `${where}.burst must be a number of hits (>= 1), got ${JSON.stringify(burst) ?? String(burst)}.`,
    );
  }
  return { perMs: perSecond / 1000, burst: Math.floor(burst ?? Math.max(1, perSecond)) };
}

export const DEFAULT_RESOLVED_RATE: ResolvedRate = { perMs: DEFAULT_RATE.perSecond / 1000, burst: DEFAULT_RATE.burst };
