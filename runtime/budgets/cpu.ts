/**
 * The per-process CPU budget of instrument work. The dispatcher times instrument work with
 * `performance.now()` on a sample of hits (the first hit, then every hit while hits are dear) and
 * charges each sample, scaled by the hits it stands for, to its instrument and to the process. When
 * the process spends more than `fraction` of one core on instrument work within the window, the
 * instrument that cost the most in that window is throttled: switched off, with the figures on it
 * (its spec's status says "throttled"), until its spec changes or code calls `enable()`.
 *
 * The window slides: it is BUCKETS buckets of windowMs / BUCKETS, the newest and the ones before
 * it, so a burst straddling a bucket edge is counted whole (a fixed window forgot everything at
 * its edge, and a burst across it could take twice the budget).
 */
import { performance } from "node:perf_hooks";
import { InstrumentOptionsError } from "../instruments/errors.js";
import type { Instrument } from "../instruments/instrument.js";

export interface CpuBudgetOptions {
  /** Share of one core all instrument work may take (0.01: 1%). Infinity: measured, never throttled. */
  fraction?: number;
  /** Length of the window the share is measured over, in ms. Default 10,000: long enough that one
   * preempted or garbage-collected hit does not decide alone. */
  windowMs?: number;
}

/** What a throttled instrument carries: the figures of the window that switched it off. */
export interface ThrottleInfo {
  /** Milliseconds of CPU this instrument's work took in the window. */
  readonly instrumentMs: number;
  /** Milliseconds all instrument work took in the window. */
  readonly totalMs: number;
  /** The budget: milliseconds allowed per window. */
  readonly limitMs: number;
  readonly windowMs: number;
  readonly at: Date;
}

export const DEFAULT_CPU_BUDGET: Readonly<Required<CpuBudgetOptions>> = Object.freeze({
  fraction: 0.01,
  windowMs: 10_000,
});

/** Hits between two timed ones while hits are cheap. */
export const SAMPLE_EVERY = 16;
/** A timed hit dearer than this (ms) makes every following hit timed, until one is cheap again. */
export const DEAR_MS = 0.02;

/** The window is this many buckets: it slides by one bucket (windowMs / BUCKETS) at a time. */
export const BUCKETS = 10;

export class CpuBudget {
  limitMs = DEFAULT_CPU_BUDGET.fraction * DEFAULT_CPU_BUDGET.windowMs;
  windowMs = DEFAULT_CPU_BUDGET.windowMs;
  /** Whether instrument work is timed at all (`configureBudgets({ cpu: false })` turns it off). */
  enabled = true;
  private bucketMs = this.windowMs / BUCKETS;
  /** The number (floor(now / bucketMs)) of the newest bucket; the window holds it and the 9 before. */
  private newest = -Infinity;
  /** Milliseconds charged per bucket, all instruments together (a ring indexed by bucket number). */
  private readonly totals = new Float64Array(BUCKETS);
  private spent = 0;
  /** The instruments with a charge in the window (each with its own ring, `cpuBuckets`). */
  private readonly members: Instrument[] = [];

  configure(options: CpuBudgetOptions | false): void {
    if (options === false) {
      this.enabled = false;
      return;
    }
    const fraction = options.fraction ?? DEFAULT_CPU_BUDGET.fraction;
    const windowMs = options.windowMs ?? DEFAULT_CPU_BUDGET.windowMs;
    if (!(fraction > 0))
      throw new InstrumentOptionsError(
        `The CPU budget's fraction must be > 0 (0.01 is 1% of a core), got ${String(fraction)}.`,
      );
    if (!(windowMs > 0) || windowMs === Infinity)
      throw new InstrumentOptionsError(
        `The CPU budget's windowMs must be a finite number > 0, got ${String(windowMs)}.`,
      );
    this.enabled = true;
    this.limitMs = fraction * windowMs;
    this.windowMs = windowMs;
    this.bucketMs = windowMs / BUCKETS;
    this.newest = -Infinity;
    this.totals.fill(0);
    this.spent = 0;
    for (const m of this.members) leave(m);
    this.members.length = 0;
  }

