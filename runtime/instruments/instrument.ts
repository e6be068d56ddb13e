/**
 * The Instrument base class: what to evaluate (`value`, `custom.tags`, `custom.condition`), at
 * which event, until when (`expires`), and under which manager. Subclasses implement `fire`.
 *
 * An instrument never lets an error reach the probed code: the probe catches anything its
 * expressions, `checkCall`, `fire` or `finish` throw, disables the instrument, records the error on
 * it and hands it to `mgr.handleError` once.
 */
import { isPromise } from "node:util/types";
import { Expression, type CompiledExpression } from "../expressions/expression.js";
import { SafeExpression } from "../expressions/safe/index.js";
import {
  END_NAMES,
  EVENT_NAMES,
  START_NAMES,
  eventNamesOf,
  type EventKind,
  type EventNamespace,
} from "../expressions/namespace.js";
import { manager as defaultManager, type InstrumentManager, type Tags } from "../manager/manager.js";
// A type only: instruments never call into probes; probes subscribe to them (InstrumentObserver).
import type { Probe } from "../probes/probe.js";
import { InstrumentOptionsError, InstrumentValueError, InvalidEventError } from "./errors.js";
import { DEFAULT_RESOLVED_RATE, resolveRate, type RateLimit, type ResolvedRate } from "../budgets/rate.js";
import { now as clockNow, type ThrottleInfo } from "../budgets/cpu.js";
import { redactTags } from "./outgoing.js";

/** When an instrument fires: "call", "return" (default), "end", or "line:N". */
export type InstrumentEvent = "call" | "return" | "end" | `line:${number}`;

/** Extra settings; `tags` and `condition` are expressions, anything else is for subclasses. */
export interface CustomSettings {
  /** An expression giving an object of tags, merged with `mgr.getTags()` (manager tags win). */
  tags?: string;
  /** An expression; the instrument fires only when it is truthy. */
  condition?: string;
  [key: string]: unknown;
}

export interface InstrumentOptions {
  /** Default "return". */
  event?: InstrumentEvent;
  /** After this moment the instrument never fires; a probe left without live instruments turns off. */
  expires?: Date | number | undefined;
  custom?: CustomSettings;
  /** Default: the process-wide `manager`. */
  mgr?: InstrumentManager;
  /**
   * Whether `fire`/`finish` read the namespace's `start`, `now`, `end` or `elapsed` (or call
   * `toObject()`) themselves. Default false. Expressions are scanned for these names, so only custom
   * code that reads times directly needs it; without it those names are undefined (the probe reads
   * the clock only when some instrument needs it).
   */
  timing?: boolean;
  /**
   * The language of `value`, `custom.tags` and `custom.condition`: "js" (default) full JavaScript,
   * for instruments written in code; "safe" the safe expression language of store specs, which
   * runs no code of the program (docs/expressions.md).
   */
  expressions?: "js" | "safe";
  /**
   * Whether the instrument is under the budgets (docs/budgets.md): the default rate limit and the
   * process's CPU budget. Default: true with "safe" expressions (every instrument a spec makes),
   * false with "js".
   */
  budget?: boolean;
  /**
   * Hits per second (a number, or `{ perSecond, burst }`); excess hits are skipped and counted in
   * `skipped`. false: no limit. Default: `custom.rate` (the spec's), else DEFAULT_RATE when under
   * the budgets, else none.
   */
  rate?: RateLimit | number | false;
}

/** "live": may fire; "expired": past `expires`; "disabled": switched off after an error (or by hand). */
export type InstrumentStatus = "live" | "expired" | "disabled";

/** The fields `reconfigure` copies: everything the constructor derives from its arguments. */
const RECONFIGURABLE = [
  "name",
  "value",
  "event",
  "eventKind",
  "line",
  "custom",
  "valueExpression",
  "tagsExpression",
  "conditionExpression",
  "wantsTiming",
  "rateLimit",
  "budgeted",
] as const;

/**
 * Who holds an instrument (a probe) subscribes to hear about it: `changed` when its status or
 * expiry changed, `failed` when a promise it produced rejected after the event that made it was
 * over (the holder reports it to the instrument's manager; return false if it does not hold the
 * instrument any more). The instrument knows nothing else about its holders.
 * @internal
 */
export interface InstrumentObserver {
  changed(inst: Instrument): void;
  failed(inst: Instrument, error: unknown): boolean;
}

/** Skipped hits between two readings of the clock by an empty rate bucket. */
const SKIP_BATCH = 16;

const EMPTY_TAGS: Tags = Object.freeze({}) as Tags;
const LINE_EVENT = /^line:([1-9]\d*)$/;

