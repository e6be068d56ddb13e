/**
 * A Probe: the instruments attached to one target (a qualified name such as
 * "src/shop/cart.ts:Cart.total"), and the registry watch that feeds them.
 *
 * Lifecycle: a probe holds a watch exactly while it is started and has at least one live
 * instrument; the watch's options are the union of what those instruments need (exits only for
 * "return"/"end" instruments or a `finish()`, the lines of "line:N" instruments, every line for
 * hotspots). When the last live instrument goes — removed, disabled, or expired (an unref'd timer
 * notices without any call) — the watch closes and the target's sites are off again.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { isNativeError } from "node:util/types";
import { Instrument, type InstrumentObserver } from "../instruments/instrument.js";
import { manager, type InstrumentManager } from "../manager/manager.js";
import {
  InvalidTargetError,
  LineNotFoundError,
  TargetNotFoundError,
  lookupTarget,
  watch,
  type FunctionInfo,
  type Watch,
  type WatchOptions,
  type WatchState,
} from "../registry/index.js";
import { Dispatcher, EMPTY_SNAPSHOT, hasCallFilter, type Slot, type Snapshot } from "./dispatch.js";
import { InstrumentMap } from "./instrument-map.js";
import { bucket, sameOptions, watchOptionsOf, type ProbeWatchOptions } from "./snapshot.js";
import { describeError } from "../../errors/index.js";
import { ProbeExistsError } from "./errors.js";

export { InstrumentMap } from "./instrument-map.js";

/**
 * - "stopped": not started (or stopped);
 * - "idle": started, but no live instrument, so nothing is switched on;
 * - "pending": waiting for the target's module to load;
 * - "active": the target's sites are on;
 * - "failed": see `error` (e.g. the target does not exist in its loaded module).
 */
export type ProbeStatus = "stopped" | "idle" | "pending" | "active" | "failed";

/** Longest timer delay Node accepts; longer expiries re-arm. */
const MAX_DELAY = 2 ** 31 - 1;

/** How long a started probe may stay pending before a warning says so (its module never loaded?). */
const PENDING_WARNING_MS = 10_000;

/** @internal */
export const allProbes = new Map<string, Probe>();

export class Probe {
  /** The qualified name: "module:path", e.g. "src/shop/cart.ts:Cart.total". */
  readonly target: string;
  /** The instruments by key (a real Map; see InstrumentMap). */
  readonly instruments: InstrumentMap;
  private startedFlag = false;
  private watchHandle: Watch | undefined = undefined;
  private watchOptions: ProbeWatchOptions | undefined = undefined;
  private failure: Error | undefined = undefined;
  private readonly dispatcher = new Dispatcher(this);
  private readonly slots = new Map<string, Slot>();
  private timer: NodeJS.Timeout | undefined = undefined;
  private pendingTimer: NodeJS.Timeout | undefined = undefined;
  private refreshing = false;
  private scheduled = false;
  /** Set while a failure caught during an event is recorded: changes then only mark the probe. */
  private quiet = false;
  /**
   * Set by a manager while one apply changes many instruments of this probe: changes then only
   * mark it, and the manager flushes once at the end (removed instruments still stop at once).
   * @internal
   */
  deferring = false;
  /**
   * Instruments changed (added, removed, failed, expired) since the snapshot was built. Changes
   * only mark the probe; the snapshot and the watch are rebuilt once, by `flush()`: at the next
   * event, the next read of the probe's state, or a microtask — never once per change, and never
   * inside the loop of an event. A change that needs more of the watch (a new line, exits, timing)
   * rebuilds at once, so it takes effect at the next call.
   * @internal
   */
  dirty = false;
  /** How this probe hears about its instruments (see InstrumentObserver). @internal */
  readonly observer: InstrumentObserver = {
    changed: (inst) => this.instrumentChanged(inst),
    failed: (inst, error) => this.instrumentFailedLater(inst, error),
  };
  private readonly flushLater = (): void => {
    this.scheduled = false;
    try {
      this.flush();
    } catch {
      // flush guards what it calls; nothing may escape into the microtask queue.
    }
  };

  /** Prefer `probes.attachTo(target)`, which returns the existing probe of a target. */
  constructor(target: string) {
    if (typeof target !== "string" || !/^.+:.+$/s.test(target)) throw new InvalidTargetError(String(target));
    if (allProbes.has(target)) throw new ProbeExistsError(target);
    this.target = target;
    this.instruments = new InstrumentMap(this);
    allProbes.set(target, this);
  }

  /** Whether `start()` was called (and not `stop()` since). */
  get started(): boolean {
    return this.startedFlag;
  }

  get status(): ProbeStatus {
    if (this.dirty) this.flush();
    if (!this.startedFlag) return "stopped";
    const w = this.watchHandle;
    if (w !== undefined && w.state !== "closed") return w.state;
    return this.failure !== undefined ? "failed" : "idle";
  }

