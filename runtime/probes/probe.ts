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
import { performance } from "node:perf_hooks";
import { Instrument } from "../instruments/instrument.js";
import { manager } from "../manager/manager.js";
import {
  InvalidTargetError,
  LineNotFoundError,
  TargetNotFoundError,
  listFunctions,
  watch,
  type FunctionInfo,
  type Watch,
  type WatchOptions,
  type WatchState,
} from "../registry/index.js";
import { Dispatcher, EMPTY_SNAPSHOT, type Slot, type Snapshot } from "./dispatch.js";
import { InstrumentOptionsError, ProbeExistsError } from "./errors.js";

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

/** @internal */
export const allProbes = new Map<string, Probe>();

/**
 * The instruments of a probe by key. A real Map: `set`, `delete` and `clear` take effect at once,
 * also while probed calls are in flight.
 */
export class InstrumentMap extends Map<string, Instrument> {
  #probe: Probe | undefined;

  /** @internal */
  constructor(probe: Probe) {
    super();
    this.#probe = probe;
  }

  /**
   * Attaches `instrument` under `key` (replacing any other instrument there). Throws if it is not an
   * Instrument, or if its "line:N" has no line site in the already loaded target.
   */
  override set(key: string, instrument: Instrument): this {
    const probe = this.#probe;
    if (probe === undefined) return super.set(key, instrument);
    if (!(instrument instanceof Instrument)) {
      throw new InstrumentOptionsError(
        `probe.instruments.set(${JSON.stringify(key)}, …) needs an Instrument (e.g. new LogInstrument(name, value)).`,
      );
    }
    probe.checkLine(instrument);
    const old = super.get(key);
    super.set(key, instrument);
    if (old !== undefined && old !== instrument) this.release(old);
    instrument.owners.add(probe);
    probe.refresh();
    return this;
  }

  override delete(key: string): boolean {
    const old = super.get(key);
    if (!super.delete(key)) return false;
    if (old !== undefined) this.release(old);
    this.#probe?.refresh();
    return true;
  }

  override clear(): void {
    const olds = [...super.values()];
    super.clear();
    for (const old of olds) this.release(old);
    this.#probe?.refresh();
  }

  private release(inst: Instrument): void {
    const probe = this.#probe;
    if (probe === undefined) return;
    for (const v of super.values()) if (v === inst) return;
    inst.owners.delete(probe);
  }
}

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
  private refreshing = false;
  private again = false;

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
    if (!this.startedFlag) return "stopped";
    const w = this.watchHandle;
    if (w !== undefined && w.state !== "closed") return w.state;
    return this.failure !== undefined ? "failed" : "idle";
  }

  /** Why the probe failed, when `status` is "failed". */
  get error(): Error | undefined {
    if (!this.startedFlag) return undefined;
    const w = this.watchHandle;
    if (w !== undefined && w.state === "failed") return w.error;
    return this.failure;
  }

  /** The target's function, once its module has loaded and the probe is active. */
  get functionInfo(): FunctionInfo | undefined {
    return this.watchHandle?.fn ?? listFunctions().find((f) => f.qualifiedName === this.target);
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
    return this;
  }

  /** Switches the probe off (idempotent); its instruments stay attached for a later `start()`. */
  stop(): this {
    this.startedFlag = false;
    this.refresh();
    return this;
  }

  toString(): string {
    return `Probe(${JSON.stringify(this.target)}, ${this.status}, ${this.instruments.size} instrument(s))`;
  }

  // -- internals, called by the map, the instruments and the dispatcher ------------------------

  /**
   * Rebuilds the snapshot from the instruments and reconciles the watch. Re-entrant calls (an
   * instrument disabled while reconciling) run another round instead of nesting.
   * @internal
   */
  refresh(): void {
    if (this.refreshing) {
      this.again = true;
      return;
    }
    this.refreshing = true;
    try {
      let rounds = 0;
      do {
        this.again = false;
        this.rebuild();
        this.reconcile();
      } while (this.again && ++rounds < 100);
    } finally {
      this.refreshing = false;
    }
  }

  /** @internal */
  instrumentFailed(slot: Slot, error: unknown): void {
    if (slot.dead) return;
    slot.dead = true;
    const inst = slot.inst;
    try {
      inst.recordError(error);
    } catch {
      // recordError only counts and refreshes; nothing here may reach the probed function.
    }
    try {
      inst.mgr.handleError(this, inst, error);
    } catch {
      // A throwing error handler goes nowhere.
    }
  }

  /** The registry closed our watch after catching an error from it. @internal */
  watchFailed(error: unknown): void {
    this.failure = error instanceof Error ? error : new Error(String(error));
    try {
      manager.handleError(this, undefined, error);
    } catch {
      // Ignored, as above.
    }
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
        for (const slot of culprits) this.instrumentFailed(slot, error);
        this.refresh();
        return;
      }
    }
    try {
      manager.handleError(this, undefined, error);
    } catch {
      // Ignored, as in watchFailed.
    }
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
      if (slot === undefined || slot.inst !== inst || slot.dead) slot = { key, inst, dead: false, deadline: Infinity };
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
    for (const slot of culprits) this.instrumentFailed(slot, err);
    this.again = true;
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
    const fns = listFunctions();
    const inModule = fns.filter((f) => this.target.startsWith(f.module + ":"));
    if (inModule.length === 0) return undefined; // module not loaded: pending
    if (inModule.some((f) => f.qualifiedName === this.target)) return undefined;
    return new TargetNotFoundError(this.target, nearest(this.target, inModule.map((f) => f.qualifiedName)));
  }
}

