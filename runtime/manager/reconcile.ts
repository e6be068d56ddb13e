/**
 * Reconciliation: the specs of one snapshot against what this manager applied. Per spec id:
 * attach, update in place (same type: the instrument takes the new configuration, keeping its
 * identity and hits), replace (type changed), move (target changed), remove (spec gone), expire
 * (`lastmodified + lifespan` passed) or refuse (the sentence goes to the spec's status).
 *
 * Invariants:
 * - only instruments this reconciler created, under their spec id, are ever touched; a probe is
 *   removed only when this reconciler created it and left it with no instruments, and stopped only
 *   when it started it and left it empty;
 * - an unchanged spec (same store version) is not looked at again, so an instrument disabled by a
 *   run-time error stays disabled until its spec changes;
 * - every spec is handled inside its own try/catch: one bad spec never stops the others.
 */
import { describeError } from "../../errors/index.js";
import type { Instrument, InstrumentOptions } from "../instruments/instrument.js";
import type { Probe } from "../probes/probe.js";
import type { probes as ProbesApi } from "../probes/probes.js";
import type { InstrumentManager } from "./manager.js";
import type { SpecVerifier } from "./signing.js";
import type { Spec } from "./spec.js";
import type { SpecSnapshot } from "./stores/contract.js";
import { validateSpec, toDate } from "./validate.js";
import { siteActionOf } from "./site-action.js";
import { FailpointsOffError } from "../failpoints/errors.js";
import { FAILPOINT_TYPES } from "../failpoints/limits.js";

/** A class a spec's `instrument.type` names: `new (name, value, options)`. */
export type InstrumentClass = new (name: string, value: string, options?: InstrumentOptions) => Instrument;

/** What one `apply()` did, by spec id. */
export interface ApplyReport {
  /** New instruments attached. */
  readonly attached: string[];
  /** Instruments reconfigured in place (the spec changed, its type did not). */
  readonly updated: string[];
  /** Instruments recreated because the spec's type changed. */
  readonly replaced: string[];
  /** Instruments moved to another target. */
  readonly moved: string[];
  /** Instruments removed because their spec disappeared (or no longer selects this process). */
  readonly removed: string[];
  /** Specs past `lastmodified + lifespan` (their instruments removed). */
  readonly expired: string[];
  /** Specs not applied, with the reason (also in their status). */
  readonly refused: { readonly id: string; readonly err: string }[];
  /** Applied specs whose target's module has not loaded yet. */
  readonly pending: string[];
  /** Specs that did not change since the last apply. */
  unchanged: number;
  /** Why the store could not be read (the last applied specs stay in force); absent when it could. */
  error?: string;
}

export function emptyReport(): ApplyReport {
  return {
    attached: [],
    updated: [],
    replaced: [],
    moved: [],
    removed: [],
    expired: [],
    refused: [],
    pending: [],
    unchanged: 0,
  };
}

/**
 * The probes API, handed in by the manager: a static import would put the probes (and their
 * dispatcher, which reads the manager's prototype when it loads) inside the manager's own import
 * cycle.
 */
export type ProbeDirectory = Pick<typeof ProbesApi, "get" | "attachTo" | "remove">;

/** What the reconciler needs from its manager. */
export interface ReconcileHost {
  readonly mgr: InstrumentManager;
  readonly labels: Readonly<Record<string, string>>;
  readonly allowCode: boolean;
  /** Set when the manager requires signed specs (the `verify` option). */
  readonly verifier: SpecVerifier | undefined;
  classes(): Readonly<Record<string, InstrumentClass>>;
  /** Epoch ms when a spec with this lastmodified and lifespan expires (Infinity: never). */
  expiry(lastmodified: Date, lifespan: number | null | undefined): number;
  /** Called once per new warning (unknown fields). */
  warn(id: string, message: string): void;
}

/** One spec id this reconciler has seen, applied or not. @internal */
export interface Entry {
  readonly id: string;
  /** Store version of the document this entry reflects. */
  version: string;
  /** The applied (or refused) spec's lastmodified. */
  lm: Date | null;
  target: string | undefined;
  type: string | undefined;
  instrument: Instrument | undefined;
  /** Epoch ms; Infinity when it never expires. */
  expiresAt: number;
  /** Why it was refused; null when applied. */
  err: string | null;
  /** A caveat of an applied spec (see AppliedStatus.warning); null when none. */
  warning: string | null;
  expired: boolean;
}

interface ProbeRef {
  readonly probe: Probe;
  readonly created: boolean;
  readonly startedByUs: boolean;
  count: number;
}

/** A version no store produces: the entry is looked at again on the next apply. */
const STALE = "\u0000stale";

/** A spec refused: its sentence travels to the status. */
class Refusal {
  constructor(readonly message: string) {}
}

