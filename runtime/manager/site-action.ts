/**
 * Instruments that act on the call itself (failpoints: pause, throw, delay) instead of observing
 * it. A probe never lets an instrument change a call, so the reconciler does not hang these on a
 * probe: it arms them on their target and disarms them when their spec goes, expires or changes
 * type. The symbol marks them without the manager importing their classes (they extend
 * Instrument, whose module imports the manager).
 */
import type { WatchState } from "../registry/index.js";

export const SITE_ACTION: unique symbol = Symbol.for("diagnose.siteAction") as never;

/** @internal */
export interface SiteAction {
  /** Starts acting at `target`'s sites. Throws (a sentence for the status) when it cannot. */
  arm(target: string): void;
  /** Stops acting and lets every held call go on at once. Idempotent. */
  disarm(): void;
  /** The state of its watch: "pending" until the target's module loads. */
  readonly siteState: WatchState | "closed";
  readonly siteError: unknown;
}

/** The site action of an instrument, if it is one. @internal */
export function siteActionOf(inst: object | undefined): SiteAction | undefined {
  if (inst === undefined) return undefined;
  const sa = (inst as { [SITE_ACTION]?: SiteAction })[SITE_ACTION];
  return sa === undefined ? undefined : sa;
}
