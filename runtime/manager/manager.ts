/**
 * The instrument manager: the policy every instrument consults (global namespace, call filter,
 * tags, error handler), and the owner of the instruments a spec store asks for. `apply()` reads
 * the store's specs and reconciles them (reconcile.ts) against what this manager applied; the
 * status of each spec in this process goes back to the store (status.ts). `start()` keeps doing
 * that on every change (the store's doorbell) or every poll period (scheduler.ts). Its options
 * are checked and kept in settings.ts; the instrument class table is built by class-table.ts.
 *
 * Invariants:
 * - applies never overlap: a call during an apply waits for it and runs one more (calls during
 *   that wait share it);
 * - nothing here throws into a caller after construction: a store that fails keeps the last
 *   applied specs in force, shows up in the report's `error`, and is retried with backoff;
 * - a manager only ever touches instruments it created (keyed by spec id) and probes it created
 *   or started.
 */
import { describeError } from "../../errors/index.js";
import type { Instrument } from "../instruments/instrument.js";
import type { Probe } from "../probes/probe.js";
import { addFailpointClasses, classTable, failpointClassesMissing } from "./class-table.js";
import { defaultGlobalNamespace, type Tags } from "./global-namespace.js";
import {
  ManagerOptionsError,
  SnapshotSpecs,
  type InstrumentClasses,
  type InstrumentManagerOptions,
} from "./options.js";
import { withinDeadline } from "./deadline.js";
import { emptyReport, Reconciler, type ApplyReport } from "./reconcile.js";
import { ApplyScheduler } from "./scheduler.js";
import { ManagerSettings } from "./settings.js";
import type { AppliedStatus, Spec } from "./spec.js";
import { StatusReporter, statusAll } from "./status.js";
import type { SpecSnapshot, SpecStore } from "./stores/contract.js";

export { mag, defaultGlobalNamespace } from "./global-namespace.js";
export type { Tags, TagValue } from "./global-namespace.js";
export { defaultProcessId, ManagerOptionsError, ReadOnlySpecsError } from "./options.js";
export type { InstrumentClasses, InstrumentManagerOptions } from "./options.js";

export class InstrumentManager {
  /** Names every instrument expression of this manager can read (mutable; see defaultGlobalNamespace). */
  globalNamespace: Record<string, unknown> = defaultGlobalNamespace();
  /** Tags added to every instrument's tags (they win over an instrument's own tags of the same key). */
  tags: Tags = {};
  /** Where the default `handleError` and the manager's warnings write their lines. */
  errorOutput: { write(line: string): unknown } = process.stderr;

  private readonly settings: ManagerSettings;
  private classes: InstrumentClasses | undefined;
  private readonly reconciler: Reconciler;
  private readonly reporter: StatusReporter;
  private readonly scheduler: ApplyScheduler;
  private running: Promise<ApplyReport> | undefined;
  private queued: Promise<ApplyReport> | undefined;
  private lastSnapshot: SpecSnapshot | undefined;
  private snapshotView: SnapshotSpecs | undefined;
  private startedFlag = false;
  private readonly warned = new Set<string>();
  private storeErrorText: string | undefined;

  constructor(options: InstrumentManagerOptions = {}) {
    this.settings = new ManagerSettings(options, {
      storeReplaced: () => {
        this.lastSnapshot = undefined;
      },
      classesChanged: () => {
        this.classes = undefined;
      },
      trustChanged: () => this.reconciler.invalidate(),
      addGlobals: (names) => Object.assign(this.globalNamespace, names),
      warn: (message) => this.warnOnce(message, false),
    });
    const settings = this.settings;
    this.reconciler = new Reconciler({
      mgr: this,
      get labels() {
        return settings.labels;
      },
      get allowCode() {
        return settings.allowCode;
      },
      get verifier() {
        return settings.verifier;
      },
      classes: () => this.instrumentClasses,
      expiry: (lm, lifespan) => settings.expiry(lm, lifespan),
      warn: (id, message) => this.warnOnce(`spec ${JSON.stringify(id)}: ${message}`),
    });
    this.reporter = new StatusReporter({
      store: () => settings.store,
      get processId() {
        return settings.processId;
      },
      get labels() {
        return settings.labels;
      },
      reconciler: this.reconciler,
      get heartbeat() {
        return settings.heartbeatInterval;
      },
      get storeTimeout() {
        return settings.storeTimeout;
      },
      warn: (message) => this.warnOnce(message, false),
    });
    const reconciler = this.reconciler;
    const reporter = this.reporter;
    this.scheduler = new ApplyScheduler({
      get store() {
        return settings.store;
      },
      get pollInterval() {
        return settings.pollInterval;
      },
      apply: () => this.apply(),
      nextExpiry: () => reconciler.nextExpiry(),
      expireDue: (now) => {
        if (reconciler.expireDue(now).length > 0) reporter.schedule();
      },
      storeProblem: (message) => {
        this.warnOnce(message, false);
        reporter.schedule();
      },
      warn: (message) => this.warnOnce(message, false),
    });
  }

