/**
 * The instrument manager: the policy every instrument consults (global namespace, call filter,
 * tags, error handler), and the owner of the instruments a spec store asks for. `apply()` reads
 * the store's specs and reconciles them (reconcile.ts) against what this manager applied; the
 * status of each spec in this process goes back to the store (status.ts). `start()` keeps doing
 * that on every change (the store's doorbell) or every poll period.
 *
 * Invariants:
 * - applies never overlap: a call during an apply waits for it and runs one more (calls during
 *   that wait share it);
 * - nothing here throws into a caller after construction: a store that fails keeps the last
 *   applied specs in force, shows up in the report's `error`, and is retried with backoff;
 * - a manager only ever touches instruments it created (keyed by spec id) and probes it created
 *   or started.
 */
import { performance } from "node:perf_hooks";
import { describeError } from "../../errors/index.js";
import type { Instrument } from "../instruments/instrument.js";
import type { Probe } from "../probes/probe.js";
import {
  checkLabels,
  checkMinutes,
  checkMs,
  defaultProcessId,
  ManagerOptionsError,
  MAX_TIMER_MS,
  SnapshotSpecs,
  type InstrumentClasses,
  type InstrumentManagerOptions,
} from "./options.js";
import { Backoff } from "./backoff.js";
import { emptyReport, Reconciler, type ApplyReport } from "./reconcile.js";
import { SpecVerifier } from "./signing.js";
import { SigningKeyError, trustedKey } from "./signing-keys.js";
import type { AppliedStatus, Spec } from "./spec.js";
import { StatusReporter, statusAll } from "./status.js";
import type { SpecSnapshot, SpecStore, StoreChange, StoreSubscription } from "./stores/contract.js";
import { memoryStore } from "./stores/memory.js";

/** A tag value: sent as `k:v` to DogStatsD and printed as `k=v` by LogInstrument. */
export type TagValue = string | number | boolean | bigint;
export type Tags = Record<string, TagValue>;

/**
 * The integer magnitude of a number or of a size: floor(log_base(n)) for n > 0, -1 otherwise.
 * Strings and arrays use their length, Maps and Sets their size, other objects their key count.
 */
export function mag(value: unknown, base = 10): number {
  let size: number;
  if (typeof value === "number") size = value;
  else if (typeof value === "bigint") size = Number(value);
  else if (typeof value === "string" || Array.isArray(value)) size = value.length;
  else if (value instanceof Map || value instanceof Set) size = value.size;
  else if (ArrayBuffer.isView(value)) size = value.byteLength;
  else if (typeof value === "object" && value !== null) size = Object.keys(value).length;
  else return -1;
  if (!(size > 0) || !Number.isFinite(size)) return -1;
  // Guard the float error of log(1000)/log(10) = 2.9999999999999996.
  const m = Math.floor(Math.log(size) / Math.log(base) + 1e-9);
  return m;
}

/**
 * The names every expression can use besides the event's own, the JavaScript counterparts of the
 * original library's `datetime`, `math`, `time` and `mag`:
 * - `datetime`: the `Date` constructor (`datetime.now()`, `new datetime(start)`);
 * - `math`: the `Math` object;
 * - `time`: `performance` (`time.now()` in ms, high resolution, same clock as `start`/`end`);
 * - `mag(x, base = 10)`: integer magnitude of a number or a size (see `mag`).
 * JavaScript's own globals (`Math`, `JSON`, `Date`, `process`…) are visible too.
 */
export function defaultGlobalNamespace(): Record<string, unknown> {
  return { datetime: Date, math: Math, time: performance, mag };
}

export { defaultProcessId, ManagerOptionsError, ReadOnlySpecsError } from "./options.js";
export type { InstrumentClasses, InstrumentManagerOptions } from "./options.js";

let defaultClasses: (() => InstrumentClasses) | undefined;
let failpointClasses: (() => InstrumentClasses) | undefined;

/**
 * Called by runtime/instruments/classes.ts: the manager cannot import the instrument subclasses
 * itself, since they extend Instrument, whose module imports this one.
 * @internal
 */
export function provideDefaultInstrumentClasses(factory: () => InstrumentClasses): void {
  defaultClasses = factory;
}

/**
 * Called by runtime/failpoints/classes.ts, which a manager loads only once failpoints are on.
 * @internal
 */
export function provideFailpointClasses(factory: () => InstrumentClasses): void {
  failpointClasses = factory;
}

const POLL_JITTER = 0.2;
const BACKOFF_MIN_MS = 1_000;
/** Reads must work this many poll periods in a row before a new failure retries from one second again. */
const HEALTHY_PERIODS = 3;

