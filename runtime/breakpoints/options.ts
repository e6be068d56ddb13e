/** What a breakpoint is created with: its options, its action, its target arguments. */
import type { Condition } from "./conditions.js";
import { BreakpointMisuseError } from "./errors.js";
import type { BreakpointEvent, Hit } from "./hit.js";
import { resolveMember } from "./target.js";

export interface BreakpointOptions {
  /** Where calls are caught: "call" (before the body, the default), "return" (after it), "error". */
  event?: BreakpointEvent;
  /** Which calls: every one (default), the n-th (from 0), a list of those, or a predicate over the arguments. */
  condition?: Condition;
  /**
   * Milliseconds for both sides: how long `wait()` waits by default, how long a parked call waits
   * before it throws a BreakpointTimeoutError, and how long dispose waits for started tasks.
   * Finite; default `Breakpoint.defaultTimeoutMs`.
   */
  timeoutMs?: number;
  /** Runs at every hit (on the test's thread), before the breakpoint's action. */
  fire?: (hit: Hit) => unknown;
  /** Aborting it (node:test's `t.signal`, Vitest's `context.signal`) disarms and releases everything. */
  signal?: AbortSignal;
  /** Act on the first matching call only; later calls go on untouched. */
  once?: boolean;
}

export interface WaitOptions {
  /** Resolve once this many hits happened since the last `release()` (default 1). */
  hits?: number;
  /** Default: the breakpoint's `timeoutMs`. */
  timeoutMs?: number;
}

export type Action =
  | { readonly kind: "block" }
  | { readonly kind: "fire" }
  | { readonly kind: "error"; readonly error: unknown }
  | { readonly kind: "delay"; readonly ms: number }
  | { readonly kind: "return"; readonly value: unknown };

export type TargetArgs<O> = [target: string, options?: O] | [owner: object, method: string, options?: O];
export type AnyTargetArgs<O> = [target: string | object, methodOrOptions?: string | O, options?: O];

export const EVENTS: readonly BreakpointEvent[] = ["call", "return", "error"];

export function checkTimeout(ms: unknown, what: string): number {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) {
    throw new BreakpointMisuseError(
      `${what} must be a finite number of milliseconds > 0 (never infinite), got ${String(ms)}.`,
    );
  }
  return ms;
}

export function splitTarget<O>(args: TargetArgs<O> | AnyTargetArgs<O>): { target: string; options: O | undefined } {
  const [a, b, c] = args as [unknown, unknown, unknown];
  if (typeof a === "string") return { target: a, options: b as O | undefined };
  if (typeof b !== "string") {
    throw new BreakpointMisuseError(
      `A breakpoint target is a qualified name ("src/file.ts:Class.method") or (objectOrClass, "method").`,
    );
  }
  return { target: resolveMember(a, b), options: c as O | undefined };
}