  /** Why the probe failed, when `status` is "failed". */
  get error(): Error | undefined {
    if (this.dirty) this.flush();
    if (!this.startedFlag) return undefined;
    const w = this.watchHandle;
    if (w !== undefined && w.state === "failed") return w.error;
    return this.failure;
  }

  /** The target's function, once its module has loaded and the probe is active. */
  get functionInfo(): FunctionInfo | undefined {
    const w = this.watchHandle?.fn;
    if (w !== undefined) return w;
    const found = lookupTarget(this.target);
    return found.state === "found" ? found.fn : undefined;
  }

  /**
   * Switches the probe on (idempotent). A target whose module has not loaded yet is pending and
   * attaches when the module registers. Throws the error if the module is loaded and has no such
   * function (the error names the nearest existing functions); `status` shows it too.
   */
  start(): this {
    this.startedFlag = true;
    this.failure = undefined;
    this.refresh();
    if (this.watchHandle === undefined) this.failure = this.checkTarget();
    const err = this.error;
    if (err !== undefined) throw err;
    if (this.status === "pending") this.warnPending();
    return this;
  }

  /** Switches the probe off (idempotent); its instruments stay attached for a later `start()`. */
  stop(): this {
    this.startedFlag = false;
    this.clearPendingTimer();
    this.refresh();
    return this;
  }

  toString(): string {
    return `Probe(${JSON.stringify(this.target)}, ${this.status}, ${this.instruments.size} instrument(s))`;
  }

  // -- internals, called by the map, the instruments and the dispatcher ------------------------

  /** Rebuilds the snapshot and reconciles the watch now. @internal */
  refresh(): void {
    this.dirty = true;
    this.flush();
  }

