/**
 * The low-level runtime registry (docs/registry-contract.md): it receives every instrumented
 * module's site table, switches site flags on and off, and dispatches hook calls to watchers.
 * Probes, instruments and breakpoints are built on this API alone.
 *
 * Loading this module installs (or joins) the realm's registry in
 * `globalThis[Symbol.for("diagnose.registry")]`; see registry/global-slot.ts.
 */
import { WatchImpl } from "./watch.js";
import { currentRegistry } from "./global-slot.js";
import { nearest } from "./suggest.js";
import type { FunctionInfo, TargetLookup, Watch, Watcher, WatchOptions } from "./types.js";

export type {
  CallFrame,
  FunctionInfo,
  SiteDecision,
  SiteInfo,
  TargetLookup,
  Watch,
  WatchOptions,
  WatchState,
  Watcher,
} from "./types.js";
export {
  AbiMismatchError,
  CopiesUnavailableError,
  DiagnoseError,
  InvalidOptionsError,
  InvalidTargetError,
  LineNotFoundError,
  PauseNotAwaitableError,
  SyncPauseError,
  TargetNotFoundError,
  WatcherError,
} from "./errors.js";
export { SyncGate } from "./sync-gate.js";
export { addCopies, addCopySource, type CopySource } from "./copies.js";
export { editDistance, nearest } from "./suggest.js";

// On load: create the registry, join another copy's, or adopt the bootstrap's queued tables.
currentRegistry();

/**
 * Attaches `watcher` to the function named by `target` (`"module:path"`, e.g.
 * `"src/shop/cart.ts:Cart.total"`). Never throws: a target that cannot be watched gives a watch in
 * state "failed" with its `error`; a target whose module has not loaded yet is "pending" and
 * attaches when the module registers. The watcher's methods are read once, here.
 */
export function watch(target: string, watcher: Watcher, options?: WatchOptions): Watch {
  const registry = currentRegistry();
  if (registry instanceof Error) return new WatchImpl(target, watcher, undefined).failEarly(registry);
  return registry.watch(target, watcher, options);
}

/** Every function of every registered module, in registration order. */
export function listFunctions(): FunctionInfo[] {
  const registry = currentRegistry();
  return registry instanceof Error ? [] : registry.listFunctions();
}

/**
 * What the registry knows of `target` (`"module:path"`): its function, or why there is none. Asks
 * the registry in the slot; one of an older protocol is answered from its `listFunctions()`.
 */
export function lookupTarget(target: string): TargetLookup {
  const registry = currentRegistry();
  if (registry instanceof Error) return { state: "not-loaded", nearest: [] };
  if (registry.protocol >= 3 && typeof registry.lookup === "function") return registry.lookup(target);
  const fns = registry.listFunctions();
  const found = fns.filter((f) => f.qualifiedName === target);
  if (found.length > 0) return { state: "found", fn: found[found.length - 1]! };
  const inModule = fns.filter((f) => target.startsWith(f.module + ":"));
  if (inModule.length > 0)
    return { state: "missing", nearest: nearest(target, new Set(inModule.map((f) => f.qualifiedName))) };
  const colon = target.indexOf(":");
  return {
    state: "not-loaded",
    nearest: nearest(colon > 0 ? target.slice(0, colon) : target, new Set(fns.map((f) => f.module))),
  };
}

/**
 * Closes every watch of this realm's registry and forgets pending ones (tests only). Module tables
 * stay registered.
 * @internal
 */
export function resetForTests(): void {
  const registry = currentRegistry();
  if (!(registry instanceof Error)) registry.resetForTests();
}