function bucket(all: Slot[]): Snapshot {
  const call: Slot[] = [];
  const ret: Slot[] = [];
  const end: Slot[] = [];
  const lines = new Map<number, Slot[]>();
  const finishers: Slot[] = [];
  let hotspots = false;
  let timing = false;
  let retClock = false;
  let endClock = false;
  for (const slot of all) {
    const inst = slot.inst;
    // Entry time: names that need it, or an expiring "call" instrument (checked against frame.start).
    if (inst.needsStart() || (inst.eventKind === "call" && slot.deadline !== Infinity)) timing = true;
    switch (inst.eventKind) {
      case "call":
        call.push(slot);
        break;
      case "return":
        ret.push(slot);
        if (inst.mentions("hotspots")) hotspots = true;
        if (inst.needsEnd()) retClock = true;
        break;
      case "end":
        end.push(slot);
        if (inst.needsEnd()) endClock = true;
        break;
      case "line": {
        const l = inst.line!;
        let list = lines.get(l);
        if (list === undefined) lines.set(l, (list = []));
        list.push(slot);
        break;
      }
    }
    if (inst.finish !== Instrument.prototype.finish) finishers.push(slot);
  }
  const lineKeys = [...lines.keys()].sort((a, b) => a - b);
  const lineSlots = lineKeys.map((l) => lines.get(l)!);
  return { all, call, ret, end, lineKeys, lineSlots, finishers, hotspots, timing, retClock, endClock };
}

interface ProbeWatchOptions {
  exits: boolean;
  lines: readonly number[] | "all";
  timing: boolean;
}

function watchOptionsOf(s: Snapshot): ProbeWatchOptions {
  return {
    exits: s.ret.length > 0 || s.end.length > 0 || s.finishers.length > 0 || s.hotspots,
    lines: s.hotspots ? "all" : s.lineKeys,
    timing: s.timing,
  };
}

function sameOptions(a: ProbeWatchOptions, b: ProbeWatchOptions): boolean {
  if (a.exits !== b.exits || a.timing !== b.timing) return false;
  if (a.lines === "all" || b.lines === "all") return a.lines === b.lines;
  return a.lines.length === b.lines.length && a.lines.every((l, i) => l === (b.lines as readonly number[])[i]);
}

/** Up to three names nearest to `target` by edit distance. */
function nearest(target: string, names: readonly string[]): string[] {
  const dist = (a: string, b: string): number => {
    let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      const cur = [i];
      for (let j = 1; j <= b.length; j++) {
        cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
      prev = cur;
    }
    return prev[b.length]!;
  };
  return [...names].sort((x, y) => dist(target, x) - dist(target, y)).slice(0, 3);
}