export class Reconciler {
  /** By spec id: every spec of the last snapshot that selects this process. */
  readonly entries = new Map<string, Entry>();
  private readonly refs = new Map<string, ProbeRef>();
  private dir: ProbeDirectory | undefined;
  /**
   * During apply(): the probes changed so far, each rebuilt once at the end instead of once per
   * instrument (many specs on one target would otherwise cost a rebuild each, O(n²)).
   */
  private batch:
    | { readonly touched: Set<Probe>; readonly started: Set<Probe>; readonly restart: Set<Probe> }
    | undefined;

  constructor(private readonly host: ReconcileHost) {}

  apply(snapshot: SpecSnapshot, now: number, dir: ProbeDirectory): ApplyReport {
    this.dir = dir;
    const report = emptyReport();
    const seen = new Set<string>();
    /** Ids whose instrument is placed: pending or not is read once the probes are rebuilt. */
    const placed: string[] = [];
    this.beginBatch();
    try {
      for (const stored of snapshot.specs) {
        const id = stored.id;
        if (seen.has(id)) continue;
        seen.add(id);
        try {
          this.applyOne(id, stored.doc, stored.version, now, report);
          if (this.entries.get(id)?.instrument !== undefined) placed.push(id);
        } catch (err) {
          // Only a bug of ours reaches this: keep it on the one spec.
          this.refuseEntry(
            id,
            stored.version,
            null,
            `Diagnose could not apply this spec: ${describeError(err)}`,
            report,
          );
        }
      }
      // Deleting the entry being visited is safe in a Map's iteration (no copy of the keys needed).
      for (const [id, entry] of this.entries) {
        if (seen.has(id)) continue;
        this.entries.delete(id);
        if (entry.instrument !== undefined) report.removed.push(id);
        this.detach(entry);
        this.host.verifier?.removed(id);
      }
    } finally {
      this.endBatch();
    }
    for (const id of placed) {
      const entry = this.entries.get(id);
      if (entry?.instrument === undefined) continue;
      const state = siteActionOf(entry.instrument)?.siteState ?? this.probeOf(entry)?.status;
      if (state === "pending") report.pending.push(id);
    }
    return report;
  }

  private beginBatch(): void {
    this.batch ??= { touched: new Set(), started: new Set(), restart: new Set() };
  }

  /** Rebuilds every probe this apply changed, once; restarts the reconfigured ones. */
  private endBatch(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (batch === undefined) return;
    for (const probe of batch.touched) {
      probe.deferring = false;
      try {
        if (batch.restart.has(probe) && probe.started) probe.start();
        else probe.flush();
      } catch {
        // A failed restart stays visible in probe.status; the status reports it.
      }
    }
  }

  /** Inside apply(): the probe's rebuilds wait for endBatch(). */
  private defer(probe: Probe): void {
    if (this.batch === undefined) return;
    probe.deferring = true;
    this.batch.touched.add(probe);
  }

  /** Removes the instruments of specs whose expiry passed. Returns the expired ids. */
  expireDue(now: number): string[] {
    const out: string[] = [];
    this.beginBatch();
    try {
      for (const entry of this.entries.values()) {
        if (entry.expired || entry.expiresAt > now) continue;
        this.detach(entry);
        entry.expired = true;
        out.push(entry.id);
      }
    } finally {
      this.endBatch();
    }
    return out;
  }

  /** The soonest expiry among live entries (Infinity: none). */
  nextExpiry(): number {
    let soonest = Infinity;
    for (const e of this.entries.values())
      if (!e.expired && e.instrument !== undefined && e.expiresAt < soonest) soonest = e.expiresAt;
    return soonest;
  }

  /** Makes the next apply look at every spec again (the trust settings changed). */
  invalidate(): void {
    for (const entry of this.entries.values()) entry.version = STALE;
  }

  /** Removes everything this reconciler applied. */
  clear(): void {
    this.beginBatch();
    try {
      for (const entry of this.entries.values()) {
        try {
          this.detach(entry);
        } catch {
          // Removing our own instrument cannot fail in a way the caller could act on.
        }
      }
    } finally {
      this.endBatch();
    }
    this.entries.clear();
  }

  /** The probe an entry's instrument is attached to. */
  probeOf(entry: Entry): Probe | undefined {
    return entry.target === undefined ? undefined : this.refs.get(entry.target)?.probe;
  }

  // -- one spec ----------------------------------------------------------------------------------

