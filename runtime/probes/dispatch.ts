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
 * - per-call state exists only for calls that need it: an instrument's `checkCall` said no, or
 *   hotspots are being recorded. It goes in the frame's `mark` (a WeakMap when another watcher
 *   took that). A call that every instrument refused is decided once, at entry: it gets the
 *   snapshot's one shared "refused" state, and its lines and exits return at the first test
 *   (`refusedNow`) with nothing allocated;
 * - boolean fields are tested with `=== true` on the per-hit path: a bare `if (slot.dead)` on a
 *   field compiles to the full ToBoolean ladder (TurboFan does not know the field holds booleans);
 * - every instrument call is guarded; an error disables that instrument, and nothing is thrown
 *   back to the registry (which would close the whole watch) or to the probed function.
 *
 * Order of events within one call: "call" → "line:N"… → "end" (at the exit site) → "return"
 * (at the exit site, or when an async function's promise settles) → `finish()`.
 */
import { isPromise } from "node:util/types";
import { FnFlags } from "../../abi/index.js";
import {
  clock,
  createNamespace,
  frameLayout,
  siteLayout,
  type EventKind,
  type EventNamespace,
  type Layout,
} from "../expressions/namespace.js";
import { HotspotsRecorder } from "../hotspots.js";
import { InstrumentValueError } from "../instruments/errors.js";
import { Instrument } from "../instruments/instrument.js";
import { InstrumentManager } from "../manager/manager.js";
import { cpuBudget, DEAR_MS, now as clockNow, SAMPLE_EVERY } from "../budgets/cpu.js";
import type { CallFrame, FunctionInfo, SiteInfo, Watcher, WatchState } from "../registry/index.js";
import type { Probe } from "./probe.js";

/** One instrument under one key of a probe. Reused across snapshots while the pair stays. @internal */
export interface Slot {
  readonly key: string;
  readonly inst: Instrument;
  /** Removed, disabled, failed or expired: never fires again. */
  dead: boolean;
  /** `performance.now()` deadline from `expires`, or Infinity. */
  deadline: number;
  /** The instrument or its manager filters calls (see `hasCallFilter`), as of the last rebuild. */
  filtered: boolean;
  /** An error was caught from this slot's instrument (`error`); `reported` once recorded and handed on. */
  failed: boolean;
  error: unknown;
  /** The error was recorded on the instrument (`recordError`). */
  recorded: boolean;
  reported: boolean;
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
  /** Some slot of `all` was `filtered` when the snapshot was built: only then does `begin` ask them. */
  readonly filtering: boolean;
  /** Some instrument needs the entry time (`frame.start`): the watch asks for timing. */
  readonly timing: boolean;
  /** Some "return" instrument needs the exit time. */
  readonly retClock: boolean;
  /** Some "end" instrument needs the exit time. */
  readonly endClock: boolean;
  /**
   * No call filter, no hotspots and no `expires` among the "call" instruments: a call event decides
   * nothing per call (no call state, no clock), so `onEntry` only skips dead slots.
   */
  readonly callPlain: boolean;
  /** No `expires` among the "return" instruments (a call without state then only skips dead slots). */
  readonly retPlain: boolean;
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
  filtering: false,
  timing: false,
  retClock: false,
  endClock: false,
  callPlain: true,
  retPlain: true,
};

interface CallState {
  /** The dispatcher whose state this is (a frame's `mark` may hold another watcher's). */
  readonly owner: Dispatcher;
  /** Slots whose checkCall refused this call. */
  readonly rejected: readonly Slot[] | undefined;
  readonly hot: HotspotsRecorder | undefined;
  /**
   * Set when every slot of this snapshot that was live at entry refused the call: while the
   * dispatcher's snapshot is still this one, no event of the call can fire anything. When the
   * snapshot changed mid-call, `rejected` (the old snapshot's slots) keeps the new slots eligible,
   * as for any other state.
   */
  readonly refused: Snapshot | undefined;
}

const DEFAULT_CHECK = Instrument.prototype.checkCall;
const DEFAULT_MGR_CHECK = InstrumentManager.prototype.checkCall;

/** Never called (a call has a frame): `settle`'s inlining barrier. */
function settleBarrier(n: number): never {
  throw new RangeError(`diagnose: a call without a frame (${n})`);
}

export class Dispatcher implements Watcher {
  snap: Snapshot = EMPTY_SNAPSHOT;
  /** Set once any call state was stored in `calls`: only then do later events look there. */
  private stateful = false;
  private readonly calls = new WeakMap<CallFrame, CallState>();
  /** The state every refused call of the current snapshot shares (made on the first one). */
  private refusedState: CallState | undefined = undefined;
  /** Scratch list of the slots refusing the calls being entered (copied only for a partial refusal). */
  private readonly refusing: Slot[] = [];
  private lastFn: FunctionInfo | undefined = undefined;
  private lastLayout: Layout | undefined = undefined;
  private lastSite: SiteInfo | undefined = undefined;
  private lastSiteLayout: Layout | undefined = undefined;

  constructor(private readonly probe: Probe) {
    // With the frozen prototype below, its hook methods can never change: the registry then calls
    // them directly (registry/watch.ts `hasFixedMethods`), ~20 instructions less per event.
    Object.preventExtensions(this);
  }

  // -- registry callbacks ----------------------------------------------------------------------
  // Each starts by applying the probe's pending changes (one flag test when there are none), so a
  // change made since the last event takes effect at this one, and never inside an instrument loop.

  onEntry(frame: CallFrame): void {
    const p = this.probe;
    if (p.dirty === true) p.flush();
    const s = this.snap;
    const list = s.call;
    if (s.callPlain === true) {
      // What `begin` and `eligible` would decide here, without their tests (~30 instructions per
      // hit, test/perf/hit-instructions.ts): no state to make, and only `dead` can refuse a slot.
      let ns: EventNamespace | undefined;
      for (let i = 0; i < list.length; i++) {
        const slot = list[i]!;
        if (slot.dead === true) continue;
        ns ??= createNamespace(this.layoutOf(frame.fn), {
          kind: "call",
          frame,
          locals: undefined,
          result: undefined,
          threw: false,
          end: NaN,
          hot: undefined,
        });
        this.run(slot, ns);
      }
      return;
    }
    const state = this.begin(frame, s);
    if (list.length === 0 || (state !== undefined && state.refused === s)) return;
    let ns: EventNamespace | undefined;
    let now = frame.start; // NaN unless some watch of the function asked for timing
    for (let i = 0; i < list.length; i++) {
      const slot = list[i]!;
      if (slot.deadline !== Infinity && now !== now) now = clock();
      if (!this.eligible(slot, frame, state, now)) continue;
      ns ??= createNamespace(this.layoutOf(frame.fn), {
        kind: "call",
        frame,
        locals: undefined,
        result: undefined,
        threw: false,
        end: NaN,
        hot: undefined,
      });
      this.run(slot, ns);
    }
  }

  onLine(frame: CallFrame | undefined, site: SiteInfo, locals: readonly unknown[]): void {
    const p = this.probe;
    if (p.dirty === true) p.flush();
    const s = this.snap;
    let state: CallState | undefined;
    if (frame !== undefined) {
      state = this.stateOf(frame);
      if (state !== undefined) {
        if (state.refused === s) return;
        if (state.hot !== undefined) state.hot.hit(site.line);
      }
    }
    const keys = s.lineKeys;
    const line = site.line;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === line) {
        this.fireAt(s.lineSlots[i]!, "line", frame, site, locals, undefined, false, NaN, state);
        return;
      }
    }
  }

  onReturn(
    frame: CallFrame | undefined,
    site: SiteInfo,
    value: unknown,
    locals: readonly unknown[],
  ): { value: unknown } | void {
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
    const p = this.probe;
    if (p.dirty === true) p.flush();
    const s = this.snap;
    let state: CallState | undefined;
    if (frame !== undefined) {
      state = this.stateOf(frame);
      if (state !== undefined) {
        if (state.refused === s) return;
        if (state.hot !== undefined) state.hot.finish();
      }
    }
    if (s.end.length !== 0)
      this.fireAt(s.end, "end", frame, site, locals, result, threw, s.endClock ? clock() : NaN, state);
    // "return" and finish() pair with an entry: calls that were already running when the probe
    // was switched on have no frame and end here.
    if (frame === undefined || (s.ret.length === 0 && s.finishers.length === 0)) return;
    if (
      !threw &&
      (frame.fn.flags & FnFlags.async) !== 0 &&
      ((typeof result === "object" && result !== null) || typeof result === "function")
    ) {
      return this.settleLater(frame, result as object, state);
    }
    this.settle(frame, result, threw, state);
  }

  /**
   * "return" instruments, then finish(), for one call that ended with `result`.
   *
   * Kept above V8's 460-byte inlining limit (the never-taken `settleBarrier` branch is there for its
   * size; test/runtime/hooks-inlining.test.ts checks it), so it is always compiled on its
   * own, with its own inlining budget for the instruments' `run`/`fire` and the namespace. Below
   * the limit, where it went depended on the order V8 compiled things: inlined into `exit` with
   * the registry's `hookExit`, or, after a full GC had deoptimized them all, into `onReturn`
   * compiled alone, which `hookExit` then called. A no-op "return" probe cost +816 instructions
   * per hit in the first layout and +975 in the second; with the barrier, +819 after the GC.
   */
  private settle(frame: CallFrame, result: unknown, threw: boolean, state: CallState | undefined): void {
    const s = this.snap;
    const list = s.ret;
    if ((frame as unknown) === null) {
      const n = list.length;
      settleBarrier(n * 1 + n * 2 + n * 3 + n * 4 + n * 5 + n * 6 + n * 7 + n * 8 + n * 9 + n * 10 + n * 11 + n * 12);
    }
    let end = s.retClock ? clock() : NaN;
    let ns: EventNamespace | undefined;
    if (state === undefined && s.retPlain === true) {
      // Nothing refused this call and nothing expires: only `dead` can refuse a slot (as in onEntry).
      for (let i = 0; i < list.length; i++) {
        const slot = list[i]!;
        if (slot.dead === true) continue;
        ns ??= createNamespace(this.layoutOf(frame.fn), {
          kind: "return",
          frame,
          locals: undefined,
          result,
          threw,
          end,
          hot: undefined,
        });
        this.run(slot, ns);
      }
      if (s.finishers.length !== 0) this.finishAll(s.finishers, frame, state);
      return;
    }
    for (let i = 0; i < list.length; i++) {
      const slot = list[i]!;
      // Read before the namespace exists, so its `end` is this reading.
      if (slot.deadline !== Infinity && end !== end) end = clock();
      if (!this.eligible(slot, frame, state, end)) continue;
      ns ??= createNamespace(this.layoutOf(frame.fn), {
        kind: "return",
        frame,
        locals: undefined,
        result,
        threw,
        end,
        hot: state?.hot,
      });
      this.run(slot, ns);
    }
    if (s.finishers.length !== 0) this.finishAll(s.finishers, frame, state);
  }

  /** finish() of each instrument that took part in the call (kept out of `settle`, which stays small). */
  private finishAll(fin: readonly Slot[], frame: CallFrame, state: CallState | undefined): void {
    for (let i = 0; i < fin.length; i++) {
      const slot = fin[i]!;
      if (!this.eligible(slot, frame, state, NaN)) continue;
      try {
        slot.inst.finish();
      } catch (err) {
        // Written in place, no call: near the stack limit a call here would throw again.
        if (!slot.failed) (slot.failed = true), (slot.dead = true), (slot.error = err), (this.probe.dirty = true);
        try {
          this.probe.reportFailure(slot);
        } catch {
          // The probe's next flush reports it.
        }
      }
    }
  }

  /**
   * An async function returned an object: its promise settles with it later, and the caller must
   * see exactly what it would see unprobed. A plain native promise (no own `then`/`constructor`,
   * so observing it runs no user code) is observed with a side chain. Anything else is adopted once,
   * in a microtask as the async function would, through a native promise returned in its place:
   * its `then` is read once (a throwing getter rejects with what it threw, as unprobed), called
   * once (a foreign `then` may repeat work; a Promise subclass's species constructor runs once),
   * and a non-thenable settles now. Nothing here reads a trap of a Proxy except that one `then`.
   */
  private settleLater(frame: CallFrame, value: object, state: CallState | undefined): { value: unknown } | void {
    if (
      isPromise(value) &&
      Object.getPrototypeOf(value) === Promise.prototype &&
      !Object.hasOwn(value, "then") &&
      !Object.hasOwn(value, "constructor")
    ) {
      Promise.prototype.then.call(
        value,
        (v: unknown) => this.settle(frame, v, false, state),
        (e: unknown) => this.settle(frame, e, true, state),
      );
      return;
    }
    let then: unknown;
    try {
      then = (value as { then?: unknown }).then;
    } catch (err) {
      this.settle(frame, err, true, state);
      return { value: Promise.reject(err) };
    }
    if (typeof then !== "function") {
      this.settle(frame, value, false, state);
      return;
    }
    const adopted = new Promise<unknown>((resolve, reject) => {
      queueMicrotask(() => {
        try {
          Reflect.apply(then as (...a: unknown[]) => unknown, value, [resolve, reject]);
        } catch (err) {
          reject(err);
        }
      });
    });
    return {
      value: adopted.then(
        (v) => {
          this.settle(frame, v, false, state);
          return v;
        },
        (e: unknown) => {
          this.settle(frame, e, true, state);
          throw e;
        },
      ),
    };
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
      if (slot.deadline !== Infinity && now !== now) now = clock();
      if (!this.eligible(slot, frame, state, now)) continue;
      if (ns === undefined) {
        const layout = this.siteLayoutOf(frame, site);
        if (layout === undefined) return;
        ns = createNamespace(layout, {
          kind,
          frame,
          locals,
          result,
          threw,
          end: kind === "line" ? NaN : now,
          hot: undefined,
        });
      }
      this.run(slot, ns);
    }
  }

  /**
   * The one eligibility check of every event: a slot fires unless it is dead, past its deadline
   * (`now`, NaN when no instrument of the event expires: then no clock was read), refused by its
   * call filter for this call, or filtered at all for a call that was already running when the
   * probe was switched on (no frame, so no filter could be asked).
   */
  private eligible(slot: Slot, frame: CallFrame | undefined, state: CallState | undefined, now: number): boolean {
    if (slot.dead === true) return false;
    if (slot.deadline <= now) {
      this.expire(slot);
      return false;
    }
    if (frame === undefined) return !slot.filtered;
    return state === undefined || state.rejected === undefined || !state.rejected.includes(slot);
  }

  /**
   * Runs one instrument for one event: condition, then fire. Any error disables it; a promise
   * from `fire` is observed (its rejection is an error of the instrument); a condition must not
   * give a promise (it would always be truthy).
   */
  private run(slot: Slot, ns: EventNamespace): void {
    const inst = slot.inst;
    // The budgets, before any work: two decrements while no budget is hit (`tokens` and
    // `untilSample` are Infinity for an instrument without a limit or outside the CPU budget).
    // Kept in this one frame with the work: near the stack limit, one more call would throw
    // outside the guard.
    if (--inst.tokens < 0 && !inst.refill()) return;
    const t0 = --inst.untilSample <= 0 ? clockNow() : NaN;
    try {
      const cond = inst.conditionExpression;
      let ok: unknown = true;
      if (cond !== undefined) {
        ok = cond.evaluate(ns, inst.mgr);
        if (ok && typeof ok === "object" && isPromise(ok)) conditionPromise(inst, ok);
      }
      if (ok) {
        const r: unknown = inst.fire(ns);
        inst.hits++;
        if (typeof r === "object" && r !== null && isPromise(r)) inst.observe(r);
      }
    } catch (err) {
      // Written in place, no call: near the stack limit a call here would throw again.
      if (!slot.failed) (slot.failed = true), (slot.dead = true), (slot.error = err), (this.probe.dirty = true);
      try {
        this.probe.reportFailure(slot);
      } catch {
        // The probe's next flush reports it.
      }
    }
    if (t0 === t0) {
      try {
        this.charge(slot, t0);
      } catch {
        // Only the stack limit gets here: this sample is not counted.
      }
    }
  }

  /**
   * Charges a timed hit to the CPU budget. The sample stands for the hits since the previous one;
   * a dear hit makes the next one timed too, a cheap one spaces them out again.
   */
  private charge(slot: Slot, t0: number): void {
    const inst = slot.inst;
    const t1 = clockNow();
    const ms = t1 - t0;
    const weight = inst.sampleWeight;
    const next = ms > DEAR_MS ? 1 : SAMPLE_EVERY;
    inst.untilSample = cpuBudget.enabled ? next : Infinity;
    inst.sampleWeight = next;
    // The untimed hits are charged at this one's cost, but never as dear ones: they were spaced out
    // because hits were cheap, and one sample caught by a GC pause must not count sixteen times.
    if (cpuBudget.enabled) cpuBudget.charge(inst, ms + (weight - 1) * (ms < DEAR_MS ? ms : DEAR_MS), t1);
  }

  // -- per call --------------------------------------------------------------------------------

  /** At entry: asks the call filters and starts hotspots; stores state only if there is any. */
  private begin(frame: CallFrame, s: Snapshot): CallState | undefined {
    // No call filter in this snapshot (`filtered` is only set when a snapshot is built, and `s` is
    // the newest one): nothing to ask, and no user code runs here. Saves the slot loop on every
    // entry of an unfiltered probe (~50 instructions per hit with one instrument).
    if (s.filtering !== true) return s.hotspots === true ? this.hotspots(frame) : undefined;
    // A checkCall may call the probed function again: the inner call's slots go after ours.
    const refusing = this.refusing;
    const base = refusing.length;
    let live = 0;
    const all = s.all;
    for (let i = 0; i < all.length; i++) {
      const slot = all[i]!;
      if (slot.dead === true) continue;
      live++;
      if (slot.filtered !== true) continue;
      let ok: boolean;
      try {
        ok = slot.inst.checkCall(this.probe, frame.args) !== false;
      } catch (err) {
        if (!slot.failed) (slot.failed = true), (slot.dead = true), (slot.error = err), (this.probe.dirty = true);
        try {
          this.probe.reportFailure(slot);
        } catch {
          // The probe's next flush reports it.
        }
        continue;
      }
      if (!ok) refusing.push(slot);
    }
    if (refusing.length === base) return s.hotspots === true ? this.hotspots(frame) : undefined;
    return this.refused(frame, s, base, live);
  }

  /**
   * Some slots refused the call (kept out of `begin`, which runs at every entry and stays small
   * enough to inline). pop(), not `length = base`: storing an array's length is a runtime call.
   */
  private refused(frame: CallFrame, s: Snapshot, base: number, live: number): CallState {
    const refusing = this.refusing;
    const n = refusing.length - base;
    if (n === live) {
      for (let i = 0; i < n; i++) refusing.pop();
      let refused = this.refusedState;
      if (refused === undefined || refused.refused !== s)
        refused = this.refusedState = { owner: this, rejected: s.all, hot: undefined, refused: s };
      this.keep(frame, refused);
      return refused;
    }
    const rejected = refusing.slice(base);
    for (let i = 0; i < n; i++) refusing.pop();
    const hot = s.hotspots ? new HotspotsRecorder(frame.fn.module) : undefined;
    const state: CallState = { owner: this, rejected, hot, refused: undefined };
    this.keep(frame, state);
    return state;
  }

  /** A call nobody refused, while hotspots are recorded. */
  private hotspots(frame: CallFrame): CallState {
    const state: CallState = {
      owner: this,
      rejected: undefined,
      hot: new HotspotsRecorder(frame.fn.module),
      refused: undefined,
    };
    this.keep(frame, state);
    return state;
  }

  /** Stores a call's state: in the frame's `mark` when it is free, else in the map. */
  private keep(frame: CallFrame, state: CallState): void {
    if (frame.mark === undefined) frame.mark = state;
    else {
      this.calls.set(frame, state);
      this.stateful = true;
    }
  }

  /** The state `begin` stored for this call, if any. */
  private stateOf(frame: CallFrame): CallState | undefined {
    const mark = frame.mark;
    if (mark !== undefined && (mark as CallState).owner === this) return mark as CallState;
    return this.stateful ? this.calls.get(frame) : undefined;
  }

  private siteLayoutOf(frame: CallFrame | undefined, site: SiteInfo): Layout | undefined {
    if (site === this.lastSite) return this.lastSiteLayout!;
    const fn = frame?.fn ?? this.probe.functionInfo;
    if (fn === undefined) return undefined;
    const layout = siteLayout(fn, site);
    this.lastSite = site;
    this.lastSiteLayout = layout;
    return layout;
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
    this.probe.markDirty();
  }
}

Object.freeze(Dispatcher.prototype);

/** A condition gave a promise: its own rejection must not go unhandled, and it is an error. */
function conditionPromise(inst: Instrument, promise: Promise<unknown>): never {
  try {
    Promise.prototype.then.call(promise, undefined, () => {});
  } catch {
    // Nothing left to observe.
  }
  throw new InstrumentValueError(
    `The condition ${JSON.stringify(inst.conditionExpression?.source)} of instrument ${JSON.stringify(inst.name)} gave a ` +
      `promise, which is always truthy: a condition must be synchronous.`,
  );
}

/** Whether the instrument or its manager filters calls (anything but the default checkCall). @internal */
export function hasCallFilter(inst: Instrument): boolean {
  return inst.checkCall !== DEFAULT_CHECK || inst.mgr.checkCall !== DEFAULT_MGR_CHECK;
}
