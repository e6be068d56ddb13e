/**
 * The per-process CPU budget of instrument work. The dispatcher times instrument work with
 * `performance.now()` on a sample of hits (every hit while hits are dear) and charges each sample,
 * scaled by the hits it stands for, to its instrument and to the process. When the process spends
 * more than `fraction` of one core on instrument work within a window, the instrument that cost
 * the most in that window is throttled: switched off, with the figures on it (its spec's status
 * says "throttled"), until its spec changes or code calls `enable()`.
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

export class CpuBudget {
  limitMs = DEFAULT_CPU_BUDGET.fraction * DEFAULT_CPU_BUDGET.windowMs;
  windowMs = DEFAULT_CPU_BUDGET.windowMs;
  /** Whether instrument work is timed at all (`configureBudgets({ cpu: false })` turns it off). */
  enabled = true;
  private windowStart = -Infinity;
  private spent = 0;
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
    this.reset(-Infinity);
  }

  /** Charges `ms` of work by `inst`, measured ending at `now`; throttles when over budget. */
  charge(inst: Instrument, ms: number, now: number): void {
    if (now - this.windowStart >= this.windowMs) this.reset(now);
    if (inst.cpuWindowMs === 0) this.members.push(inst);
    inst.cpuWindowMs += ms;
    inst.cpuMs += ms;
    this.spent += ms;
    if (this.spent > this.limitMs) this.throttleDearest();
  }

  /** Milliseconds all instrument work took in the current window. */
  get spentMs(): number {
    return this.spent;
  }

  private reset(now: number): void {
    this.windowStart = now;
    this.spent = 0;
    for (const m of this.members) m.cpuWindowMs = 0;
    this.members.length = 0;
  }

  private throttleDearest(): void {
    let dearest: Instrument | undefined;
    let at = -1;
    for (let i = 0; i < this.members.length; i++) {
      const m = this.members[i]!;
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
    this.spent -= dearest.cpuWindowMs;
    dearest.cpuWindowMs = 0;
    this.members.splice(at, 1);
    dearest.throttle(info);
  }
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
    `throttled: its instrument work took ${t.instrumentMs.toFixed(1)} ms of CPU in a ${t.windowMs} ms window ` +
    `(all instruments: ${t.totalMs.toFixed(1)} ms, budget ${t.limitMs.toFixed(1)} ms, ` +
    `${((t.limitMs / t.windowMs) * 100).toPrecision(2)}% of a core); switched off at ${t.at.toISOString()} until the spec changes. ` +
    `Make its expressions cheaper or its condition stricter, or raise the budget with configureBudgets().`
  );
}