  private applyOne(id: string, doc: unknown, version: string, now: number, report: ApplyReport): void {
    const old = this.entries.get(id);
    if (old !== undefined && old.version === version) {
      if (!old.expired && old.expiresAt <= now) {
        this.detach(old);
        old.expired = true;
        report.expired.push(id);
        return;
      }
      report.unchanged++;
      return;
    }
    const checked = validateSpec(id, doc);
    for (const w of checked.warnings) this.host.warn(id, w);
    if (!checked.ok) {
      this.refuseEntry(id, version, lmOf(doc), checked.error, report);
      return;
    }
    const spec = checked.spec;
    if (!selects(spec.selector, this.host.labels)) {
      // Not for this process: not applied, not reported.
      if (old !== undefined) {
        this.entries.delete(id);
        if (old.instrument !== undefined) report.removed.push(id);
        this.detach(old);
      }
      return;
    }
    let expiresAt = this.host.expiry(spec.lastmodified, spec.lifespan);
    let warning: string | null = null;
    const verifier = this.host.verifier;
    if (verifier !== undefined) {
      const verdict = verifier.check(id, doc, spec, now);
      if (!verdict.ok) {
        this.refuseEntry(id, version, spec.lastmodified, verdict.error, report);
        return;
      }
      // A spec lives no longer than the key that signed it is trusted.
      if (verdict.notAfter < expiresAt) expiresAt = verdict.notAfter;
      warning = verifier.replayCaveat(spec) ?? null;
    }
    if (expiresAt <= now) {
      if (old !== undefined) this.detach(old);
      this.entries.set(id, {
        id,
        version,
        lm: spec.lastmodified,
        target: spec.target,
        type: spec.instrument.type,
        instrument: undefined,
        expiresAt,
        err: null,
        warning,
        expired: true,
      });
      report.expired.push(id);
      return;
    }
    let fresh: Instrument;
    try {
      fresh = this.build(spec, expiresAt);
    } catch (err) {
      if (old !== undefined) this.detach(old);
      this.refuseEntry(
        id,
        version,
        spec.lastmodified,
        err instanceof Refusal ? err.message : describeError(err),
        report,
      );
      return;
    }
    const entry: Entry = {
      id,
      version,
      lm: spec.lastmodified,
      target: spec.target,
      type: spec.instrument.type,
      instrument: undefined,
      expiresAt,
      err: null,
      warning,
      expired: false,
    };
    let outcome: string[];
    try {
      outcome = this.place(old, entry, fresh, report);
    } catch (err) {
      this.refuseEntry(
        id,
        version,
        spec.lastmodified,
        err instanceof Refusal ? err.message : describeError(err),
        report,
      );
      return;
    }
    this.entries.set(id, entry);
    outcome.push(id);
  }

  /** Puts `fresh` (or the old instrument reconfigured from it) under the spec id. Returns the report list. */
  private place(old: Entry | undefined, entry: Entry, fresh: Instrument, report: ApplyReport): string[] {
    const target = entry.target!;
    const live = old?.instrument;
    if (old === undefined || live === undefined) {
      if (old !== undefined) this.detach(old);
      entry.instrument = this.attach(entry.id, target, fresh);
      return report.attached;
    }
    if (old.target === target) {
      if (old.type === entry.type) {
        live.reconfigure(fresh);
        entry.instrument = live;
        this.restart(target);
        return report.updated;
      }
      if (siteActionOf(live) !== undefined || siteActionOf(fresh) !== undefined) {
        // A failpoint is not on the probe: the old instrument goes, the new one is armed.
        this.detach(old);
        entry.instrument = this.attach(entry.id, target, fresh);
        return report.replaced;
      }
      const probe = this.refs.get(target)!.probe;
      // One Map write swaps the instrument: no call sees neither.
      probe.instruments.set(entry.id, fresh);
      entry.instrument = fresh;
      this.restart(target);
      return report.replaced;
    }
    const moving = old.type === entry.type ? live : fresh;
    if (moving === live) live.reconfigure(fresh);
    this.detach(old);
    entry.instrument = this.attach(entry.id, target, moving);
    return report.moved;
  }

  private build(spec: Spec, expiresAt: number): Instrument {
    const classes = this.host.classes();
    const type = spec.instrument.type;
    const cls = Object.prototype.hasOwnProperty.call(classes, type) ? classes[type] : undefined;
    if (typeof cls !== "function") {
      if (FAILPOINT_TYPES.includes(type)) throw new FailpointsOffError(type);
      throw new Refusal(
        `Unknown instrument type ${JSON.stringify(type)}: use one of ${Object.keys(classes).join(", ") || "(none)"}, ` +
          `or add the class to manager.instrumentClasses.`,
      );
    }
    const options: InstrumentOptions = {
      mgr: this.host.mgr,
      expressions: this.host.allowCode ? "js" : "safe",
      // A spec is written by someone else: its instrument runs under the budgets also when the
      // manager lets it use full JavaScript.
      budget: true,
    };
    if (spec.instrument.event !== undefined)
      options.event = spec.instrument.event as NonNullable<InstrumentOptions["event"]>;
    if (spec.instrument.custom !== undefined) options.custom = spec.instrument.custom;
    if (expiresAt !== Infinity) options.expires = expiresAt;
    return new cls(spec.instrument.name, spec.instrument.value, options);
  }