export class InstrumentManager {
  /** Names every instrument expression of this manager can read (mutable; see defaultGlobalNamespace). */
  globalNamespace: Record<string, unknown> = defaultGlobalNamespace();
  /** Tags added to every instrument's tags (they win over an instrument's own tags of the same key). */
  tags: Tags = {};
  /** Where the default `handleError` and the manager's warnings write their lines. */
  errorOutput: { write(line: string): unknown } = process.stderr;

  private storeImpl!: SpecStore;
  private labelsImpl: Readonly<Record<string, string>> = Object.freeze({});
  private processIdImpl = "";
  private allowCodeImpl = false;
  private failpointsImpl = false;
  private verifierImpl: SpecVerifier | undefined;
  /** The last verifier made, kept while verification is off so its replay memory survives. */
  private lastVerifier: SpecVerifier | undefined;
  private defaultLifespan: number | null = null;
  private maxLifespan: number | null = null;
  private pollInterval = 5_000;
  private heartbeatInterval = 10_000;
  private classes: InstrumentClasses | undefined;
  private extraClasses: InstrumentClasses | undefined;

  private readonly reconciler: Reconciler;
  private readonly reporter: StatusReporter;
  private running: Promise<ApplyReport> | undefined;
  private queued: Promise<ApplyReport> | undefined;
  private lastSnapshot: SpecSnapshot | undefined;
  private snapshotView: SnapshotSpecs | undefined;
  private startedFlag = false;
  private subscription: StoreSubscription | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  // Capped at the poll period: a process catches up within one period of the store's return.
  private readonly backoff = new Backoff(
    BACKOFF_MIN_MS,
    () => this.pollInterval,
    () => HEALTHY_PERIODS * this.pollInterval,
  );
  private readonly warned = new Set<string>();
  private storeErrorText: string | undefined;