  /**
   * Changes options before `start()` (the loader uses it to put the default manager on the store
   * named by DIAGNOSE_STORE). Throws ManagerOptionsError for a bad option or while started.
   */
  configure(options: InstrumentManagerOptions): this {
    if (this.startedFlag) throw new ManagerOptionsError("Call manager.configure() before start(), or after stop().");
    this.settings.configure(options);
    return this;
  }

  /** The store this manager reads specs from and writes its status to. */
  get store(): SpecStore {
    return this.settings.store;
  }

  /** This process's labels (see `selector`). */
  get labels(): Readonly<Record<string, string>> {
    return this.settings.labels;
  }

  /** The key of this process in every spec's `applied`. */
  get processId(): string {
    return this.settings.processId;
  }

  /** Whether store specs may run full JavaScript expressions (see the option). */
  get allowCode(): boolean {
    return this.settings.allowCode;
  }

  /** Whether failpoint specs (`pause`, `error`, `delay`) may apply here (the `failpoints` option). */
  get failpoints(): boolean {
    return this.settings.failpoints;
  }

  /** Whether this manager applies only signed specs (the `verify` option). */
  get verifying(): boolean {
    return this.settings.verifier !== undefined;
  }

  /** Whether `start()` was called (and not `stop()` since). */
  get started(): boolean {
    return this.startedFlag;
  }

  /**
   * The instrument classes a spec's `instrument.type` names: `log`, `hist`, `incr`, `test`, plus
   * any added by the option or by assigning to this object; with `failpoints: true` also `pause`,
   * `error` and `delay` (once the first apply has loaded them).
   */
  get instrumentClasses(): InstrumentClasses {
    this.classes ??= classTable(this.settings.failpoints, this.settings.extraClasses);
    return this.classes;
  }
  set instrumentClasses(value: InstrumentClasses) {
    this.classes = value;
  }

  /**
   * The specs by id. On the memory store this is its Map: `set`, `delete` and edits are what
   * `apply()` reads. On other stores, a read-only view of the last snapshot applied.
   */
  get specs(): Map<string, Spec> {
    const own = (this.settings.store as { specs?: unknown }).specs;
    if (own instanceof Map) return own as Map<string, Spec>;
    if (this.snapshotView === undefined || this.snapshotView.snapshot !== this.lastSnapshot) {
      this.snapshotView = new SnapshotSpecs(this.lastSnapshot, this.settings.store.description);
    }
    return this.snapshotView as unknown as Map<string, Spec>;
  }

  /**
   * The last problem of the store, as one sentence: a failed read (the last applied specs stay in
   * force), or a problem the store reported (e.g. a malformed file whose last good copy is used).
   * Undefined once the store reads cleanly again.
   */
  get storeError(): string | undefined {
    if (this.storeErrorText !== undefined) return this.storeErrorText;
    const store = this.settings.store;
    try {
      const last = (store as { lastError?: unknown }).lastError;
      return last === null || last === undefined ? undefined : `${store.description}: ${describeError(last)}`;
    } catch {
      // A store whose lastError getter throws has no error to show.
      return undefined;
    }
  }

  /** The status of every spec this process considered, now (what it reports to the store). */
  status(): Record<string, AppliedStatus> {
    return statusAll(this.reconciler);
  }

  /**
   * Reads the store and reconciles its specs with what this manager applied, then writes this
   * process's status. Never rejects: a store that cannot be read leaves everything applied as it
   * was and sets the report's `error`. Calls during an apply wait for it and share one more run.
   */
  apply(): Promise<ApplyReport> {
    if (this.running === undefined) {
      const run = this.applyNow()
        .catch((err: unknown) => {
          // Only a bug of ours gets here; apply() still resolves, with the reason.
          const report = emptyReport();
          report.error = `Diagnose could not apply the specs: ${describeError(err)}`;
          return report;
        })
        .finally(() => {
          if (this.running === run) this.running = undefined;
        });
      this.running = run;
      return run;
    }
    if (this.queued === undefined) {
      const next = this.running.then(() => {
        this.queued = undefined;
        return this.apply();
      });
      this.queued = next;
    }
    return this.queued;
  }

