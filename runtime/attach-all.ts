/**
 * `attachAll`: one instrument on every function the registry knows (or on a list of targets, e.g.
 * a manifest's), filtered, with a handle that takes them all off again. For exploration and tests,
 * where users otherwise write this loop themselves.
 */
import type { Instrument } from "./instruments/instrument.js";
import { probes } from "./probes/probes.js";
import { listFunctions } from "./registry/index.js";

/** What the filter and the factory see of one function. */
export interface AttachTarget {
  /** `module:path`, e.g. "src/shop/cart.ts:Cart.total". */
  readonly target: string;
  /** The module part, e.g. "src/shop/cart.ts". */
  readonly module: string;
}

export interface AttachAllOptions {
  /**
   * Which functions: a prefix of the qualified name (e.g. "src/shop/"), a RegExp tested on it, or
   * a predicate. Default: all.
   */
  filter?: string | RegExp | ((target: AttachTarget) => boolean);
  /**
   * The qualified names to consider instead of the registry's loaded functions (e.g. every name of
   * a build manifest); targets whose module has not loaded yet attach when it loads.
   */
  targets?: Iterable<string>;
  /** The key of the instruments in each probe's map. Default "attachAll". */
  key?: string;
}

/** The instruments `attachAll` put on, and the way to take them off. */
export interface AttachedAll {
  /** The targets that got an instrument. */
  readonly targets: readonly string[];
  /** Removes every instrument this call added; probes it created are removed, others keep theirs. */
  detach(): void;
  [Symbol.dispose](): void;
}

/**
 * Attaches `factory(target)` (skipped when it returns undefined) to every function that passes
 * `filter`, and starts the probes. A probe that cannot start shows why in `probes.list()`.
 */
export function attachAll(
  factory: (target: AttachTarget) => Instrument | undefined,
  options: AttachAllOptions = {},
): AttachedAll {
  const key = options.key ?? "attachAll";
  const accept = toPredicate(options.filter);
  const names = options.targets === undefined ? listFunctions().map((f) => f.qualifiedName) : [...options.targets];
  const added: { target: string; created: boolean; instrument: Instrument }[] = [];
  for (const target of new Set(names)) {
    const colon = target.lastIndexOf(":");
    const info: AttachTarget = { target, module: colon < 0 ? target : target.slice(0, colon) };
    if (!accept(info)) continue;
    const instrument = factory(info);
    if (instrument === undefined) continue;
    const created = probes.get(target) === undefined;
    const probe = probes.attachTo(target);
    probe.instruments.set(key, instrument);
    added.push({ target, created, instrument });
    try {
      probe.start();
    } catch {
      // The probe's status says why; the other targets still attach.
    }
  }
  let detached = false;
  const detach = (): void => {
    if (detached) return;
    detached = true;
    for (const { target, created, instrument } of added) {
      const probe = probes.get(target);
      if (probe === undefined) continue;
      if (probe.instruments.get(key) === instrument) probe.instruments.delete(key);
      if (created && probe.instruments.size === 0) probes.remove(target);
    }
  };
  return { targets: added.map((a) => a.target), detach, [Symbol.dispose]: detach };
}

function toPredicate(filter: AttachAllOptions["filter"]): (t: AttachTarget) => boolean {
  if (filter === undefined) return () => true;
  if (typeof filter === "string") return (t) => t.target.startsWith(filter);
  if (filter instanceof RegExp) return (t) => filter.test(t.target);
  return filter;
}
