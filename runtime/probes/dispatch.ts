/**
 * The watcher a started probe hands to the registry: it turns site hooks into instrument events.
 *
 * Hot path rules (a switched-on site runs this on every call):
 * - instruments are read from an immutable snapshot (`Snapshot`) rebuilt whenever the probe's
 *   instruments change, so adding or removing one while calls are in flight never disturbs a loop;
 * - the only allocation per event is its namespace, made when the first instrument fires;
 * - the clock is read only when an instrument needs it: at entry (the registry's `frame.start`)
 *   when one mentions `start`/`now`/`elapsed` or declares `wantsTiming`, at exits when one
 *   mentions `end`/`elapsed`, and for expiry only when an instrument of the event has `expires`
 *   (an unref'd timer also closes the watch at the deadline; the per-fire check covers a busy
 *   event loop that delays the timer);
 * - per-call state (a WeakMap entry) exists only for calls that need it: an instrument's
 *   `checkCall` said no, or hotspots are being recorded;
 * - every instrument call is guarded; an error disables that instrument, and nothing is thrown
 *   back to the registry (which would close the whole watch) or to the probed function.
 *
 * Order of events within one call: "call" → "line:N"… → "end" (at the exit site) → "return"
 * (at the exit site, or when an async function's promise settles) → `finish()`.
 */
import { FnFlags } from "../../abi/index.js";
import { clock, EventNamespace, frameLayout, siteLayout, type EventKind, type Layout } from "../expressions/namespace.js";
import { HotspotsRecorder } from "../hotspots.js";
import { Instrument } from "../instruments/instrument.js";
import { InstrumentManager } from "../manager/manager.js";
import type { CallFrame, FunctionInfo, SiteInfo, Watcher, WatchState } from "../registry/index.js";
import type { Probe } from "./probe.js";

/** One instrument under one key of a probe. Reused across snapshots while the pair stays. @internal */
export interface Slot {
  readonly key: string;
  readonly inst: Instrument;
  /** Removed, disabled or expired: never fires again. */
  dead: boolean;
  /** `performance.now()` deadline from `expires`, or Infinity. */
  deadline: number;
}

/** The probe's live instruments, bucketed by event. Never mutated once built. @internal */
export interface Snapshot {
  readonly all: readonly Slot[];
  readonly call: readonly Slot[];
  readonly ret: readonly Slot[];
  readonly end: readonly Slot[];
  /** "line:N" instruments: `lineSlots[i]` fire at line `lineKeys[i]` (a short list, scanned). */
  readonly lineKeys: readonly number[];
  readonly lineSlots: readonly (readonly Slot[])[];
  /** Instruments that override `finish()`. */
  readonly finishers: readonly Slot[];
  /** A "return" instrument mentions `hotspots`: time every line of every call. */
  readonly hotspots: boolean;
  /** Some instrument needs the entry time (`frame.start`): the watch asks for timing. */
  readonly timing: boolean;
  /** Some "return" instrument needs the exit time. */
  readonly retClock: boolean;
  /** Some "end" instrument needs the exit time. */
  readonly endClock: boolean;
}

export const EMPTY_SNAPSHOT: Snapshot = {
  all: [],
  call: [],
  ret: [],
  end: [],
  lineKeys: [],
  lineSlots: [],
  finishers: [],
  hotspots: false,
  timing: false,
  retClock: false,
  endClock: false,
};

interface CallState {
  /** Slots whose checkCall refused this call. */
  rejected: Slot[] | undefined;
  hot: HotspotsRecorder | undefined;
}

const DEFAULT_CHECK = Instrument.prototype.checkCall;
const DEFAULT_MGR_CHECK = InstrumentManager.prototype.checkCall;

export class Dispatcher implements Watcher {
  snap: Snapshot = EMPTY_SNAPSHOT;
  /** Set once any call state was stored: only then do later events look for one. */
  private stateful = false;
  private readonly calls = new WeakMap<CallFrame, CallState>();
  private lastFn: FunctionInfo | undefined = undefined;
  private lastLayout: Layout | undefined = undefined;
  private lastSite: SiteInfo | undefined = undefined;
  private lastSiteLayout: Layout | undefined = undefined;

  constructor(private readonly probe: Probe) {}

  // -- registry callbacks ----------------------------------------------------------------------