  /**
   * Applies now, then again on every change the store announces (or every `pollInterval` for a
   * store without a change feed). A store that fails keeps the last applied specs and is retried
   * with backoff. Resolves with the first apply's report.
   */
  async start(): Promise<ApplyReport> {
    if (this.startedFlag) return this.apply();
    this.startedFlag = true;
    this.scheduler.open();
    const report = await this.apply();
    if (!this.startedFlag) return report;
    this.reporter.startTicker();
    this.scheduler.start(report);
    return report;
  }

  /** Stops watching the store and removes every instrument this manager applied. */
  async stop(): Promise<void> {
    const wasStarted = this.startedFlag;
    this.startedFlag = false;
    this.scheduler.stop();
    while (this.running !== undefined || this.queued !== undefined) {
      try {
        await (this.queued ?? this.running);
      } catch {
        // apply() never rejects; belt and braces.
      }
    }
    this.reconciler.clear();
    this.reporter.stop();
    if (wasStarted) await this.reporter.flush();
    this.reporter.stop();
  }

  /** Waits for every pending status write (tests and shutdown). */
  async flushStatus(): Promise<void> {
    await this.reporter.flush();
    await this.reporter.idle();
  }

  /**
   * Decides whether an instrument takes part in one call; called once per call at its entry with
   * the call's arguments (one per parameter). Default: true. Override to filter, e.g. by user id.
   */
  checkCall(_probe: Probe, _args: readonly unknown[], _instrument?: Instrument): boolean {
    return true;
  }

  /** Tags merged into every instrument's tags (default: `this.tags`). Do not mutate the result. */
  getTags(): Tags {
    return this.tags;
  }

  /**
   * Called once when an instrument fails (it is already disabled, and its error recorded on it), or
   * with `instrument` undefined when a probe fails (e.g. its target vanished). Default: one line on
   * stderr naming the probe and the error.
   */
  handleError(probe: Probe, instrument: Instrument | undefined, error: unknown): void {
    const who = instrument === undefined ? "" : `instrument ${JSON.stringify(instrument.name)} of `;
    const what = instrument === undefined ? "failed" : "failed and was disabled";
    try {
      this.errorOutput.write(`diagnose: ${who}probe ${probe.target} ${what}: ${describeError(error)}\n`);
    } finally {
      // The failure shows in the spec's status (statusOf reads the instrument and the probe).
      this.reporter.schedule();
    }
  }

  // -- internals ---------------------------------------------------------------------------------

  private async applyNow(): Promise<ApplyReport> {
    const store = this.settings.store;
    let snapshot: SpecSnapshot;
    try {
      // A store that can list its specs without assembling every process's status does so: the
      // manager never reads `applied`, and at fleet scale the status is most of the bytes.
      snapshot = await withinDeadline(
        typeof store.listSpecs === "function" ? store.listSpecs() : store.list(),
        this.settings.storeTimeout,
        store.description,
        "reading the specs",
      );
      if (typeof snapshot !== "object" || snapshot === null || !Array.isArray(snapshot.specs)) {
        throw new TypeError(`${store.description} returned a snapshot without a specs array`);
      }
    } catch (err) {
      const report = emptyReport();
      report.error = `Could not read the specs from ${store.description} (the last applied specs stay in force): ${describeError(err)}`;
      if (this.storeErrorText !== report.error) this.warnOnce(report.error, false);
      this.storeErrorText = report.error;
      return report;
    }
    this.storeErrorText = undefined;
    this.lastSnapshot = snapshot;
    let report: ApplyReport;
    try {
      // Loaded here, not imported: see ProbeDirectory. Both are cached after the first apply.
      const [{ probes }] = await Promise.all([
        import("../probes/probes.js"),
        import("../instruments/classes.js"),
        // Failpoint classes are loaded only in a process that turned them on.
        this.settings.failpoints && failpointClassesMissing() ? import("../failpoints/classes.js") : undefined,
      ]);
      if (this.settings.failpoints) addFailpointClasses(this.classes);
      report = this.reconciler.apply(snapshot, Date.now(), probes);
    } catch (err) {
      report = emptyReport();
      report.error = `Diagnose could not apply the specs: ${describeError(err)}`;
    }
    this.scheduler.armExpiry();
    await this.reporter.flushIfChanged();
    return report;
  }

  private warnOnce(message: string, once = true): void {
    if (once) {
      if (this.warned.has(message)) return;
      if (this.warned.size < 10_000) this.warned.add(message);
    }
    try {
      this.errorOutput.write(`diagnose: ${message}\n`);
    } catch {
      // Nowhere to write: the status still says it.
    }
  }
}

/** The process-wide default manager; instruments use it unless given `mgr`. */
export const manager = new InstrumentManager();
