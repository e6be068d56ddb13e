/**
 * The failpoint spec types and their bounds. Imports nothing: the manager reads the type names to
 * refuse a failpoint spec with a clear sentence when failpoints are off, without loading the
 * failpoint classes.
 */

/** The `instrument.type` of each failpoint. */
export const FAILPOINT_TYPES: readonly string[] = ["pause", "error", "delay"];

/** Bounds of failpoint fields. A value outside them is refused, never clamped. */
export const FAILPOINT_LIMITS = {
  /** Longest a `pause` holds a call, in ms (5 minutes). */
  pauseMs: 300_000,
  /** Longest `delay`, in ms (1 minute). */
  delayMs: 60_000,
  /** Longest `message` of an `error` failpoint, in characters. */
  message: 500,
} as const;
