/**
 * A watch: one watcher attached to one target. Its state machine:
 *
 *   pending ──(module registers)──> active ──close()──> closed
 *      │                              │
 *      └──(target missing)──> failed <┘ (a watcher method threw)
 *
 * A watch never leaves `closed` or `failed`. The registry owns the flag bookkeeping; a watch only
 * records what it wants (`exits`, `lines`) and where it is bound.
 */
import { isNativeError, isProxy } from "node:util/types";
import { InvalidOptionsError, WatcherError } from "./errors.js";
import type { FunctionState } from "./module-record.js";
import type { FunctionInfo, Watch, Watcher, WatchOptions, WatchState } from "./types.js";

export type Where = "entry" | "line" | "return" | "throw";

const NO_LINES = new Uint8Array(0);

/** The registry operations a watch needs (implemented by Registry). */
export interface WatchHost {
  /** Validates and applies new options to an active watch; throws on bad lines. */
  reconfigure(w: WatchImpl, options: ParsedOptions): void;
  detach(w: WatchImpl): void;
  forgetPending(w: WatchImpl): void;
}

type Method<K extends keyof Watcher> = NonNullable<Watcher[K]> | undefined;

function method<K extends keyof Watcher>(watcher: Watcher, key: K): Method<K> {
  const m = watcher[key];
  return typeof m === "function" ? (m as Method<K>) : undefined;
}

/** The watcher methods the hooks call on every hit. */
const HOT_METHODS = ["onEntry", "onLine", "onReturn", "onThrow"] as const;

/**
 * Whether reading the watcher's hot methods again can never give another value nor run code: no
 * Proxy on the way, and each method a non-writable, non-configurable data property of an object
 * below which every object of the chain (the watcher first) is non-extensible, so that no own
 * property can shadow it and no prototype can change. Such a watcher's methods are called as
 * methods (`watcher.onEntry(frame)`), which TurboFan turns into a direct call after one map
 * check, instead of `onEntry.call(watcher, frame)`, which it can only compile to a generic call
 * (the call feedback of a `.call` site names `Function.prototype.call`, not the method): ~20
 * instructions per event (test/perf/hit-instructions.ts). The method read at `watch()` is the one
 * called either way; probes' Dispatcher is such a watcher.
 */
function hasFixedMethods(watcher: object): boolean {
  for (const key of HOT_METHODS) {
    let o: object | null = watcher;
    for (;;) {
      if (o === null) break; // absent: the hooks never call it
      if (isProxy(o)) return false;
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d !== undefined) {
        if (!("value" in d) || d.writable !== false || d.configurable !== false) return false;
        break;
      }
      if (Object.isExtensible(o)) return false;
      o = Object.getPrototypeOf(o) as object | null;
    }
  }
  return true;
}

export interface ParsedOptions {
  exits: boolean;
  lines: ReadonlySet<number> | "all";
  timing: boolean;
}

function checkBoolean(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "boolean") {
    throw new InvalidOptionsError(`\`${name}\` must be a boolean, got ${JSON.stringify(value)}.`);
  }
}

/** Parses options; throws InvalidOptionsError. */
export function parseOptions(options: WatchOptions | undefined): ParsedOptions {
  if (options === undefined) return { exits: true, lines: new Set(), timing: true };
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionsError(`Watch options must be an object, got ${typeof options}.`);
  }
  const { exits, lines, timing } = options;
  checkBoolean("exits", exits);
  checkBoolean("timing", timing);
  let parsedLines: ReadonlySet<number> | "all";
  if (lines === undefined) parsedLines = new Set();
  else if (lines === "all") parsedLines = "all";
  else if (Array.isArray(lines) && lines.every((l) => Number.isInteger(l) && l > 0)) parsedLines = new Set(lines);
  else {
    throw new InvalidOptionsError(
      `\`lines\` must be "all" or an array of positive line numbers, got ${JSON.stringify(lines)}.`,
    );
  }
  return { exits: exits !== false, lines: parsedLines, timing: timing !== false };
}

