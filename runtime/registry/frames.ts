/**
 * Call frames: one per call of a watched function, created by its entry hook and handed back to
 * the generated code, which keeps it in the call's own `$dgf` variable (so recursion, async
 * interleaving and generators pair every exit with its own entry).
 */
import { performance } from "node:perf_hooks";
import type { FrameABI } from "../../abi/index.js";
import type { CallFrame, FunctionInfo } from "./types.js";

/**
 * Every field is initialised in the constructor, in one order, so all frames share one hidden
 * class and the generated code's `.a` / `.w` loads stay monomorphic.
 */
export class Frame implements CallFrame, FrameABI {
  /** Replacement arguments (read by the generated code). */
  a: unknown[] | undefined = undefined;
  /** Pause promise an async function awaits at entry (read by the generated code). */
  w: Promise<unknown> | undefined = undefined;
  /** Fault requested by a watcher, thrown once every watcher ran. @internal */
  fault: { error: unknown } | undefined = undefined;
  /** See CallFrame.mark. @internal */
  mark: unknown = undefined;
  private date: Date | undefined = undefined;

  constructor(
    readonly fn: FunctionInfo,
    readonly self: unknown,
    readonly args: readonly unknown[],
    readonly start: number,
  ) {}

  /** Derived from `start` on first read: no Date is allocated for calls nobody asks about. */
  get startDate(): Date {
    return (this.date ??= new Date(performance.timeOrigin + this.start));
  }
}

/**
 * Returned by an entry hook that finds nothing to dispatch to (a flag raced with a close, or an
 * inert table): the generated code reads `.a`, so a hook never returns undefined.
 */
export const NO_FRAME: FrameABI = Object.freeze({ a: undefined, w: undefined });
