/**
 * What a breakpoint does at a site, per event and kind: the decision its watcher returns to the
 * registry (pause, fault, replaced value or error) for calls on the test's thread, and the answer
 * for calls in a worker. Everything here runs inside a registry hook: it never throws.
 *
 * Holding a call needs an await: on the test's thread only async functions can be held, at "call"
 * (a pause) and at "return" (the async function's result becomes a promise that settles on
 * release). At "error" the exception is already on its way: only a worker can hold it.
 */
import type { CallFrame, FunctionInfo, SiteInfo } from "../registry/index.js";
import { sleep } from "./clock.js";
import { argsOf, paramLocals, siteLocals, type BreakpointEvent, type Hit } from "./hit.js";
import { markInjected } from "./injected.js";
import type { Action } from "./options.js";
import type { Answer } from "./protocol.js";
import { cloneable } from "./protocol.js";

/** What the site functions use of their breakpoint. */
export interface SiteHost {
  readonly target: string;
  readonly action: Action;
  /** The watched function (for exits of calls that began before the breakpoint was armed). */
  fn(): FunctionInfo | undefined;
  /** Counts the call; its hit when the condition accepts it. */
  hitOf(
    event: BreakpointEvent,
    frame: CallFrame | undefined,
    locals: () => Record<string, unknown>,
    result: unknown,
    error: unknown,
  ): Hit | undefined;
  /** Parks the call; resolves on release, or to `{ throw }` when its own timeout passed. */
  park(hit: Hit): Promise<{ throw: { error: unknown } } | undefined>;
  /** Whether the call can be held here; records a misuse if not. */
  canHold(fn: FunctionInfo | undefined, event: BreakpointEvent, isAsync: boolean): boolean;
  misuse(message: string): void;
  problem(error: unknown): void;
}

const ASYNC = 1;

function isAsync(fn: FunctionInfo | undefined): boolean {
  return fn !== undefined && (fn.flags & ASYNC) !== 0;
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  try {
    return (
      value !== null &&
      (typeof value === "object" || typeof value === "function") &&
      typeof (value as PromiseLike<unknown>).then === "function"
    );
  } catch {
    return false;
  }
}

export function atCall(
  bp: SiteHost,
  frame: CallFrame,
): { pause: Promise<unknown> } | { throw: { error: unknown } } | undefined {
  const hit = bp.hitOf("call", frame, () => paramLocals(frame.fn, frame.args), undefined, undefined);
  if (hit === undefined) return undefined;
  const a = bp.action;
  switch (a.kind) {
    case "block":
      if (!bp.canHold(frame.fn, "call", isAsync(frame.fn))) return undefined;
      return { pause: bp.park(hit) };
    case "delay":
      if (!bp.canHold(frame.fn, "call", isAsync(frame.fn))) return undefined;
      return { pause: sleep(a.ms) };
    case "error":
      markInjected(a.error);
      return { throw: { error: a.error } };
    default:
      return undefined;
  }
}

export function atReturn(
  bp: SiteHost,
  frame: CallFrame | undefined,
  site: SiteInfo,
  value: unknown,
  locals: readonly unknown[],
): { value: unknown } | { throw: { error: unknown } } | undefined {
  const fn = frame?.fn ?? bp.fn();
  const isAsync = fn !== undefined && (fn.flags & ASYNC) !== 0;
  if (isAsync && isThenable(value)) {
    // `return promise` in an async function: the hit shows the settled value, and what the call
    // resolves to is decided once it settled.
    return {
      value: Promise.resolve(value).then((settled) => {
        const d = returnDecision(bp, frame, site, settled, locals, true);
        if (d === undefined) return settled;
        if ("throw" in d) throw d.throw.error;
        return d.value;
      }),
    };
  }
  return returnDecision(bp, frame, site, value, locals, isAsync);
}

function returnDecision(
  bp: SiteHost,
  frame: CallFrame | undefined,
  site: SiteInfo,
  value: unknown,
  locals: readonly unknown[],
  isAsync: boolean,
): { value: unknown } | { throw: { error: unknown } } | undefined {
  try {
    const hit = bp.hitOf("return", frame, () => siteLocals(site, locals), value, undefined);
    if (hit === undefined) return undefined;
    const a = bp.action;
    switch (a.kind) {
      case "block": {
        if (!bp.canHold(frame?.fn ?? bp.fn(), "return", isAsync)) return undefined;
        const parked = bp.park(hit);
        return {
          value: parked.then((r) => {
            if (r !== undefined) throw r.throw.error;
            return value;
          }),
        };
      }
      case "delay":
        if (!bp.canHold(frame?.fn ?? bp.fn(), "return", isAsync)) return undefined;
        return { value: sleep(a.ms).then(() => value) };
      case "error":
        markInjected(a.error);
        return { throw: { error: a.error } };
      case "return":
        return { value: a.value };
      default:
        return undefined;
    }
  } catch (err) {
    bp.problem(err);
    return undefined;
  }
}

export function atError(bp: SiteHost, frame: CallFrame | undefined, error: unknown): { error: unknown } | undefined {
  const fn = frame?.fn ?? bp.fn();
  const hit = bp.hitOf("error", frame, () => paramLocals(fn, argsOf(frame)), undefined, error);
  if (hit === undefined) return undefined;
  const a = bp.action;
  if (a.kind === "block" || a.kind === "delay") {
    bp.misuse(
      `Breakpoint on ${bp.target} cannot hold a call at "error" on the test's own thread: the exception is already ` +
        `on its way. Run the code with bp.startWorker(...) (a worker thread blocks at the site), or use event "call" or "return".`,
    );
    return undefined;
  }
  if (a.kind === "error") {
    markInjected(a.error);
    return { error: a.error };
  }
  return undefined;
}

/** The answer to a worker's call that met the condition, or "park" (answered on release). */
export function workerAnswer(action: Action, seq: number): Answer | "park" {
  switch (action.kind) {
    case "block":
      return "park";
    case "error":
      markInjected(action.error);
      return { seq, action: "throw", error: cloneable(action.error) };
    case "delay":
      return { seq, action: "delay", ms: action.ms };
    case "return":
      return { seq, action: "return", value: cloneable(action.value) };
    default:
      return { seq, action: "go" };
  }
}
