/**
 * Per-request scoping: an instrument limited to calls made inside `scope.run(label, fn)` (for
 * instance the handling of one request that carries a debug header), so a probe on a hot function
 * fires only for the request being debugged.
 *
 * The scope rides on one AsyncLocalStorage kept in `globalThis[Symbol.for("diagnose.scope")]`, so
 * the CommonJS and ESM copies of the runtime (and nested installs) see the same scope.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { InstrumentOptionsError } from "./probes/errors.js";
import type { Instrument, InstrumentOptions } from "./instruments/instrument.js";
import type { Probe } from "./probes/probe.js";

/** The label used when none is given. */
export const DEFAULT_SCOPE = "debug";

const SLOT = Symbol.for("diagnose.scope");
const SLOT_VERSION = 1;
const EMPTY: ReadonlySet<string> = new Set();

interface ScopeSlot {
  readonly version: number;
  readonly storage: AsyncLocalStorage<ReadonlySet<string>>;
}

function storage(): AsyncLocalStorage<ReadonlySet<string>> {
  const g = globalThis as unknown as Record<symbol, ScopeSlot | undefined>;
  let slot = g[SLOT];
  // A copy with another slot layout cannot be shared: this copy keeps its own scope.
  if (slot === undefined || slot.version !== SLOT_VERSION) {
    slot = { version: SLOT_VERSION, storage: new AsyncLocalStorage() };
    if (g[SLOT] === undefined) Object.defineProperty(g, SLOT, { value: slot, configurable: true });
  }
  return slot.storage;
}

const als = storage();

function labelList(labels: string | readonly string[]): readonly string[] {
  const list = typeof labels === "string" ? [labels] : labels;
  if (!Array.isArray(list) || list.some((l) => typeof l !== "string" || l === "")) {
    throw new InstrumentOptionsError(
      `A scope label must be a non-empty string (or an array of them), got ${JSON.stringify(labels)}.`,
    );
  }
  return list;
}

export const scope = {
  /**
   * Runs `fn` inside the scope `labels` (added to the labels of an enclosing scope) and returns
   * its result; everything `fn` starts (awaits, timers, callbacks) stays inside.
   */
  run<R>(labels: string | readonly string[], fn: () => R): R {
    const outer = als.getStore() ?? EMPTY;
    const inner = new Set(outer);
    for (const l of labelList(labels)) inner.add(l);
    return als.run(inner, fn);
  },

  /** Whether the current call runs inside the scope `label`. */
  has(label: string = DEFAULT_SCOPE): boolean {
    const labels = als.getStore();
    return labels?.has(label) === true;
  },

  /** The labels of the current scope (empty outside every scope). */
  labels(): ReadonlySet<string> {
    return als.getStore() ?? EMPTY;
  },
};

/**
 * Limits `instrument` to calls made inside `scope.run(label, …)`, keeping its own call filter
 * (and its manager's) for those calls. Returns the same instrument.
 */
export function scoped<T extends Instrument>(instrument: T, label: string = DEFAULT_SCOPE): T {
  labelList(label);
  const own = instrument.checkCall;
  // An own property (not a prototype override) so an unscoped instrument of the same class keeps
  // the probe's fast path, which skips per-call filtering for the default checkCall.
  instrument.checkCall = function scopedCheckCall(this: Instrument, probe: Probe, args: readonly unknown[]): boolean {
    return scope.has(label) && own.call(this, probe, args);
  };
  return instrument;
}

/** An instrument class as a spec's `instrument.type` names it. */
type InstrumentConstructor<T extends Instrument = Instrument> = new (
  name: string,
  value: string,
  options?: InstrumentOptions,
) => T;

/**
 * A subclass of `Base` that honours `custom.scope` (a label): an instrument built with it fires
 * only inside `scope.run(label, …)`. For specs, which cannot call `scoped()`:
 * `manager.instrumentClasses.log = scopable(LogInstrument)`.
 */
export function scopable<C extends InstrumentConstructor>(Base: C): C {
  // Typed structurally: Instrument itself is abstract, and `Base` is a concrete subclass of it.
  const Concrete = Base as unknown as new (
    name: string,
    value: string,
    options?: InstrumentOptions,
  ) => { custom: Instrument["custom"] };
  const Scopable = class extends Concrete {
    constructor(name: string, value: string, options?: InstrumentOptions) {
      super(name, value, options);
      applyScope(this as unknown as Instrument, this.custom["scope"]);
    }

    // A spec update reconfigures the instrument in place: its scope may have been added, changed
    // or removed.
    // The filter is set before the base class re-arms the probes, which read it then.
    reconfigure(from: Instrument): void {
      delete (this as Partial<Pick<Instrument, "checkCall">>).checkCall;
      applyScope(this as unknown as Instrument, from.custom["scope"]);
      (Concrete.prototype as unknown as Instrument).reconfigure.call(this, from);
    }
  };
  Object.defineProperty(Scopable, "name", { value: Base.name });
  return Scopable as unknown as C;
}

function applyScope(instrument: Instrument, label: unknown): void {
  if (label === undefined) return;
  if (typeof label !== "string" || label === "") {
    throw new InstrumentOptionsError(
      `\`custom.scope\` must be a non-empty string label, got ${JSON.stringify(label)}.`,
    );
  }
  scoped(instrument, label);
}
