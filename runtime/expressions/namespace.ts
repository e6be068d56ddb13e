/**
 * The event namespace: what an instrument's expressions (and a custom `fire(namespace)`) can read
 * at one event of one probed call. It is the only object allocated per event, and it computes
 * every name lazily from the slots the hook handed over (frame, locals, result), so a name nobody
 * reads costs nothing.
 *
 * Each site layout (the parameter list of a function for "call"/"return", the locals list of one
 * line or exit site for "line"/"end") gets its own subclass whose prototype has one getter per
 * name of the function. The function's own names shadow the event's names (`result`, `args`, …),
 * exactly as they would inside the function body. Internal slots are symbol-keyed so that no local
 * variable name can collide with them.
 */
import { performance } from "node:perf_hooks";
import { parseParameter } from "../../abi/index.js";
import type { CallFrame, FunctionInfo, SiteInfo } from "../registry/index.js";
import type { HotspotsReport } from "../hotspots.js";

/** @internal */ export const FRAME = Symbol("diagnose.frame");
/** @internal */ export const LOCALS = Symbol("diagnose.locals");
/** @internal */ export const RESULT = Symbol("diagnose.result");
/** @internal */ export const THREW = Symbol("diagnose.threw");
/** @internal */ export const END = Symbol("diagnose.end");
/** @internal */ export const HOT = Symbol("diagnose.hotspots");
/** @internal */ export const KIND = Symbol("diagnose.kind");
/** @internal */ export const LAYOUT = Symbol("diagnose.layout");

/** The events an instrument can fire at. */
export type EventKind = "call" | "return" | "end" | "line";

/** Names every event namespace defines (before the function's own names shadow them). */
export const EVENT_NAMES: ReadonlySet<string> = new Set([
  "event",
  "args",
  "this",
  "now",
  "start",
  "result",
  "error",
  "threw",
  "end",
  "elapsed",
  "hotspots",
  "locals",
  "line",
  "target",
]);

/**
 * Event names whose value needs the call's entry time (`frame.start`): a probe reads the clock at
 * entry only when a live instrument mentions one of them (or declares `wantsTiming`). @internal
 */
export const START_NAMES: readonly string[] = ["start", "now", "elapsed"];
/** Event names whose value needs the exit time (`end`). @internal */
export const END_NAMES: readonly string[] = ["end", "elapsed"];

/** Where a layout's own name is read from. @internal */
export type NameSource =
  | { readonly from: "arg"; readonly index: number; readonly field: string | undefined }
  | { readonly from: "local"; readonly index: number };

/**
 * The names visible at one kind of site, and the namespace class for it. Built once per function
 * (frame layout) or per site (locals layout) and cached.
 * @internal
 */
export class Layout {
  /** Own names of the function visible here, in declaration order. */
  readonly names: ReadonlyMap<string, NameSource>;
  /** Index of the rest parameter in the frame's args, or -1. */
  readonly restIndex: number;
  readonly Namespace: new () => EventNamespace;

  constructor(
    readonly fn: FunctionInfo,
    readonly site: SiteInfo | undefined,
  ) {
    const names = new Map<string, NameSource>();
    let restIndex = -1;
    const shapes = fn.params.map(parseParameter);
    shapes.forEach((p, i) => {
      if (p.rest) restIndex = i;
    });
    if (site === undefined) {
      shapes.forEach((p, index) => {
        for (const { name, field } of p.names) names.set(name, { from: "arg", index, field });
      });
    } else {
      site.locals.forEach((name, index) => names.set(name, { from: "local", index }));
    }
    this.names = names;
    this.restIndex = restIndex;
    const layout = this;
    const Sub = class extends EventNamespace {};
    for (const [name, src] of names) {
      Object.defineProperty(Sub.prototype, name, { get: getterFor(src), enumerable: false, configurable: true });
    }
    Object.defineProperty(Sub.prototype, LAYOUT, { value: layout });
    this.Namespace = Sub;
  }

  /** Every name an expression can read here at `kind` (own names and that event's names). */
  allNames(kind: EventKind): string[] {
    return [...new Set([...this.names.keys(), ...eventNamesOf(kind)])];
  }
}