  /**
   * Applies pending changes: reports caught failures, rebuilds the snapshot from the instruments
   * and reconciles the watch, once. A change made meanwhile (an instrument disabled while
   * reconciling) runs another round instead of nesting.
   * @internal
   */
  flush(): void {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      let rounds = 0;
      while (this.dirty && rounds++ < 100) {
        this.dirty = false;
        for (const slot of this.slots.values()) if (slot.failed && !slot.reported) this.reportFailure(slot);
        this.rebuild();
        this.reconcile();
      }
    } finally {
      this.refreshing = false;
    }
  }

  /** Marks the probe for a flush: at the next event, read of its state, or a microtask. @internal */
  markDirty(): void {
    this.dirty = true;
    // A stopped probe has nothing switched on: start() (or a read of its state) flushes.
    if (this.scheduled || !this.startedFlag) return;
    this.scheduled = true;
    queueMicrotask(this.flushLater);
  }

  /**
   * Instruments under `keys` were removed (`inst` undefined) or one was set under the single key.
   * The old instrument stops at once (the snapshot in use still lists its slot); the watch shrinks
   * at once too, unless the probe is stopped (then `start()` rebuilds).
   * @internal
   */
  keysChanged(keys: readonly string[], inst: Instrument | undefined): void {
    for (const key of keys) {
      const slot = this.slots.get(key);
      if (slot !== undefined && slot.inst !== inst) slot.dead = true;
    }
    if (inst !== undefined) this.instrumentChanged(inst);
    else if (!this.startedFlag || this.refreshing || this.quiet || this.deferring) this.markDirty();
    else this.refresh();
  }

  /**
   * An instrument of this probe was added or changed. A live one the watch already covers (the
   * common case: attaching many instruments) only marks the probe; one that needs more sites, or
   * went off (disabled, expired: its sites may go off), rebuilds now. Failures caught during an
   * event (`quiet`) only mark it: the next event or a microtask rebuilds once.
   */
  private instrumentChanged(inst: Instrument): void {
    if (
      !this.startedFlag ||
      this.refreshing ||
      this.quiet ||
      this.deferring ||
      (inst.status === "live" && this.watchCovers(inst))
    ) {
      this.markDirty();
    } else this.refresh();
  }

  /** Whether the current watch already switches on every site `inst` needs. */
  private watchCovers(inst: Instrument): boolean {
    const w = this.watchHandle;
    const o = this.watchOptions;
    if (w === undefined || o === undefined || (w.state !== "active" && w.state !== "pending")) return false;
    const kind = inst.eventKind;
    const hot = kind === "return" && inst.mentions("hotspots");
    if ((kind === "return" || kind === "end" || inst.finish !== Instrument.prototype.finish) && !o.exits) return false;
    if (hot && o.lines !== "all") return false;
    if (kind === "line" && o.lines !== "all" && !o.lines.includes(inst.line!)) return false;
    if (!o.timing && (inst.needsStart() || (kind === "call" && inst.expires !== undefined))) return false;
    return true;
  }

  /**
   * Records the error caught from a slot's instrument (it disables it) and hands it to the
   * instrument's manager, once. The dispatcher already marked the slot dead and failed.
   * @internal
   */
  reportFailure(slot: Slot): void {
    if (slot.reported) return;
    const inst = slot.inst;
    const error = slot.error;
    if (!slot.recorded) {
      slot.recorded = true;
      this.quiet = true;
      try {
        inst.recordError(error);
      } catch {
        // Near the stack limit: the fields are written first (see recordError); the flush rebuilds.
        this.dirty = true;
      } finally {
        this.quiet = false;
      }
    }
    // Marked only once handed on: near the stack limit nothing may fit, and the next flush tries again.
    if (this.report(inst.mgr, inst, error)) slot.reported = true;
    else this.dirty = true;
  }

  /** A promise an instrument made rejected after its event: stop its slot and report it. */
  private instrumentFailedLater(inst: Instrument, error: unknown): boolean {
    let held = false;
    for (const slot of this.slots.values()) {
      if (slot.inst !== inst) continue;
      held = true;
      slot.dead = true;
    }
    if (!held) for (const v of this.instruments.values()) if (v === inst) held = true;
    if (!held) return false;
    this.markDirty();
    this.report(inst.mgr, inst, error);
    return true;
  }

  /** Calls `mgr.handleError`, guarded; near the stack limit it is retried from a microtask. */
  /** Hands an error to the manager; false when not even a retry could be queued (stack limit). */
  private report(mgr: InstrumentManager, inst: Instrument | undefined, error: unknown): boolean {
    try {
      mgr.handleError(this, inst, error);
    } catch (err) {
      if (!(err instanceof RangeError)) return true; // A throwing error handler goes nowhere.
      try {
        queueMicrotask(() => {
          try {
            mgr.handleError(this, inst, error);
          } catch {
            // As above.
          }
        });
      } catch {
        // Not even that fits: the error stays recorded on the instrument.
        return false;
      }
    }
    return true;
  }

  /** The managers of this probe's instruments, each once (the default manager when there are none). */
  private managers(): Set<InstrumentManager> {
    const out = new Set<InstrumentManager>();
    for (const inst of this.instruments.values()) out.add(inst.mgr);
    if (out.size === 0) out.add(manager);
    return out;
  }

  /** The registry closed our watch after catching an error from it. @internal */
  watchFailed(error: unknown): void {
    this.failure = isNativeError(error) ? error : new Error(describeError(error));
    for (const mgr of this.managers()) this.report(mgr, undefined, error);
  }

  /**
   * The registry settled the pending watch when the target's module registered (onStateChange).
   * A "line:N" instrument whose line has no site there is disabled at once (error recorded, handed
   * to `mgr.handleError`) and the other instruments get a new watch; a missing target is reported
   * to the manager (and shown in `status`).
   * @internal
   */
  watchSettled(state: WatchState, error: Error | undefined): void {
    const w = this.watchHandle;
    if (state !== "failed" || w === undefined || w.state !== "failed" || !this.startedFlag) return;
    if (error instanceof LineNotFoundError) {
      const missing = new Set(error.lines);
      const culprits = this.dispatcher.snap.all.filter((s) => s.inst.line !== undefined && missing.has(s.inst.line));
      if (culprits.length > 0) {
        // Drop the failed watch: the remaining instruments (if any) get a new one.
        this.watchHandle = undefined;
        this.watchOptions = undefined;
        for (const slot of culprits) this.failSlot(slot, error);
        this.refresh();
        return;
      }
    }
    if (state === "failed") for (const mgr of this.managers()) this.report(mgr, undefined, error);
  }

  /** Disables one slot's instrument with `error` and reports it (line problems). */
  private failSlot(slot: Slot, error: unknown): void {
    if (slot.failed) return;
    slot.failed = true;
    slot.dead = true;
    slot.error = error;
    this.reportFailure(slot);
  }

  /** Throws LineNotFoundError when the loaded target has no line site at a "line:N" instrument's line. @internal */
  checkLine(inst: Instrument): void {
    if (inst.line === undefined) return;
    const fn = this.watchHandle?.state === "active" ? this.watchHandle.fn : undefined;
    if (fn === undefined) return;
    const available = [...new Set(fn.sites.filter((s) => s.kind === "line").map((s) => s.line))].sort((a, b) => a - b);
    if (!available.includes(inst.line)) throw new LineNotFoundError(this.target, [inst.line], available);
  }

  private rebuild(): void {
    const nowPerf = performance.now();
    const nowWall = Date.now();
    const keep = new Map<string, Slot>();
    const all: Slot[] = [];
    let soonest = Infinity;
    for (const [key, inst] of this.instruments) {
      if (inst.status !== "live") continue;
      let slot = this.slots.get(key);
      if (slot === undefined || slot.inst !== inst || slot.dead) {
        slot = {
          key,
          inst,
          dead: false,
          deadline: Infinity,
          filtered: false,
          failed: false,
          error: undefined,
          recorded: false,
          reported: false,
        };
      }
      slot.filtered = hasCallFilter(inst);
      const expires = inst.expires;
      slot.deadline = expires === undefined ? Infinity : expires.getTime() - nowWall + nowPerf;
      if (slot.deadline < soonest) soonest = slot.deadline;
      keep.set(key, slot);
      all.push(slot);
    }
    for (const [key, slot] of this.slots) if (keep.get(key) !== slot) slot.dead = true;
    this.slots.clear();
    for (const [k, s] of keep) this.slots.set(k, s);

    const snap: Snapshot = all.length === 0 ? EMPTY_SNAPSHOT : bucket(all);
    this.dispatcher.snap = this.startedFlag ? snap : EMPTY_SNAPSHOT;

    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.startedFlag && soonest !== Infinity) {
      const delay = Math.max(0, Math.min(MAX_DELAY, Math.ceil(soonest - nowPerf) + 1));
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.refresh();
      }, delay);
      this.timer.unref();
    }
  }

  private reconcile(): void {
    const snap = this.dispatcher.snap;
    if (!this.startedFlag || snap.all.length === 0) {
      this.closeWatch();
      return;
    }
    const options = watchOptionsOf(snap);
    const w = this.watchHandle;
    if (w !== undefined && (w.state === "active" || w.state === "pending")) {
      if (this.watchOptions !== undefined && sameOptions(this.watchOptions, options)) return;
      try {
        w.update(options as WatchOptions);
        this.watchOptions = options;
      } catch (err) {
        this.lineProblem(err, snap);
      }
      return;
    }
    this.closeWatch();
    this.failure = undefined;
    const created = watch(this.target, this.dispatcher, options as WatchOptions);
    this.watchHandle = created;
    this.watchOptions = options;
    if (created.state === "failed") this.lineProblem(created.error, snap);
  }

  /** A "line:N" instrument names a line without a site: disable those instruments, keep the rest. */
  private lineProblem(err: unknown, snap: Snapshot): void {
    if (!(err instanceof LineNotFoundError)) return;
    const missing = new Set(err.lines);
    const culprits = snap.all.filter((s) => s.inst.line !== undefined && missing.has(s.inst.line));
    if (culprits.length === 0) return;
    this.closeWatch();
    for (const slot of culprits) this.failSlot(slot, err);
    this.dirty = true;
  }

  private closeWatch(): void {
    const w = this.watchHandle;
    if (w === undefined) return;
    if (w.state === "failed") {
      // Keep a failed watch for `status` while the probe stays started.
      if (this.startedFlag) return;
    } else w.close();
    this.watchHandle = undefined;
    this.watchOptions = undefined;
  }

  /** With no watch to ask: the registry's view of whether the target exists. */
  private checkTarget(): Error | undefined {
    const found = lookupTarget(this.target);
    return found.state === "missing" ? new TargetNotFoundError(this.target, found.nearest) : undefined;
  }

  /**
   * A started probe is pending (its module has not registered). When registered modules exist and
   * none is the named one, the module part may be a typo: say so now, with the nearest ones; and
   * warn again if the probe is still pending after a while.
   */
  private warnPending(): void {
    const found = lookupTarget(this.target);
    if (found.state === "not-loaded" && found.nearest.length > 0) {
      const module = this.target.slice(0, this.target.indexOf(":"));
      // Module paths are relative to the project root, which is the working directory of most services.
      const onDisk = existsSync(resolve(process.cwd(), module));
      emitWarning(
        `diagnose: probe ${this.target} is pending: no registered module is named ${JSON.stringify(module)}` +
          `${onDisk ? "" : ` and there is no such file under ${process.cwd()}`}. ` +
          `Nearest registered modules: ${found.nearest.join(", ")}.`,
      );
    }
    this.clearPendingTimer();
    this.pendingTimer = setTimeout(() => {
      this.pendingTimer = undefined;
      if (this.status !== "pending") return;
      emitWarning(
        `diagnose: probe ${this.target} is still pending after ${PENDING_WARNING_MS / 1000} s: its module has not loaded. ` +
          `Check the module part of the name (a path relative to the project root, with its source extension).`,
      );
    }, PENDING_WARNING_MS);
    this.pendingTimer.unref();
  }

  private clearPendingTimer(): void {
    if (this.pendingTimer === undefined) return;
    clearTimeout(this.pendingTimer);
    this.pendingTimer = undefined;
  }
}

function emitWarning(message: string): void {
  try {
    process.emitWarning(message, { code: "DIAGNOSE_PROBE_PENDING" });
  } catch {
    // A warning is not worth an exception.
  }
}
