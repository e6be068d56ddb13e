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
import type { FunctionInfo, Watch, Watcher, WatchOptions } from "./types.js";

export type {
  CallFrame,
  FunctionInfo,
  SiteDecision,
  SiteInfo,
  Watch,
  WatchOptions,
  WatchState,
  Watcher,
} from "./types.js";
export {
  AbiMismatchError,
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
 * Closes every watch of this realm's registry and forgets pending ones (tests only). Module tables
 * stay registered.
 * @internal
 */
export function resetForTests(): void {
  const registry = currentRegistry();
  if (!(registry instanceof Error)) registry.resetForTests();
}