function getterFor(src: NameSource): (this: EventNamespace) => unknown {
  const index = src.index;
  if (src.from === "local") {
    return function (this: EventNamespace) {
      return this[LOCALS]?.[index];
    };
  }
  const field = src.field;
  if (field === undefined) {
    return function (this: EventNamespace) {
      return this[FRAME]?.args[index];
    };
  }
  return function (this: EventNamespace) {
    const obj = this[FRAME]?.args[index] as Record<string, unknown> | undefined;
    return obj?.[field];
  };
}

const layouts = new WeakMap<object, Layout>();

/** The layout of a function's parameters ("call" and "return" events). @internal */
export function frameLayout(fn: FunctionInfo): Layout {
  let l = layouts.get(fn);
  if (l === undefined) layouts.set(fn, (l = new Layout(fn, undefined)));
  return l;
}

/** The layout of one line or exit site's locals ("line" and "end" events). @internal */
export function siteLayout(fn: FunctionInfo, site: SiteInfo): Layout {
  let l = layouts.get(site);
  if (l === undefined) layouts.set(site, (l = new Layout(fn, site)));
  return l;
}

/** What one event hands its namespace; built by `createNamespace`, the one place that makes namespaces. @internal */
export interface EventFields {
  readonly kind: EventKind;
  /** Undefined for a call that was already running when the probe was switched on. */
  readonly frame: CallFrame | undefined;
  /** "line"/"end": the site's locals, in the layout's order. */
  readonly locals: readonly unknown[] | undefined;
  /** "return"/"end": the returned value, or the thrown one. */
  readonly result: unknown;
  readonly threw: boolean;
  /** "return"/"end": the exit time, or NaN when nobody needs it. */
  readonly end: number;
  readonly hot: HotspotsReport | undefined;
}

/**
 * The namespace of one event. Every event of every probe is made here, so per-event policy
 * (budgets, rate limits) has one place to live. Callers pass an object literal; the factory is
 * small enough for TurboFan to inline it and drop the literal (no allocation besides the
 * namespace itself).
 *
 * Only the frame, the kind and the fields that differ from their defaults are stored: the
 * defaults (no locals, no result, not thrown, no end time, no hotspots) live on
 * EventNamespace.prototype (see `NAMESPACE_DEFAULTS`), so a "call" event makes two stores instead
 * of seven, and no box for its NaN end time (measured with test/perf/hit-instructions.ts: 834 →
 * 757 instructions per no-op "call" hit). Inlined into a caller that passes constants, the tests
 * fold away.
 * @internal
 */
export function createNamespace(layout: Layout, f: EventFields): EventNamespace {
  const ns = new layout.Namespace();
  ns[FRAME] = f.frame;
  ns[KIND] = f.kind;
  if (f.locals !== undefined) ns[LOCALS] = f.locals;
  if (f.result !== undefined) ns[RESULT] = f.result;
  if (f.threw) ns[THREW] = true;
  if (f.end === f.end) ns[END] = f.end;
  if (f.hot !== undefined) ns[HOT] = f.hot;
  return ns;
}

/** The event names defined at each kind of event (before the function's own names shadow them). */
const CALL_NAMES = ["event", "target", "args", "this", "now", "start", "locals"] as const;
const EXIT_NAMES = ["result", "error", "threw", "end", "elapsed"] as const;
const NAMES_BY_KIND: Readonly<Record<EventKind, ReadonlySet<string>>> = {
  call: new Set(CALL_NAMES),
  line: new Set([...CALL_NAMES, "line"]),
  end: new Set([...CALL_NAMES, ...EXIT_NAMES]),
  return: new Set([...CALL_NAMES, ...EXIT_NAMES, "hotspots"]),
};

/** The event names an expression can read at `kind` (the function's own names come on top). */
export function eventNamesOf(kind: EventKind): ReadonlySet<string> {
  return NAMES_BY_KIND[kind];
}

/**
 * What an instrument sees at one event. Read names as properties: the target's parameters (or, for
 * "line" and "end", its locals in scope there) by name, plus the event's own names below. Values
 * are computed when read.
 */
export class EventNamespace {
  // `declare`: no class-field definitions are emitted (ES2022 define semantics would add seven
  // computed-key defines per event before the constructor's stores: ~12 ns per event on Node 20).
  /** @internal */ declare [FRAME]: CallFrame | undefined;
  /** @internal */ declare [LOCALS]: readonly unknown[] | undefined;
  /** @internal */ declare [RESULT]: unknown;
  /** @internal */ declare [THREW]: boolean;
  /** @internal */ declare [END]: number;
  /** @internal */ declare [HOT]: HotspotsReport | undefined;
  /** @internal */ declare [KIND]: EventKind;
  /** @internal */ declare readonly [LAYOUT]: Layout;

