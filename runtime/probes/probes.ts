/**
 * `probes`: the probes of this copy of the runtime, one per target. Each worker thread (and each
 * realm) has its own registry and its own probes: a probe started on the main thread does not see
 * calls made in a worker; attach there too.
 */
import { describeError } from "../../errors/index.js";
import { allProbes, Probe, type ProbeStatus } from "./probe.js";
import type { InstrumentStatus } from "../instruments/instrument.js";

/** One line of `probes.list()`. */
export interface ProbeSummary {
  readonly target: string;
  readonly status: ProbeStatus;
  /** The probe's error message when it failed. */
  readonly error: string | undefined;
  readonly instruments: readonly InstrumentSummary[];
}

export interface InstrumentSummary {
  readonly key: string;
  /** The instrument's class name, e.g. "LogInstrument". */
  readonly type: string;
  readonly name: string;
  readonly value: string;
  readonly event: string;
  readonly status: InstrumentStatus;
  readonly expires: Date | undefined;
  readonly errorCount: number;
  readonly lastError: string | undefined;
}

export const probes = {
  /**
   * The probe of `target` ("module:path"), created if needed; the same Probe for the same target.
   * Resolves nothing and switches nothing on: that happens at `start()`.
   */
  attachTo(target: string): Probe {
    return allProbes.get(target) ?? new Probe(target);
  },

  /** The probe of `target`, if one was attached. */
  get(target: string): Probe | undefined {
    return allProbes.get(target);
  },

  /** Every attached probe with its state and its instruments' states. */
  list(): ProbeSummary[] {
    return [...allProbes.values()].map((p) => ({
      target: p.target,
      status: p.status,
      error: p.error?.message,
      instruments: [...p.instruments].map(([key, inst]) => ({
        key,
        type: inst.constructor.name,
        name: inst.name,
        value: inst.value,
        event: inst.event,
        status: inst.status,
        expires: inst.expires,
        errorCount: inst.errorCount,
        lastError: inst.errorCount === 0 ? undefined : describeError(inst.lastError),
      })),
    }));
  },

  /** Starts every probe (a probe that fails to start is skipped; its status shows why). */
  startAll(): void {
    for (const p of allProbes.values()) {
      try {
        p.start();
      } catch {
        // Visible in p.status / p.error.
      }
    }
  },

  /** Stops every probe. */
  stopAll(): void {
    for (const p of allProbes.values()) p.stop();
  },

  /** Stops the probe of `target`, removes its instruments and forgets it. */
  remove(target: string): boolean {
    const p = allProbes.get(target);
    if (p === undefined) return false;
    p.stop();
    p.instruments.clear();
    allProbes.delete(target);
    return true;
  },
};