/** Parses an event string; throws InvalidEventError. @internal */
export function parseEvent(event: unknown): { kind: EventKind; line: number | undefined } {
  if (event === "call" || event === "return" || event === "end") return { kind: event, line: undefined };
  if (typeof event === "string") {
    const m = LINE_EVENT.exec(event);
    if (m !== null) return { kind: "line", line: Number(m[1]) };
  }
  throw new InvalidEventError(event);
}

export abstract class Instrument {
  /** Used in output (log lines, metric names). */
  readonly name: string;
  /** The value expression. */
  readonly value: string;
  readonly event: InstrumentEvent;
  readonly custom: CustomSettings;
  readonly mgr: InstrumentManager;
  /** How many errors this instrument caught (it is disabled at the first). */
  errorCount = 0;
  /** The last error caught, if any. */
  lastError: unknown = undefined;
  /** When the last error was caught. */
  lastErrorAt: Date | undefined = undefined;

  /** @internal */ readonly eventKind: EventKind;
  /** @internal */ readonly line: number | undefined;
  /** @internal */ readonly valueExpression: CompiledExpression;
  /** @internal */ readonly tagsExpression: CompiledExpression | undefined;
  /** @internal */ readonly conditionExpression: CompiledExpression | undefined;
  /**
   * Whether `fire`/`finish` read times from the namespace themselves (see `InstrumentOptions.timing`).
   * A subclass may also declare it: `override readonly wantsTiming = true`.
   */
  readonly wantsTiming: boolean;
  /** How many times `fire` returned without throwing. @internal */
  hits = 0;
  /** Holders of this instrument (probes), told when it changes. @internal */
  readonly observers = new Set<InstrumentObserver>();
  /** Hits skipped by the rate limit (not queued: they never ran). */
  skipped = 0;
  /** Milliseconds of CPU its work took, as sampled for the CPU budget (0 when not under it). */
  cpuMs = 0;
  /** Set when the CPU budget switched it off: the figures of that moment. */
  throttled: ThrottleInfo | undefined = undefined;
  /** @internal */ readonly rateLimit: ResolvedRate | undefined;
  /** @internal */ readonly budgeted: boolean;
  /** Tokens left in the rate bucket; Infinity without a limit. @internal */
  tokens = Infinity;
  /** When the bucket was last refilled (performance.now()). @internal */
  refilledAt = 0;
  /** Hits until the next timed one; Infinity when not under the CPU budget. @internal */
  untilSample = Infinity;
  /** How many hits the next timed one stands for. @internal */
  sampleWeight = 1;
  /** CPU charged in the budget's current window. @internal */
  cpuWindowMs = 0;
  /** CPU charged per bucket of the budget's window; undefined while nothing is charged in it. @internal */
  cpuBuckets: Float64Array | undefined = undefined;
  private expiresAt: Date | undefined;
  private disabledFlag = false;

  constructor(name: string, value: string, options: InstrumentOptions = {}) {
    if (typeof name !== "string" || name === "")
      throw new InstrumentOptionsError("An instrument needs a non-empty string name.");
    if (typeof options !== "object" || options === null) {
      throw new InstrumentOptionsError(`Instrument options must be an object, got ${typeof options}.`);
    }
    const { kind, line } = parseEvent(options.event ?? "return");
    this.name = name;
    this.value = value;
    this.event = options.event ?? "return";
    this.eventKind = kind;
    this.line = line;
    this.custom = options.custom ?? {};
    this.mgr = options.mgr ?? defaultManager;
    this.expiresAt = toDate(options.expires);
    if (options.timing !== undefined && typeof options.timing !== "boolean") {
      throw new InstrumentOptionsError(`\`timing\` must be a boolean, got ${JSON.stringify(options.timing)}.`);
    }
    this.wantsTiming = options.timing === true;
    const language = options.expressions ?? "js";
    if (language !== "js" && language !== "safe") {
      throw new InstrumentOptionsError(`\`expressions\` must be "js" or "safe", got ${JSON.stringify(language)}.`);
    }
    const Compiled = language === "safe" ? SafeExpression : Expression;
    this.valueExpression = new Compiled(value, "value");
    const { tags, condition } = this.custom;
    this.tagsExpression = tags === undefined ? undefined : new Compiled(tags, "tags");
    this.conditionExpression = condition === undefined ? undefined : new Compiled(condition, "condition");
    checkEventNames(this);
    if (options.budget !== undefined && typeof options.budget !== "boolean") {
      throw new InstrumentOptionsError(`\`budget\` must be a boolean, got ${JSON.stringify(options.budget)}.`);
    }
    this.budgeted = options.budget ?? language === "safe";
    const fromSpec = resolveRate(
      this.custom["rate"],
      "custom.rate",
      false,
      this.budgeted ? DEFAULT_RESOLVED_RATE : undefined,
    );
    this.rateLimit = resolveRate(options.rate, "The `rate` option", true, fromSpec);
    this.rearm();
  }