  /** "call", "return", "end" or "line". */
  get event(): EventKind {
    return this[KIND];
  }

  /** The qualified name of the probed function. */
  get target(): string {
    return this[LAYOUT].fn.qualifiedName;
  }

  /**
   * The call's arguments as an array: one per parameter after defaults were applied, a rest
   * parameter's elements spread. Undefined for a call that was already running when the probe
   * was switched on.
   */
  get args(): unknown[] | undefined {
    const f = this[FRAME];
    if (f === undefined) return undefined;
    const rest = this[LAYOUT].restIndex;
    if (rest < 0) return f.args.slice();
    const out = f.args.slice(0, rest);
    const r = f.args[rest];
    if (Array.isArray(r)) out.push(...(r as unknown[]));
    return out;
  }

  /** The call's `this` (undefined for arrow functions and derived-class constructors). */
  get this(): unknown {
    return this[FRAME]?.self;
  }

  /**
   * The wall-clock time the call began (a Date). Undefined when the call was not timed: a custom
   * instrument that reads it in `fire` must declare `wantsTiming` (expressions are scanned).
   */
  get now(): Date | undefined {
    const f = this[FRAME];
    if (f === undefined) return new Date();
    return f.start === f.start ? f.startDate : undefined;
  }

  /** `performance.now()` when the call began (ms, high resolution); undefined when not timed. */
  get start(): number | undefined {
    const s = this[FRAME]?.start;
    return s === s ? s : undefined;
  }

  /** "return"/"end": the returned value, or the thrown value when the call threw. */
  get result(): unknown {
    return this[RESULT];
  }

  /** "return"/"end": the thrown value when the call threw, else undefined. */
  get error(): unknown {
    return this[THREW] ? this[RESULT] : undefined;
  }

  /** "return"/"end": whether the call threw (or its promise rejected). */
  get threw(): boolean {
    return this[THREW];
  }

  /** "return"/"end": `performance.now()` when the call ended (ms). */
  get end(): number | undefined {
    const e = this[END];
    return e === e ? e : undefined;
  }

  /** "return"/"end": milliseconds from entry to end (float). */
  get elapsed(): number | undefined {
    const f = this[FRAME];
    const e = this[END];
    return f === undefined || e !== e || f.start !== f.start ? undefined : e - f.start;
  }

  /** "return": per-line timings of this call, when an instrument mentions `hotspots`. */
  get hotspots(): HotspotsReport | undefined {
    return this[HOT];
  }

  /** "line": the line number of the site. */
  get line(): number | undefined {
    return this[LAYOUT].site?.line;
  }

  /** The function's own names visible here and their values, as a plain object. */
  get locals(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of this[LAYOUT].names.keys()) out[name] = (this as unknown as Record<string, unknown>)[name];
    return out;
  }

  /** Every name of this namespace and its value, as a plain object (for logging or tests). */
  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = { event: this.event, target: this.target };
    const k = this[KIND];
    if (this[FRAME] !== undefined) {
      out["args"] = this.args;
      out["this"] = this.this;
      out["now"] = this.now;
      out["start"] = this.start;
    }
    if (k === "return" || k === "end") {
      out["result"] = this.result;
      out["error"] = this.error;
      out["threw"] = this.threw;
      out["end"] = this.end;
      out["elapsed"] = this.elapsed;
    }
    if (k === "return" && this[HOT] !== undefined) out["hotspots"] = this[HOT];
    if (k === "line") out["line"] = this.line;
    Object.assign(out, this.locals);
    return out;
  }
}

/**
 * The values an event namespace reads for the fields `createNamespace` does not store. Writable,
 * so a store on an instance still makes an own property (a read-only inherited property would
 * make the store throw).
 */
const NAMESPACE_DEFAULTS: readonly [symbol, unknown][] = [
  [LOCALS, undefined],
  [RESULT, undefined],
  [THREW, false],
  [END, NaN],
  [HOT, undefined],
];
for (const [key, value] of NAMESPACE_DEFAULTS) {
  Object.defineProperty(EventNamespace.prototype, key, { value, writable: true, configurable: true });
}

/** `performance.now()`; a named import keeps the hot path free of property lookups on `performance`. */
export const clock = (): number => performance.now();