  /**
   * Charges `ms` of work by `inst`, measured ending at `now`; throttles when over budget. The hit
   * that crosses the line is charged in full before the decision, so it counts against its instrument.
   */
  charge(inst: Instrument, ms: number, now: number): void {
    const b = Math.floor(now / this.bucketMs);
    if (b > this.newest) this.slide(b);
    const i = this.newest % BUCKETS;
    let own = inst.cpuBuckets;
    if (own === undefined) {
      own = inst.cpuBuckets = new Float64Array(BUCKETS);
      this.members.push(inst);
    }
    own[i]! += ms;
    this.totals[i]! += ms;
    inst.cpuWindowMs += ms;
    inst.cpuMs += ms;
    this.spent += ms;
    if (this.spent > this.limitMs) this.throttleDearest();
  }

  /** Milliseconds all instrument work took in the current window. */
  get spentMs(): number {
    return this.spent;
  }

  /**
   * Moves the window to end with bucket `b`: the buckets that fell out are emptied and the sums
   * recomputed (once per bucket, not per hit; recomputing keeps rounding from accumulating).
   */
  private slide(b: number): void {
    const gone = b - this.newest;
    this.newest = b;
    if (gone >= BUCKETS) this.totals.fill(0);
    else for (let k = 0; k < gone; k++) this.totals[(b - k) % BUCKETS] = 0;
    this.spent = sum(this.totals);
    let kept = 0;
    for (const m of this.members) {
      const own = m.cpuBuckets!;
      if (gone >= BUCKETS) own.fill(0);
      else for (let k = 0; k < gone; k++) own[(b - k) % BUCKETS] = 0;
      m.cpuWindowMs = sum(own);
      if (m.cpuWindowMs > 0) this.members[kept++] = m;
      else leave(m);
    }
    this.members.length = kept;
  }

  private throttleDearest(): void {
    let dearest: Instrument | undefined;
    let at = -1;
    for (let i = 0; i < this.members.length; i++) {
      const m = this.members[i]!;
      // One already off (an error, by hand, removed) spends nothing more: judge those still running.
      if (m.disabled) continue;
      if (m.cpuWindowMs > (dearest?.cpuWindowMs ?? -1)) (dearest = m), (at = i);
    }
    if (dearest === undefined) return;
    const info: ThrottleInfo = {
      instrumentMs: dearest.cpuWindowMs,
      totalMs: this.spent,
      limitMs: this.limitMs,
      windowMs: this.windowMs,
      at: new Date(),
    };
    // Its share leaves the window with it, so the others are judged on what is left.
    const own = dearest.cpuBuckets!;
    for (let i = 0; i < BUCKETS; i++) this.totals[i] = Math.max(0, this.totals[i]! - own[i]!);
    this.spent = sum(this.totals);
    this.members.splice(at, 1);
    leave(dearest);
    dearest.throttle(info);
  }
}

/** An instrument leaves the window: nothing of it is charged any more. */
function leave(inst: Instrument): void {
  inst.cpuBuckets = undefined;
  inst.cpuWindowMs = 0;
}

function sum(a: Float64Array): number {
  let t = 0;
  for (let i = 0; i < a.length; i++) t += a[i]!;
  return t;
}

/** The process's budget (one per copy of the runtime). */
export const cpuBudget = new CpuBudget();

export interface BudgetOptions {
  /** The CPU budget of all instrument work, or false to stop timing it. */
  cpu?: CpuBudgetOptions | false;
}

/** Sets the process's budgets (code only: no spec field reaches it). */
export function configureBudgets(options: BudgetOptions): void {
  if (options.cpu !== undefined) cpuBudget.configure(options.cpu);
}

/** `performance.now`, bound once. */
export const now: () => number = performance.now.bind(performance);

/** The sentence a throttled spec's status carries. */
export function describeThrottle(t: ThrottleInfo): string {
  return (
    `throttled: its instrument work took ${t.instrumentMs.toFixed(1)} ms of CPU in a sliding ${t.windowMs} ms window ` +
    `(all instruments: ${t.totalMs.toFixed(1)} ms, budget ${t.limitMs.toFixed(1)} ms, ` +
    `${((t.limitMs / t.windowMs) * 100).toPrecision(2)}% of a core); switched off at ${t.at.toISOString()} until the spec changes. ` +
    `Make its expressions cheaper or its condition stricter, or raise the budget with configureBudgets().`
  );
}
