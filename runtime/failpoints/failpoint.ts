/**
 * Failpoints: breakpoints driven by store specs, for chaos drills and reproducing incidents in a
 * running service. `pause` holds matching calls until the spec goes (or `ms` passes), `delay`
 * holds them `ms`, `error` makes them throw. They apply only in a process that set the manager's
 * `failpoints: true`, and every field has a bound (limits.ts).
 *
 * A failpoint reuses the breakpoint's site functions (breakpoints/sites.ts) and its real-timer
 * clock (fake timers in a test cannot freeze a held call), behind a site host of its own: the
 * condition is the spec's safe expression instead of a test's predicate, nothing waits on the
 * other side, and a held call is let go when its time is up, when the spec is removed, expires or
 * changes type, or when the failpoint is disabled.
 */
import { FnFlags } from "../../abi/index.js";
import { after, cancel } from "../breakpoints/clock.js";
import { Hit, type BreakpointEvent } from "../breakpoints/hit.js";
import type { Action } from "../breakpoints/options.js";
import { atCall, atReturn, type SiteHost } from "../breakpoints/sites.js";
import { createNamespace, frameLayout } from "../expressions/namespace.js";
import { Instrument, type InstrumentOptions } from "../instruments/instrument.js";
import { SITE_ACTION, type SiteAction } from "../manager/site-action.js";
import { watch, type CallFrame, type FunctionInfo, type Watch, type WatchState } from "../registry/index.js";
import { FailpointSpecError, FailpointsOffError, InjectedFailpointError } from "./errors.js";
import { FAILPOINT_LIMITS } from "./limits.js";

export type FailpointKind = "pause" | "error" | "delay";

/** What each kind reads from `custom` besides `condition`. */
const FIELDS: Record<FailpointKind, readonly string[]> = {
  pause: ["ms", "condition"],
  delay: ["ms", "condition"],
  error: ["message", "condition"],
};

const NO_LOCALS: Readonly<Record<string, unknown>> = Object.freeze({});
const NO_STACK: readonly string[] = Object.freeze([]);

/** Checks the spec's fields for `kind`; returns the options for Instrument (event "call" by default). */
function checkOptions(kind: FailpointKind, name: string, options: InstrumentOptions): InstrumentOptions {
  const what = `The ${kind} failpoint ${JSON.stringify(name)}`;
  const event = options.event ?? "call";
  if (event !== "call" && event !== "return") {
    throw new FailpointSpecError(
      `${what} acts at "call" (before the body, the default) or "return"; got ${JSON.stringify(event)}.`,
    );
  }
  const custom = options.custom ?? {};
  for (const key of Object.keys(custom)) {
    if (!FIELDS[kind].includes(key)) {
      throw new FailpointSpecError(
        `${what}: \`custom.${key}\` is not one of its fields; it takes ${FIELDS[kind].map((f) => `custom.${f}`).join(" and ")}.`,
      );
    }
  }
  if (kind === "error") checkMessage(what, custom["message"]);
  else checkMs(what, custom["ms"], kind === "pause" ? FAILPOINT_LIMITS.pauseMs : FAILPOINT_LIMITS.delayMs);
  return { ...options, event };
}

function checkMs(what: string, ms: unknown, cap: number): number {
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 1 || ms > cap) {
    throw new FailpointSpecError(
      `${what} needs \`custom.ms\`, a whole number of milliseconds from 1 to ${cap}; got ${describe(ms)}.`,
    );
  }
  return ms;
}

function checkMessage(what: string, message: unknown): string {
  if (typeof message !== "string" || message.trim() === "" || message.length > FAILPOINT_LIMITS.message) {
    throw new FailpointSpecError(
      `${what} needs \`custom.message\`, the text of the error it throws: a non-empty string of at most ` +
        `${FAILPOINT_LIMITS.message} characters; got ${typeof message === "string" ? `${message.length} characters` : describe(message)}.`,
    );
  }
  return message;
}