  /** Fills the rate bucket and restarts CPU sampling (at construction and reconfiguration). @internal */
  rearm(): void {
    this.tokens = this.rateLimit === undefined ? Infinity : this.rateLimit.burst;
    this.refilledAt = clockNow();
    // The first hit is timed: an instrument whose first hit alone is over the budget must count
    // it (its compiling and warming up are CPU the process spent too).
    this.untilSample = this.budgeted ? 1 : Infinity;
    this.sampleWeight = 1;
    this.throttled = undefined;
  }

  /**
   * The bucket ran out (`tokens` went below zero): every SKIP_BATCH hits, refills it from the time
   * since the last refill. Returns whether this hit may run (and takes its token). @internal
   */
  refill(): boolean {
    const limit = this.rateLimit;
    if (limit === undefined) return ((this.tokens = Infinity), true);
    // The clock once every SKIP_BATCH skipped hits: a token arriving meanwhile waits a few hits.
    if (this.tokens > -SKIP_BATCH) {
      this.skipped++;
      return false;
    }
    const t = clockNow();
    const gained = Math.floor((t - this.refilledAt) * limit.perMs);
    if (gained < 1) {
      this.tokens = 0;
      this.skipped++;
      return false;
    }
    this.tokens = Math.min(limit.burst, gained) - 1;
    this.refilledAt = t;
    return true;
  }

  /** Switches the instrument off for the CPU budget, keeping the figures. @internal */
  throttle(info: ThrottleInfo): void {
    this.throttled = info;
    this.untilSample = Infinity;
    this.disable();
  }

  /** Handles one event. `namespace` holds the event's names; see `evaluate` and `evaluateTags`. */
  abstract fire(namespace: EventNamespace): void;

  /**
   * Runs after every probed call this instrument took part in (after the "return" event; for async
   * functions when the promise settled). Default: nothing. Overriding it makes the probe watch exits.
   */
  finish(): void {}

  /** Whether this instrument takes part in a call. Default: `this.mgr.checkCall(probe, args, this)`. */
  checkCall(probe: Probe, args: readonly unknown[]): boolean {
    return this.mgr.checkCall(probe, args, this);
  }

  /** The value expression's result for this event. */
  evaluate(namespace: EventNamespace): unknown {
    const value = this.valueExpression.evaluate(namespace, this.mgr);
    // The typeof test first: isPromise is a call into C++, too dear for every number.
    if (typeof value === "object" && value !== null && isPromise(value)) this.observe(value);
    return value;
  }

  /**
   * `custom.tags` evaluated, merged with the manager's tags (the manager's win), secret-named
   * tags redacted (outgoing.ts: every sender gets its tags here).
   */
  evaluateTags(namespace: EventNamespace): Tags {
    const mgrTags = this.mgr.getTags();
    if (this.tagsExpression === undefined) return mgrTags === undefined ? EMPTY_TAGS : redactTags(this, mgrTags);
    const own = this.tagsExpression.evaluate(namespace, this.mgr);
    if (typeof own === "object" && own !== null && isPromise(own)) this.observe(own);
    if (typeof own !== "object" || own === null || Array.isArray(own)) {
      throw new InstrumentValueError(
        `The tags expression ${JSON.stringify(this.tagsExpression.source)} of instrument ${JSON.stringify(this.name)} ` +
          `must give an object of tags, got ${own === null ? "null" : Array.isArray(own) ? "an array" : typeof own}.`,
      );
    }
    return redactTags(this, { ...(own as Tags), ...mgrTags });
  }

  /** When the instrument stops firing (undefined: never). Setting it applies at once. */
  get expires(): Date | undefined {
    return this.expiresAt;
  }
  set expires(value: Date | number | undefined) {
    this.expiresAt = toDate(value);
    this.changed();
  }

  /** Whether the instrument was disabled (after an error, or by `disable()`). */
  get disabled(): boolean {
    return this.disabledFlag;
  }

  get status(): InstrumentStatus {
    if (this.disabledFlag) return "disabled";
    if (this.expiresAt !== undefined && this.expiresAt.getTime() <= Date.now()) return "expired";
    return "live";
  }

  /** Stops the instrument from firing (its probes turn their sites off if it was the last one). */
  disable(): void {
    if (this.disabledFlag) return;
    this.disabledFlag = true;
    this.changed();
  }

