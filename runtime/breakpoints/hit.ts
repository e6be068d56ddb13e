/**
 * A hit: one call that met a breakpoint's condition, as the test sees it. Hits of calls on the
 * test's own thread hold the live values; hits that came from a worker thread hold structured
 * clones of them (see worker-side.ts).
 */
import { fileURLToPath } from "node:url";
import type { CallFrame, FunctionInfo, SiteInfo } from "../registry/index.js";
import { HERE } from "./location.js";

export type BreakpointEvent = "call" | "return" | "error";

/** What the test can read about a call the breakpoint caught. */
export class Hit {
  /** @internal */
  parkState: "none" | "parked" | "released" | "timed out" = "none";
  /** @internal The worker's number for the call (worker hits only). */
  seq = 0;
  /** @internal Lets the parked call go on (set while parked). */
  resume: (() => void) | undefined = undefined;

  /** @internal */
  constructor(
    /** The breakpoint's target (qualified name). */
    readonly target: string,
    /** Where the call was caught: before its body, after it returned, or when it threw. */
    readonly event: BreakpointEvent,
    /** Number of the call among those that reached the event since the breakpoint was armed (from 0). */
    readonly call: number,
    /** The call's arguments (one per parameter; a destructured parameter is an object of its names). */
    readonly args: readonly unknown[],
    /** The call's `this` (undefined for arrow functions and before `super()`). */
    readonly self: unknown,
    /** Named values at the site: parameters at "call", the function's locals at "return". */
    readonly locals: Readonly<Record<string, unknown>>,
    /** What the call returned ("return" event; an async function's settled value). */
    readonly result: unknown,
    /** What the call threw ("error" event). */
    readonly error: unknown,
    /** The call stack at the site, innermost first, without Diagnose's own frames. */
    readonly stack: readonly string[],
    /** Thread the call ran on: 0 for the main thread, else the worker's `threadId`. */
    readonly thread: number,
    /** When it was caught (ms on the monotonic clock, like `performance.now()`). */
    readonly time: number,
  ) {}

  /** The call's `this` (an alias of `self`). */
  get this(): unknown {
    return this.self;
  }

  /** Whether the call is parked at the site right now, waiting for `release()`. */
  get parked(): boolean {
    return this.parkState === "parked";
  }
}

/** Names of the parameters and their values, from the entry arguments. */
export function paramLocals(fn: FunctionInfo | undefined, args: readonly unknown[]): Record<string, unknown> {
  const locals: Record<string, unknown> = {};
  if (fn === undefined) return locals;
  fn.params.forEach((descriptor, i) => {
    const value = args[i];
    if (descriptor.startsWith("{") || descriptor.startsWith("[")) {
      // A destructuring pattern arrives as an object of its bound names.
      for (const name of descriptor.slice(1, -1).split(",")) {
        if (name === "") continue;
        try {
          locals[name] = value === null || value === undefined ? undefined : (value as Record<string, unknown>)[name];
        } catch {
          locals[name] = undefined;
        }
      }
    } else {
      locals[descriptor.replace(/^\.\.\./, "").replace(/=$/, "")] = value;
    }
  });
  return locals;
}

/** The site's locals by name. */
export function siteLocals(site: SiteInfo, values: readonly unknown[]): Record<string, unknown> {
  const locals: Record<string, unknown> = {};
  site.locals.forEach((name, i) => (locals[name] = values[i]));
  return locals;
}

export function argsOf(frame: CallFrame | undefined): readonly unknown[] {
  return frame === undefined ? [] : frame.args;
}

const OWN_DIRS = [new URL("../registry/", HERE), HERE].flatMap((u) => [u.href, fileURLToPath(u)]);

/** The current stack without the registry's and the breakpoint's frames. */
export function captureStack(): string[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  let text: string | undefined;
  try {
    text = new Error().stack;
  } finally {
    Error.stackTraceLimit = limit;
  }
  if (text === undefined) return [];
  return text
    .split("\n")
    .slice(1)
    .map((line) => line.trim().replace(/^at /, ""))
    .filter((line) => !OWN_DIRS.some((dir) => line.includes(dir)));
}