  onEntry(frame: CallFrame): void {
    const s = this.snap;
    this.begin(frame, s);
    const list = s.call;
    if (list.length === 0) return;
    let ns: EventNamespace | undefined;
    let state: CallState | undefined;
    if (this.stateful) state = this.calls.get(frame);
    let now = frame.start; // NaN unless some watch of the function asked for timing
    for (let i = 0; i < list.length; i++) {
      const slot = list[i]!;
      if (slot.dead) continue;
      if (slot.deadline !== Infinity) {
        if (now !== now) now = clock();
        if (slot.deadline <= now) {
          this.expire(slot);
          continue;
        }
      }
      if (state !== undefined && state.rejected !== undefined && state.rejected.includes(slot)) continue;
      ns ??= new (this.layoutOf(frame.fn).Namespace)("call", frame, undefined, undefined, false, NaN, undefined);
      this.run(slot, ns);
    }
  }

  onLine(frame: CallFrame | undefined, site: SiteInfo, locals: readonly unknown[]): void {
    let state: CallState | undefined;
    if (frame !== undefined && this.stateful) {
      state = this.calls.get(frame);
      if (state !== undefined && state.hot !== undefined) state.hot.hit(site.line);
    }
    const s = this.snap;
    const keys = s.lineKeys;
    const line = site.line;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === line) {
        this.fireAt(s.lineSlots[i]!, "line", frame, site, locals, undefined, false, NaN, state);
        return;
      }
    }
  }

  onReturn(frame: CallFrame | undefined, site: SiteInfo, value: unknown, locals: readonly unknown[]): { value: unknown } | void {
    return this.exit(frame, site, value, false, locals);
  }

  onThrow(frame: CallFrame | undefined, site: SiteInfo, error: unknown, locals: readonly unknown[]): void {
    this.exit(frame, site, error, true, locals);
  }

  onStateChange(state: WatchState, error: Error | undefined): void {
    // The target's module registered while the watch was pending.
    this.probe.watchSettled(state, error);
  }

  onError(error: unknown): void {
    // The registry caught something from this watcher (it should not happen: everything here is
    // guarded) and closed the watch; the probe reports it and shows it in its status.
    this.probe.watchFailed(error);
  }

  // -- events ----------------------------------------------------------------------------------

  private exit(
    frame: CallFrame | undefined,
    site: SiteInfo,
    result: unknown,
    threw: boolean,
    locals: readonly unknown[],
  ): { value: unknown } | void {
    const s = this.snap;
    let state: CallState | undefined;
    if (frame !== undefined && this.stateful) {
      state = this.calls.get(frame);
      if (state !== undefined && state.hot !== undefined) state.hot.finish();
    }
    if (s.end.length !== 0) this.fireAt(s.end, "end", frame, site, locals, result, threw, s.endClock ? clock() : NaN, state);
    // "return" and finish() pair with an entry: calls that were already running when the probe
    // was switched on have no frame and end here.
    if (frame === undefined || (s.ret.length === 0 && s.finishers.length === 0)) return;
    if (!threw && (frame.fn.flags & FnFlags.async) !== 0 && isThenable(result)) return this.settleLater(frame, result, state);
    this.settle(frame, result, threw, state);
  }

  /** "return" instruments, then finish(), for one call that ended with `result`. */
  private settle(frame: CallFrame, result: unknown, threw: boolean, state: CallState | undefined): void {
    const s = this.snap;
    const list = s.ret;
    let end = s.retClock ? clock() : NaN;
    let ns: EventNamespace | undefined;
    for (let i = 0; i < list.length; i++) {
      const slot = list[i]!;
      if (slot.dead) continue;
      if (slot.deadline !== Infinity) {
        // Read before the namespace exists, so its `end` is this reading.
        if (end !== end) end = clock();
        if (slot.deadline <= end) {
          this.expire(slot);
          continue;
        }
      }
      if (state !== undefined && state.rejected !== undefined && state.rejected.includes(slot)) continue;
      ns ??= new (this.layoutOf(frame.fn).Namespace)("return", frame, undefined, result, threw, end, state?.hot);
      this.run(slot, ns);
    }
    const fin = s.finishers;
    for (let i = 0; i < fin.length; i++) {
      const slot = fin[i]!;
      if (slot.dead || (state !== undefined && state.rejected !== undefined && state.rejected.includes(slot))) continue;
      try {
        slot.inst.finish();
      } catch (err) {
        this.probe.instrumentFailed(slot, err);
      }
    }
  }

  /**
   * An async function returned a thenable: its promise settles with it later. A native promise is
   * observed with a side chain that handles both outcomes (no unhandled rejection, nothing changes
   * for the caller). Any other thenable is adopted once through a native promise that we return
   * in its place, because calling a foreign `then` a second time may repeat its work (e.g. a query
   * builder runs its query on `then`); the caller still sees the same value or reason.
   */
  private settleLater(frame: CallFrame, value: PromiseLike<unknown>, state: CallState | undefined): { value: unknown } | void {
    const ok = (v: unknown): unknown => {
      this.settle(frame, v, false, state);
      return v;
    };
    if (value instanceof Promise) {
      Promise.prototype.then.call(value, ok, (e: unknown) => this.settle(frame, e, true, state));
      return;
    }
    const adopted = Promise.resolve(value).then(ok, (e: unknown) => {
      this.settle(frame, e, true, state);
      throw e;
    });
    return { value: adopted };
  }

  private fireAt(
    list: readonly Slot[],
    kind: EventKind,
    frame: CallFrame | undefined,
    site: SiteInfo,
    locals: readonly unknown[],
    result: unknown,
    threw: boolean,
    end: number,
    state: CallState | undefined,
  ): void {
    let ns: EventNamespace | undefined;
    let now = end;
    for (let i = 0; i < list.length; i++) {
      const slot = list[i]!;
      if (slot.dead) continue;
      if (slot.deadline !== Infinity) {
        if (now !== now) now = clock();
        if (slot.deadline <= now) {
          this.expire(slot);
          continue;
        }
      }
      if (state !== undefined && state.rejected !== undefined && state.rejected.includes(slot)) continue;
      if (frame === undefined && hasCallFilter(slot.inst)) continue;
      ns ??= this.siteNamespace(kind, frame, site, locals, result, threw, kind === "line" ? NaN : now);
      if (ns === undefined) return;
      this.run(slot, ns);
    }
  }

  /** Runs one instrument for one event: condition, then fire; any error disables it. */
  private run(slot: Slot, ns: EventNamespace): void {
    const inst = slot.inst;
    try {
      const cond = inst.conditionExpression;
      if (cond !== undefined && !cond.evaluate(ns, inst.mgr)) return;
      inst.fire(ns);
      inst.hits++;
    } catch (err) {
      this.probe.instrumentFailed(slot, err);
    }
  }

  // -- per call --------------------------------------------------------------------------------

  /** At entry: asks the call filters and starts hotspots; stores state only if there is any. */
  private begin(frame: CallFrame, s: Snapshot): void {
    let rejected: Slot[] | undefined;
    const all = s.all;
    for (let i = 0; i < all.length; i++) {
      const slot = all[i]!;
      if (slot.dead || !hasCallFilter(slot.inst)) continue;
      let ok: boolean;
      try {
        ok = slot.inst.checkCall(this.probe, frame.args) !== false;
      } catch (err) {
        this.probe.instrumentFailed(slot, err);
        continue;
      }
      if (!ok) (rejected ??= []).push(slot);
    }
    const hot = s.hotspots ? new HotspotsRecorder(frame.fn.module) : undefined;
    if (rejected !== undefined || hot !== undefined) {
      this.calls.set(frame, { rejected, hot });
      this.stateful = true;
    }
  }

  private siteNamespace(
    kind: EventKind,
    frame: CallFrame | undefined,
    site: SiteInfo,
    locals: readonly unknown[],
    result: unknown,
    threw: boolean,
    end: number,
  ): EventNamespace | undefined {
    let layout: Layout;
    if (site === this.lastSite) layout = this.lastSiteLayout!;
    else {
      const fn = frame?.fn ?? this.probe.functionInfo;
      if (fn === undefined) return undefined;
      layout = siteLayout(fn, site);
      this.lastSite = site;
      this.lastSiteLayout = layout;
    }
    return new layout.Namespace(kind, frame, locals, result, threw, end, undefined);
  }

  private layoutOf(fn: FunctionInfo): Layout {
    if (fn === this.lastFn) return this.lastLayout!;
    const l = frameLayout(fn);
    this.lastFn = fn;
    this.lastLayout = l;
    return l;
  }

  private expire(slot: Slot): void {
    slot.dead = true;
    this.probe.refresh();
  }
}

/** Whether the instrument or its manager filters calls (anything but the default checkCall). */
function hasCallFilter(inst: Instrument): boolean {
  return inst.checkCall !== DEFAULT_CHECK || inst.mgr.checkCall !== DEFAULT_MGR_CHECK;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