  /** Lets a disabled (or throttled) instrument fire again; its error history stays. */
  enable(): void {
    if (!this.disabledFlag) return;
    this.disabledFlag = false;
    if (this.throttled !== undefined) this.rearm();
    this.changed();
  }

  /** Whether `name` appears in the value, tags or condition expression. */
  mentions(name: string): boolean {
    return (
      this.valueExpression.mentions(name) ||
      this.tagsExpression?.mentions(name) === true ||
      this.conditionExpression?.mentions(name) === true
    );
  }

  /** Whether an event of this instrument needs the call's entry time. @internal */
  needsStart(): boolean {
    return this.wantsTiming || START_NAMES.some((n) => this.mentions(n));
  }

  /** Whether an exit event of this instrument needs the exit time. @internal */
  needsEnd(): boolean {
    return this.wantsTiming || END_NAMES.some((n) => this.mentions(n));
  }

  /**
   * Records a caught error and disables the instrument. The fields are written before anything
   * that needs stack (near the stack limit, a RangeError must still be counted), then holders hear.
   * @internal
   */
  recordError(error: unknown): void {
    this.errorCount++;
    this.lastError = error;
    this.disabledFlag = true;
    this.lastErrorAt = new Date();
    this.changed();
  }

  /**
   * Takes the configuration of `from` (a new instrument of the same class built from a changed
   * spec) while keeping this one's identity, probes, hits and error history, and re-arms it: a
   * spec update changes the instrument in place instead of recreating it.
   * @internal
   */
  reconfigure(from: Instrument): void {
    const self = this as unknown as Record<string, unknown>;
    const source = from as unknown as Record<string, unknown>;
    for (const key of RECONFIGURABLE) self[key] = source[key];
    this.expiresAt = from.expiresAt;
    this.disabledFlag = false;
    this.rearm();
    this.changed();
  }

  /**
   * Observes a promise this instrument produced (returned by `fire`, or the value of an
   * expression): its rejection is recorded and reported like a throw, never left unhandled.
   * @internal
   */
  observe(promise: Promise<unknown>): void {
    try {
      Promise.prototype.then.call(promise, undefined, (error: unknown) => this.failedLater(error));
    } catch {
      // A promise whose species constructor throws: there is nothing left to observe.
    }
  }

  /** A promise of an earlier event rejected: disable, record, and have one holder report it. */
  private failedLater(error: unknown): void {
    const wasLive = !this.disabledFlag;
    try {
      this.recordError(error);
    } catch {
      // recordError only counts and notifies holders, which guard themselves.
    }
    if (!wasLive) return;
    for (const o of this.observers) {
      try {
        if (o.failed(this, error)) return;
      } catch {
        // A holder's report must not stop another from reporting.
      }
    }
  }

  toString(): string {
    return `${this.constructor.name}(${JSON.stringify(this.name)}, ${JSON.stringify(this.value)}, event ${this.event}${
      this.expiresAt ? `, expires ${this.expiresAt.toISOString()}` : ""
    })`;
  }

  private changed(): void {
    for (const o of this.observers) o.changed(this);
  }
}

/**
 * Refuses an expression that reads an event name the instrument's event never has (`elapsed` at
 * "call"): it would be undefined at every event. A parameter or local of that name is still
 * readable as `locals.<name>`.
 */
function checkEventNames(inst: Instrument): void {
  const available = eventNamesOf(inst.eventKind);
  for (const expr of [inst.valueExpression, inst.tagsExpression, inst.conditionExpression]) {
    if (expr === undefined) continue;
    for (const id of expr.identifiers) {
      if (!EVENT_NAMES.has(id) || available.has(id)) continue;
      throw new InstrumentOptionsError(
        `Instrument ${JSON.stringify(inst.name)}: ${JSON.stringify(id)} is not defined at the ${JSON.stringify(inst.event)} event ` +
          `(in ${JSON.stringify(expr.source)}). Names there: ${[...available].join(", ")}, and the target's own ` +
          `${inst.eventKind === "call" || inst.eventKind === "return" ? "parameters" : "locals"} ` +
          `(read one named like an event name as locals.${id}). ` +
          `${id === "hotspots" ? 'Use the "return" event for it.' : 'Use the "return" or "end" event for results and timings.'}`,
      );
    }
  }
}

function toDate(value: unknown): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const d = value instanceof Date ? new Date(value.getTime()) : typeof value === "number" ? new Date(value) : undefined;
  if (d === undefined || Number.isNaN(d.getTime())) {
    throw new InstrumentOptionsError(`\`expires\` must be a valid Date (or epoch milliseconds), got ${String(value)}.`);
  }
  return d;
}