  constructor(options: InstrumentManagerOptions = {}) {
    this.configureUnsafe(options, true);
    const self = this;
    this.reconciler = new Reconciler({
      mgr: this,
      get labels() {
        return self.labelsImpl;
      },
      get allowCode() {
        return self.allowCodeImpl;
      },
      get verifier() {
        return self.verifierImpl;
      },
      classes: () => this.instrumentClasses,
      expiry: (lm, lifespan) => this.expiry(lm, lifespan),
      warn: (id, message) => this.warnOnce(`spec ${JSON.stringify(id)}: ${message}`),
    });
    this.reporter = new StatusReporter({
      store: () => this.storeImpl,
      get processId() {
        return self.processIdImpl;
      },
      get labels() {
        return self.labelsImpl;
      },
      reconciler: this.reconciler,
      get heartbeat() {
        return self.heartbeatInterval;
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
    this.configureUnsafe(options, false);
    return this;
  }

  /** The store this manager reads specs from and writes its status to. */
  get store(): SpecStore {
    return this.storeImpl;
  }

  /** This process's labels (see `selector`). */
  get labels(): Readonly<Record<string, string>> {
    return this.labelsImpl;
  }

  /** The key of this process in every spec's `applied`. */
  get processId(): string {
    return this.processIdImpl;
  }

  /** Whether store specs may run full JavaScript expressions (see the option). */
  get allowCode(): boolean {
    return this.allowCodeImpl;
  }

  /** Whether failpoint specs (`pause`, `error`, `delay`) may apply here (the `failpoints` option). */
  get failpoints(): boolean {
    return this.failpointsImpl;
  }

  /** Whether this manager applies only signed specs (the `verify` option). */
  get verifying(): boolean {
    return this.verifierImpl !== undefined;
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
    if (this.classes === undefined) {
      const failpoints = this.failpointsImpl ? failpointClasses?.() : undefined;
      this.classes = { ...(defaultClasses?.() ?? {}), ...failpoints, ...this.extraClasses };
    }
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
    const own = (this.storeImpl as { specs?: unknown }).specs;
    if (own instanceof Map) return own as Map<string, Spec>;
    if (this.snapshotView === undefined || this.snapshotView.snapshot !== this.lastSnapshot) {
      this.snapshotView = new SnapshotSpecs(this.lastSnapshot, this.storeImpl.description);
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
    try {
      const last = (this.storeImpl as { lastError?: unknown }).lastError;
      return last === null || last === undefined ? undefined : `${this.storeImpl.description}: ${describeError(last)}`;
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
    const report = await this.apply();
    if (!this.startedFlag) return report;
    this.reporter.startTicker();
    this.listen();
    this.afterBackgroundApply(report);
    return report;
  }

  /** Stops watching the store and removes every instrument this manager applied. */
  async stop(): Promise<void> {
    const wasStarted = this.startedFlag;
    this.startedFlag = false;
    try {
      this.subscription?.close();
    } catch {
      // A store's close of its own feed is not our caller's problem.
    }
    this.subscription = undefined;
    for (const t of [this.pollTimer, this.retryTimer, this.expiryTimer]) if (t !== undefined) clearTimeout(t);
    this.pollTimer = this.retryTimer = this.expiryTimer = undefined;
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
    let snapshot: SpecSnapshot;
    try {
      // A store that can list its specs without assembling every process's status does so: the
      // manager never reads `applied`, and at fleet scale the status is most of the bytes.
      const store = this.storeImpl;
      snapshot = await (typeof store.listSpecs === "function" ? store.listSpecs() : store.list());
      if (typeof snapshot !== "object" || snapshot === null || !Array.isArray(snapshot.specs)) {
        throw new TypeError(`${this.storeImpl.description} returned a snapshot without a specs array`);
      }
    } catch (err) {
      const report = emptyReport();
      report.error = `Could not read the specs from ${this.storeImpl.description} (the last applied specs stay in force): ${describeError(err)}`;
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
        this.failpointsImpl && failpointClasses === undefined ? import("../failpoints/classes.js") : undefined,
      ]);
      if (this.failpointsImpl) this.addFailpointClasses();
      report = this.reconciler.apply(snapshot, Date.now(), probes);
    } catch (err) {
      report = emptyReport();
      report.error = `Diagnose could not apply the specs: ${describeError(err)}`;
    }
    this.armExpiry();
    await this.reporter.flushIfChanged();
    return report;
  }

  /**
   * The failpoint classes load with the first apply that needs them: a table made before then
   * gets them now, without overriding a class of the same name the user put there.
   */
  private addFailpointClasses(): void {
    const table = this.classes;
    if (table === undefined || failpointClasses === undefined) return;
    for (const [type, cls] of Object.entries(failpointClasses())) if (!Object.hasOwn(table, type)) table[type] = cls;
  }

  /** After a background apply: the next poll, or a retry with backoff if the store failed. */
  private afterBackgroundApply(report: ApplyReport): void {
    if (!this.startedFlag) return;
    if (report.error !== undefined) {
      const delay = this.backoff.failed(Date.now());
      if (this.retryTimer === undefined) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, delay);
        this.retryTimer.unref();
      }
      return;
    }
    this.backoff.succeeded(Date.now());
    if (this.subscription === undefined) this.schedulePoll();
  }

  /** Runs a background apply (coalesced with any running one). */
  private kick(): void {
    if (!this.startedFlag) return;
    void this.apply().then(
      (r) => this.afterBackgroundApply(r),
      () => undefined,
    );
  }

  private listen(): void {
    const store = this.storeImpl;
    if (typeof store.watch !== "function") return;
    try {
      this.subscription = store.watch((change: StoreChange) => {
        try {
          if (change?.kind === "error") {
            this.warnOnce(
              `${store.description} reported a problem (the last applied specs stay in force): ${describeError(change.error)}`,
              false,
            );
            this.reporter.schedule();
          } else this.kick();
        } catch {
          // A hostile change object: ignore it; the next doorbell or poll re-reads.
        }
      });
    } catch (err) {
      this.warnOnce(`could not watch ${store.description}, polling instead: ${describeError(err)}`, false);
      this.subscription = undefined;
    }
  }

  private schedulePoll(): void {
    if (this.pollTimer !== undefined || !this.startedFlag) return;
    const delay = this.pollInterval * (1 - POLL_JITTER + Math.random() * 2 * POLL_JITTER);
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.kick();
    }, delay);
    this.pollTimer.unref();
  }

  /** Removes expired instruments at the soonest expiry (the instrument also stops firing by itself). */
  private armExpiry(): void {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const next = this.reconciler.nextExpiry();
    if (next === Infinity) return;
    const delay = Math.max(0, Math.min(MAX_TIMER_MS, next - Date.now() + 1));
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      try {
        if (this.reconciler.expireDue(Date.now()).length > 0) this.reporter.schedule();
      } catch {
        // Best effort: the next apply expires them too.
      }
      this.armExpiry();
    }, delay);
    this.expiryTimer.unref();
  }

  private expiry(lm: Date, lifespan: number | null | undefined): number {
    let minutes = lifespan ?? this.defaultLifespan ?? Infinity;
    if (this.maxLifespan !== null) minutes = Math.min(minutes, this.maxLifespan);
    return minutes === Infinity ? Infinity : lm.getTime() + minutes * 60_000;
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

  private checkVerify(v: unknown): SpecVerifier {
    const keys = (v as { keys?: unknown } | null)?.keys;
    if (typeof v !== "object" || v === null || !Array.isArray(keys)) {
      throw new ManagerOptionsError(
        "`verify` must be { keys: [publicKey, …] } (PEM, raw base64, KeyObject or { keyId, publicKey, notAfter }), or null.",
      );
    }
    if (keys.length === 0) {
      throw new ManagerOptionsError(
        "`verify.keys` is empty: every spec would be refused. Give at least one public key, or `verify: null` to turn verification off.",
      );
    }
    try {
      this.lastVerifier = new SpecVerifier(
        keys.map((k: unknown, i) => trustedKey(k as Parameters<typeof trustedKey>[0], `verify.keys[${i}]`)),
        this.lastVerifier,
        { replayFile: (v as { replayFile?: string }).replayFile, warn: (m) => this.warnOnce(m, false) },
      );
      return this.lastVerifier;
    } catch (error) {
      if (error instanceof SigningKeyError) throw new ManagerOptionsError(error.message);
      throw error;
    }
  }

  private configureUnsafe(o: InstrumentManagerOptions, initial: boolean): void {
    if (typeof o !== "object" || o === null)
      throw new ManagerOptionsError(`Manager options must be an object, got ${typeof o}.`);
    if (o.store !== undefined) {
      const s = o.store as Partial<SpecStore> | null;
      if (typeof s !== "object" || s === null || typeof s.list !== "function" || typeof s.reportStatus !== "function") {
        throw new ManagerOptionsError(
          "`store` must be a SpecStore (memoryStore(), fileStore(path), openStore(uri), or your own).",
        );
      }
      this.storeImpl = o.store;
      this.lastSnapshot = undefined;
    } else if (initial) this.storeImpl = memoryStore();
    if (o.labels !== undefined) this.labelsImpl = Object.freeze(checkLabels(o.labels));
    if (o.processId !== undefined) {
      if (typeof o.processId !== "string" || o.processId.trim() === "" || o.processId.length > 200) {
        throw new ManagerOptionsError("`processId` must be a non-empty string of at most 200 characters.");
      }
      this.processIdImpl = o.processId;
    } else if (initial) this.processIdImpl = defaultProcessId();
    if (o.allowCode !== undefined) {
      if (typeof o.allowCode !== "boolean") throw new ManagerOptionsError("`allowCode` must be true or false.");
      this.allowCodeImpl = o.allowCode;
    }
    if (o.failpoints !== undefined) {
      if (typeof o.failpoints !== "boolean") throw new ManagerOptionsError("`failpoints` must be true or false.");
      if (o.failpoints !== this.failpointsImpl) {
        this.failpointsImpl = o.failpoints;
        this.classes = undefined;
        // Failpoint specs refused (or applied) under the old setting are judged again.
        if (!initial) this.reconciler.invalidate();
      }
    }
    if (o.verify !== undefined) {
      this.verifierImpl = o.verify === null ? undefined : this.checkVerify(o.verify);
      // Specs applied under the old trust settings are judged again on the next apply.
      if (!initial) this.reconciler.invalidate();
    }
    if (o.defaultLifespan !== undefined) this.defaultLifespan = checkMinutes("defaultLifespan", o.defaultLifespan);
    if (o.maxLifespan !== undefined) this.maxLifespan = checkMinutes("maxLifespan", o.maxLifespan);
    if (o.pollInterval !== undefined) this.pollInterval = checkMs("pollInterval", o.pollInterval);
    if (o.heartbeatInterval !== undefined) this.heartbeatInterval = checkMs("heartbeatInterval", o.heartbeatInterval);
    if (o.instrumentClasses !== undefined) {
      if (typeof o.instrumentClasses !== "object" || o.instrumentClasses === null) {
        throw new ManagerOptionsError("`instrumentClasses` must be an object of type name → Instrument subclass.");
      }
      this.extraClasses = { ...o.instrumentClasses };
      this.classes = undefined;
    }
    if (o.globalNamespace !== undefined) {
      if (typeof o.globalNamespace !== "object" || o.globalNamespace === null) {
        throw new ManagerOptionsError("`globalNamespace` must be an object of names.");
      }
      Object.assign(this.globalNamespace, o.globalNamespace);
    }
  }
}

/** The process-wide default manager; instruments use it unless given `mgr`. */
export const manager = new InstrumentManager();