function describe(v: unknown): string {
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}…` : v);
  return Array.isArray(v) ? "an array" : `a ${typeof v}`;
}

/**
 * The instrument a failpoint spec makes. The reconciler does not hang it on a probe (a probe never
 * changes a call): it arms it on the target through `SITE_ACTION`, and disarms it when the spec
 * goes. Its `hits` count the calls it acted on.
 */
export abstract class Failpoint extends Instrument {
  readonly kind: FailpointKind;
  /** How long a held call waits at most (pause) or exactly (delay); 0 for error. */
  ms: number;
  /** The message of the error an `error` failpoint throws; "" otherwise. */
  message: string;

  private watchImpl: Watch | undefined = undefined;
  private targetName = "";
  /** Calls that reached the event while armed, matching or not. */
  private calls = 0;
  /** One function per held call: lets it go on. */
  private readonly held = new Set<() => void>();
  private readonly site: SiteHost = this.siteHost();

  /** @internal */
  readonly [SITE_ACTION]: SiteAction = this.siteAction();

  constructor(kind: FailpointKind, name: string, value: string, options: InstrumentOptions = {}) {
    super(name, value, checkOptions(kind, name, options));
    if (this.mgr.failpoints !== true) throw new FailpointsOffError(kind);
    this.kind = kind;
    this.ms = typeof this.custom["ms"] === "number" ? this.custom["ms"] : 0;
    this.message = typeof this.custom["message"] === "string" ? this.custom["message"] : "";
  }

  /** Calls held at the site right now. */
  get heldCount(): number {
    return this.held.size;
  }

  /** Never called: a failpoint acts at its own watch, not through a probe. */
  fire(): void {}

  override disable(): void {
    super.disable();
    this.releaseAll();
  }

  /** @internal */
  override reconfigure(from: Instrument): void {
    super.reconfigure(from);
    if (from instanceof Failpoint) {
      this.ms = from.ms;
      this.message = from.message;
    }
    // The held calls stay held (with their own deadlines); only the sites switched on may change.
    this.watchImpl?.update({ exits: this.eventKind === "return", timing: false });
  }

  // -- arming (called by the reconciler) ------------------------------------------------------------

  private siteAction(): SiteAction {
    const fp = this;
    return {
      arm: (target) => fp.arm(target),
      disarm: () => fp.disarm(),
      get siteState(): WatchState | "closed" {
        return fp.watchImpl?.state ?? "closed";
      },
      get siteError(): unknown {
        return fp.watchImpl?.error;
      },
    };
  }

  private arm(target: string): void {
    this.disarm();
    this.targetName = target;
    const w = watch(
      target,
      {
        onEntry: (frame) => (this.eventKind === "call" ? atCall(this.site, frame) : undefined),
        onReturn: (frame, site, value, locals) =>
          this.eventKind === "return" ? atReturn(this.site, frame, site, value, locals) : undefined,
        onStateChange: (state) => {
          // The target's module loaded after the spec arrived: only now can it be checked.
          if (state === "active") this.checkLoaded();
        },
        onError: (error) => this.fail(error),
      },
      { exits: this.eventKind === "return", timing: false },
    );
    this.watchImpl = w;
    if (w.state === "failed") {
      this.watchImpl = undefined;
      throw w.error;
    }
    const problem = w.state === "active" ? this.targetProblem(w.fn) : undefined;
    if (problem !== undefined) {
      w.close();
      this.watchImpl = undefined;
      throw problem;
    }
  }

  private disarm(): void {
    const w = this.watchImpl;
    this.watchImpl = undefined;
    w?.close();
    this.releaseAll();
  }

  private checkLoaded(): void {
    const problem = this.targetProblem(this.watchImpl?.fn);
    if (problem !== undefined) this.fail(problem);
  }

  /**
   * Holding a call needs an await at its site: a synchronous function could only be held by
   * blocking the thread, which stops every other request of the service with it.
   */
  private targetProblem(fn: FunctionInfo | undefined): FailpointSpecError | undefined {
    if (this.kind === "error" || fn === undefined || (fn.flags & FnFlags.async) !== 0) return undefined;
    return new FailpointSpecError(
      `A ${this.kind} failpoint cannot hold ${this.targetName}: it is a synchronous function, and holding it would ` +
        `block the event loop (every other call of the process with it). Target an async function, or use an error failpoint.`,
    );
  }

  /** Records the problem (the spec's status shows it), stops acting and lets held calls go. */
  private fail(error: unknown): void {
    try {
      this.recordError(error);
    } catch {
      // Recording only counts and notifies; nothing else to do.
    }
    const w = this.watchImpl;
    this.watchImpl = undefined;
    try {
      w?.close();
    } catch {
      // Closing our own watch cannot fail in a way anyone could act on.
    }
    this.releaseAll();
  }

  private releaseAll(): void {
    for (const go of [...this.held]) go();
  }

  // -- the site (everything below runs inside a registry hook: it never throws) -----------------------

  private siteHost(): SiteHost {
    const fp = this;
    return {
      get target() {
        return fp.targetName;
      },
      get action(): Action {
        // A fresh error per call: its stack is the call's own.
        return fp.kind === "error"
          ? { kind: "error", error: new InjectedFailpointError(fp.name, fp.targetName, fp.message) }
          : { kind: "block" };
      },
      fn: () => fp.watchImpl?.fn,
      hitOf: (event, frame, _locals, result) => fp.hitOf(event, frame, result),
      park: () => fp.hold(),
      canHold: (fn, _event, isAsync) => {
        // Checked when armed and when the module loaded; this catches a function seen only now.
        if (!isAsync) fp.fail(fp.targetProblem(fn) ?? new FailpointSpecError(`${fp.targetName} cannot be held.`));
        return isAsync;
      },
      misuse: (message) => fp.fail(new FailpointSpecError(message)),
      problem: (error) => fp.fail(error),
    };
  }

  /** The call's hit when the failpoint is live and its condition holds; undefined otherwise. */
  private hitOf(event: BreakpointEvent, frame: CallFrame | undefined, result: unknown): Hit | undefined {
    // A call that began before the failpoint was armed has no frame to evaluate the condition on.
    if (frame === undefined || this.status !== "live") return undefined;
    const call = this.calls++;
    const condition = this.conditionExpression;
    if (condition !== undefined) {
      try {
        const ns = createNamespace(frameLayout(frame.fn), {
          kind: event === "call" ? "call" : "return",
          frame,
          locals: undefined,
          result,
          threw: false,
          end: Number.NaN,
          hot: undefined,
        });
        if (!condition.evaluate(ns, this.mgr)) return undefined;
      } catch (err) {
        this.fail(err);
        return undefined;
      }
    }
    this.hits++;
    return new Hit(this.targetName, event, call, frame.args, frame.self, NO_LOCALS, result, undefined, NO_STACK, 0, 0);
  }

  /** Holds a call: resolves when `ms` passed (on a real timer) or when the failpoint lets go. */
  private hold(): Promise<undefined> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof after> | undefined;
      const go = () => {
        cancel(timer);
        this.held.delete(go);
        resolve(undefined);
      };
      this.held.add(go);
      timer = after(this.ms, go);
    });
  }
}

/** `{ type: "pause", custom: { ms } }`: holds matching calls until the spec goes, at most `ms`. */
export class PauseFailpoint extends Failpoint {
  constructor(name: string, value: string, options?: InstrumentOptions) {
    super("pause", name, value, options);
  }
}

/** `{ type: "delay", custom: { ms } }`: holds matching calls `ms` milliseconds. */
export class DelayFailpoint extends Failpoint {
  constructor(name: string, value: string, options?: InstrumentOptions) {
    super("delay", name, value, options);
  }
}

/** `{ type: "error", custom: { message } }`: matching calls throw an InjectedFailpointError. */
export class ErrorFailpoint extends Failpoint {
  constructor(name: string, value: string, options?: InstrumentOptions) {
    super("error", name, value, options);
  }
}
