/**
 * The public types of the registry (docs/registry-contract.md), and the internal shape of the
 * object that sits in the global slot and is shared by every copy of the package in a realm.
 */
import type { HookBinder, ModuleTable, SiteKindName } from "../../abi/index.js";

export interface SiteInfo {
  /** Site id inside its module (index into the module's site table). */
  readonly id: number;
  readonly kind: SiteKindName;
  /** 1-based, original source. */
  readonly line: number;
  /** 0-based. */
  readonly column: number;
  /** Names of the locals passed at this site, in the order their values are passed. */
  readonly locals: readonly string[];
}

export interface FunctionInfo {
  /** `module + ":" + path`, e.g. `"src/shop/cart.ts:Cart.total"`. */
  readonly qualifiedName: string;
  readonly module: string;
  readonly path: string;
  readonly line: number;
  readonly column: number;
  /** FnFlags bits (runtime/abi.ts). */
  readonly flags: number;
  /** Parameter descriptors (runtime/abi.ts). */
  readonly params: readonly string[];
  readonly sites: readonly SiteInfo[];
}

/** One call of a watched function, created by its entry hook. */
export interface CallFrame {
  readonly fn: FunctionInfo;
  /** `this`; undefined for arrows and derived constructors. */
  readonly self: unknown;
  /** As passed to the entry hook (one per parameter). */
  readonly args: readonly unknown[];
  /** performance.now() at entry. */
  readonly start: number;
  /** Wall clock at entry (computed on first read from `start`). */
  readonly startDate: Date;
  /**
   * @internal One value per call for the watcher that set it first (the probe dispatcher keeps
   * its per-call state here): read back at the call's lines and exits with a field load, where a
   * WeakMap keyed by the frame costs a hash lookup and an ephemeron per call. The registry never
   * reads it; a watcher that finds it taken by another keeps its own map.
   */
  mark?: unknown;
}

/** What an entry/line watcher may ask for. Everything is optional. */
export interface SiteDecision {
  /** Replace the arguments (entry only; plain/default/rest params). The last replacement wins. */
  args?: unknown[];
  /**
   * Async functions: awaited at the site before the body goes on. Addition to the contract: a
   * pause that resolves to `{ throw: { error } }` throws `error` into the function at the site.
   */
  pause?: Promise<unknown>;
  /** Fault injection: thrown into the function at the site (the first one asked for wins). */
  throw?: { error: unknown };
}

export interface Watcher {
  onEntry?(frame: CallFrame): SiteDecision | void;
  onLine?(frame: CallFrame | undefined, site: SiteInfo, locals: readonly unknown[]): SiteDecision | void;
  /**
   * Exit by `return` or falling off the end. Return `{ value }` to replace the returned value, or
   * (addition to the contract) `{ throw: { error } }` to throw `error` from the return site instead.
   */
  onReturn?(
    frame: CallFrame | undefined,
    site: SiteInfo,
    value: unknown,
    locals: readonly unknown[],
  ): { value: unknown } | { throw: { error: unknown } } | void;
  /**
   * An exception leaving the function; it is rethrown unchanged after the watchers ran, unless
   * (addition to the contract) the watcher returns `{ error }`: that value is thrown instead.
   */
  onThrow?(
    frame: CallFrame | undefined,
    site: SiteInfo,
    error: unknown,
    locals: readonly unknown[],
  ): { error: unknown } | void;
  /** A watcher method threw: the registry caught it, closed this watch, and reports it here. */
  onError?(error: unknown, where: "entry" | "line" | "return" | "throw"): void;
  /**
   * Addition to the contract: the watch changed state on its own, when the module of a pending
   * watch registered: `"active"` (sites on), or `"failed"` with `error` (TargetNotFoundError,
   * LineNotFoundError). Called after the registry finished registering the module, so the watcher
   * may call `watch()`/`close()`/`update()` from here; guarded (an error thrown here is dropped).
   * Not called for changes made by the caller (`watch()`, `update()`, `close()`), nor for a failure
   * reported through `onError`.
   */
  onStateChange?(state: WatchState, error: Error | undefined): void;
}

export interface WatchOptions {
  /** Line sites to switch on: source line numbers, or "all". Default: none. */
  lines?: readonly number[] | "all";
  /** Switch on return/end/throw sites. Default: true. (The entry site is on whenever a watch is active.) */
  exits?: boolean;
  /**
   * Addition to the contract. Whether this watch reads `frame.start` / `frame.startDate`. Default:
   * true. When no active watch of a function needs timing, its frames skip the clock read (the
   * largest part of a bare entry hook: ~40 ns on Node 20) and have `start` NaN.
   */
  timing?: boolean;
}

export type WatchState = "pending" | "active" | "failed" | "closed";

export interface Watch {
  readonly target: string;
  /** pending: module not loaded yet; failed: see error. */
  readonly state: WatchState;
  readonly error: Error | undefined;
  readonly fn: FunctionInfo | undefined;
  update(options: WatchOptions): void;
  /** Idempotent; flags go off when no other watch needs them. */
  close(): void;
}

/**
 * The object in `globalThis[Symbol.for("diagnose.registry")]` once the runtime has loaded. Every
 * copy of the package in the realm talks to the first copy's instance through this shape, so it
 * may only grow (bump `protocol` when it does, and check it before using a new method).
 * @internal
 */
export interface SharedRegistry {
  readonly abi: number;
  /**
   * Revision of this interface among registries of the same ABI. 2: watchers' `onStateChange` is
   * called (a registry of protocol 1, from an older copy in the slot, never calls it). 3: `lookup`.
   */
  readonly protocol: number;
  register(table: ModuleTable, bind: HookBinder): ModuleTable;
  watch(target: string, watcher: Watcher, options?: WatchOptions): Watch;
  listFunctions(): FunctionInfo[];
  /** Protocol 3: what the registry knows of one qualified name (see TargetLookup). */
  lookup?(target: string): TargetLookup;
  /** Closes every watch and forgets pending ones; module tables stay registered. */
  resetForTests(): void;
}

/**
 * What the registry knows of a qualified name:
 * - "found": a registered module has the function (`fn`: its newest version);
 * - "missing": a module the name can refer to is registered, but has no such function (`nearest`:
 *   up to three of its qualified names, nearest first);
 * - "not-loaded": no registered module has a path the name can start with (`nearest`: up to three
 *   registered module paths nearest to the name's module part, for typos).
 */
export type TargetLookup =
  | { readonly state: "found"; readonly fn: FunctionInfo }
  | { readonly state: "missing"; readonly nearest: readonly string[] }
  | { readonly state: "not-loaded"; readonly nearest: readonly string[] };