  /** Attaches `inst` under `id` on the probe of `target`, started. Throws a Refusal when it cannot. */
  private attach(id: string, target: string, inst: Instrument): Instrument {
    const action = siteActionOf(inst);
    if (action !== undefined) {
      try {
        action.arm(target);
      } catch (err) {
        throw new Refusal(describeError(err));
      }
      return inst;
    }
    const ref = this.acquire(target);
    try {
      const there = ref.probe.instruments.get(id);
      if (there !== undefined && there !== inst) {
        throw new Refusal(
          `The probe of ${target} already has an instrument under the key ${JSON.stringify(id)} that this manager ` +
            `did not create; rename the spec.`,
        );
      }
      const batch = this.batch;
      if (batch !== undefined) this.defer(ref.probe);
      ref.probe.instruments.set(id, inst);
      // Started once per apply: a start that did not throw finds the target there for every later
      // spec of the same apply (modules do not load or unload during it).
      if (batch === undefined || !batch.started.has(ref.probe)) {
        try {
          ref.probe.start();
        } catch (err) {
          ref.probe.instruments.delete(id);
          throw new Refusal(describeError(err));
        }
        batch?.started.add(ref.probe);
      }
      return inst;
    } catch (err) {
      this.release(target);
      throw err;
    }
  }

  /** A reconfigured probe may have failed before (e.g. a missing line): ask it again. */
  private restart(target: string): void {
    const probe = this.refs.get(target)?.probe;
    if (probe === undefined) return;
    if (this.batch !== undefined) {
      this.defer(probe);
      this.batch.restart.add(probe);
      return;
    }
    try {
      probe.start();
    } catch {
      // The failure stays visible in probe.status; the status reports it.
    }
  }

  private detach(entry: Entry): void {
    const inst = entry.instrument;
    const target = entry.target;
    entry.instrument = undefined;
    if (inst === undefined || target === undefined) return;
    const action = siteActionOf(inst);
    if (action !== undefined) {
      action.disarm();
      return;
    }
    const ref = this.refs.get(target);
    if (ref === undefined) return;
    this.defer(ref.probe);
    if (ref.probe.instruments.get(entry.id) === inst) ref.probe.instruments.delete(entry.id);
    this.release(target);
  }

  private acquire(target: string): ProbeRef {
    let ref = this.refs.get(target);
    if (ref === undefined) {
      const dir = this.dir!;
      const existing = dir.get(target);
      const probe = existing ?? dir.attachTo(target);
      ref = { probe, created: existing === undefined, startedByUs: !probe.started, count: 0 };
      this.refs.set(target, ref);
    }
    ref.count++;
    return ref;
  }

  private release(target: string): void {
    const ref = this.refs.get(target);
    if (ref === undefined || --ref.count > 0) return;
    this.refs.delete(target);
    if (ref.probe.instruments.size > 0) return;
    // Removed or stopped now (both rebuild it): nothing left to do for it at the end of the batch.
    ref.probe.deferring = false;
    this.batch?.touched.delete(ref.probe);
    this.batch?.started.delete(ref.probe);
    this.batch?.restart.delete(ref.probe);
    if (ref.created && this.dir?.get(target) === ref.probe) this.dir.remove(target);
    else if (ref.startedByUs) ref.probe.stop();
  }

  private refuseEntry(id: string, version: string, lm: Date | null, err: string, report: ApplyReport): void {
    const old = this.entries.get(id);
    if (old !== undefined) this.detach(old);
    this.entries.set(id, {
      id,
      version,
      lm,
      target: undefined,
      type: undefined,
      instrument: undefined,
      expiresAt: Infinity,
      err,
      warning: null,
      expired: false,
    });
    report.refused.push({ id, err });
  }
}

/** Whether every label of the selector is carried, with an equal value. */
export function selects(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (selector === undefined) return true;
  for (const key of Object.keys(selector)) {
    if (!Object.prototype.hasOwnProperty.call(labels, key) || labels[key] !== selector[key]) return false;
  }
  return true;
}

function lmOf(doc: unknown): Date | null {
  if (typeof doc !== "object" || doc === null) return null;
  try {
    const d = Object.getOwnPropertyDescriptor(doc, "lastmodified");
    return d !== undefined && "value" in d ? (toDate(d.value) ?? null) : null;
  } catch {
    // A Proxy's getOwnPropertyDescriptor trap: no date to report.
    return null;
  }
}