export class WatchImpl implements Watch {
  state: WatchState = "pending";
  error: Error | undefined = undefined;
  /** Switch on return/end/throw sites. */
  exits = true;
  lines: ReadonlySet<number> | "all" = new Set();
  /**
   * `lines` for the line hook: `lineAll`, or `lineOn[line] === 1` (a typed array indexed by line
   * number: one load instead of a Set lookup per hit).
   */
  lineAll = false;
  lineOn: Uint8Array = NO_LINES;
  /** Whether this watch needs `frame.start`. */
  timing = true;
  /** Functions this watch is attached to (several when one module path has several versions). */
  bound: FunctionState[] = [];
  /** Module paths this watch is indexed under while pending. */
  pendingKeys: string[] = [];
  /** True while active: checked by the hooks before each call into the watcher. */
  live = false;
  /** The (first) function this watch attached to; kept after close for status displays. */
  info: FunctionInfo | undefined = undefined;

  // The watcher's methods, read once at watch() so the hot path does monomorphic loads on this
  // class instead of property lookups on arbitrary watcher objects.
  readonly onEntry: Method<"onEntry">;
  readonly onLine: Method<"onLine">;
  readonly onReturn: Method<"onReturn">;
  readonly onThrow: Method<"onThrow">;
  private readonly onError: Method<"onError">;
  private readonly onStateChange: Method<"onStateChange">;
  /** See `hasFixedMethods`: the hooks may call `watcher.onEntry(…)` etc. directly. */
  readonly fixed: boolean;

  constructor(
    readonly target: string,
    readonly watcher: Watcher,
    private readonly host: WatchHost | undefined,
  ) {
    const ok = typeof watcher === "object" && watcher !== null;
    this.onEntry = ok ? method(watcher, "onEntry") : undefined;
    this.onLine = ok ? method(watcher, "onLine") : undefined;
    this.onReturn = ok ? method(watcher, "onReturn") : undefined;
    this.onThrow = ok ? method(watcher, "onThrow") : undefined;
    this.onError = ok ? method(watcher, "onError") : undefined;
    this.onStateChange = ok ? method(watcher, "onStateChange") : undefined;
    this.fixed = ok && hasFixedMethods(watcher);
  }

  /** Sets `lines` and the line hook's view of it. */
  setLines(lines: ReadonlySet<number> | "all"): void {
    this.lines = lines;
    this.lineAll = lines === "all";
    if (lines === "all" || lines.size === 0) this.lineOn = NO_LINES;
    else {
      const on = new Uint8Array(Math.max(...lines) + 1);
      for (const l of lines) on[l] = 1;
      this.lineOn = on;
    }
  }

  /** Calls onStateChange with the current state, guarded. */
  notifyState(): void {
    if (this.onStateChange === undefined) return;
    try {
      this.onStateChange.call(this.watcher, this.state, this.error);
    } catch {
      // Deliberately ignored: this runs inside a module's registration.
    }
  }

  get fn(): FunctionInfo | undefined {
    return this.info;
  }

  update(options: WatchOptions): void {
    const parsed = parseOptions(options);
    if (this.state === "pending") {
      this.exits = parsed.exits;
      this.setLines(parsed.lines);
      this.timing = parsed.timing;
    } else if (this.state === "active") {
      this.host!.reconfigure(this, parsed);
    }
  }

  close(): void {
    if (this.state === "active") {
      this.host!.detach(this);
    } else if (this.state === "pending") {
      this.host!.forgetPending(this);
    } else {
      return;
    }
    this.state = "closed";
  }

  /** Marks the watch failed with `error` (no host bookkeeping: for watches never attached). */
  failEarly(error: Error): this {
    this.state = "failed";
    this.error = error;
    return this;
  }

  /**
   * A watcher method threw (or misbehaved): detach, record, report. Called from hooks; never
   * throws.
   */
  fail(thrown: unknown, where: Where): void {
    if (this.state !== "active") return;
    this.host!.detach(this);
    this.state = "failed";
    // isNativeError runs no Proxy trap (`instanceof` would run getPrototypeOf, inside a hook).
    this.error = isNativeError(thrown)
      ? thrown
      : new WatcherError(`The watcher of ${JSON.stringify(this.target)} threw a non-Error at ${where}.`, {
          cause: thrown,
        });
    this.report(thrown, where);
  }

  /** Calls onError, guarded: an error in the error handler goes nowhere. */
  report(error: unknown, where: Where): void {
    if (this.onError === undefined) return;
    try {
      this.onError.call(this.watcher, error, where);
    } catch {
      // Deliberately ignored: nothing may escape into the instrumented function.
    }
  }
}
