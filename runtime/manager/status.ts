/**
 * Per-process status: what each spec is doing here (`AppliedStatus`), computed from the live
 * instruments and probes, and written to the store as one `ProcessReport`.
 *
 * Reports are debounced (a burst of changes is one write), retried with backoff when the store
 * fails (never thrown: a status write is not worth an exception anywhere), written one at a time
 * (a change during a write schedules one more), and repeated as a heartbeat so readers can tell a
 * process that stopped reporting.
 */
import { describeError } from "../../errors/index.js";
import { describeThrottle } from "../budgets/cpu.js";
import { Backoff } from "./backoff.js";
import type { Entry, Reconciler } from "./reconcile.js";
import { siteActionOf } from "./site-action.js";
import type { AppliedStatus } from "./spec.js";
import { withinDeadline } from "./deadline.js";
import type { SpecStore } from "./stores/contract.js";

type State = AppliedStatus["state"];

/**
 * The error that goes with the state `stateOf` returned last: kept apart so that checking a
 * thousand entries builds no object per entry. Written as the state is returned (by `is`), after
 * every read it depends on, so a read that re-enters (a probe's flush calling a user's
 * handleError that asks for the status) cannot leave another entry's error here.
 */
let lastErr: string | null = null;

function is(state: State, err: string | null = null): State {
  lastErr = err;
  return state;
}

/** The state of one entry now; its error is left in `lastErr`. */
function stateOf(entry: Entry, reconciler: Reconciler, now: number): State {
  if (entry.expired) return is("expired");
  if (entry.err !== null) return is("error", entry.err);
  const inst = entry.instrument;
  if (inst === undefined) return is("pending");
  if (inst.disabled && inst.lastError !== undefined) return is("error", describeError(inst.lastError));
  if (inst.disabled && inst.throttled !== undefined) return is("throttled", describeThrottle(inst.throttled));
  const action = siteActionOf(inst);
  if (action !== undefined) {
    // A failpoint has no probe: its own watch says whether the target is there.
    if (action.siteState === "failed") return is("error", describeError(action.siteError));
    if (entry.expiresAt <= now) return is("expired");
    if (action.siteState === "pending") return is("pending");
    return is(inst.hits > 0 ? "emitting" : "applied");
  }
  const probe = reconciler.probeOf(entry);
  const probeStatus = probe?.status;
  if (probeStatus === "failed") return is("error", describeError(probe!.error));
  if (entry.expiresAt <= now) return is("expired");
  if (probeStatus === "pending") return is("pending");
  return is(inst.hits > 0 ? "emitting" : "applied");
}

/** The status of one entry now. */
export function statusOf(entry: Entry, reconciler: Reconciler, now: number, at: Date): AppliedStatus {
  const state = stateOf(entry, reconciler, now);
  return withWarning({ lm: entry.lm, err: lastErr, state, hits: entry.instrument?.hits ?? 0, at }, entry);
}

/** `status` with the entry's warning, when it has one (most have none: the key is left out). */
function withWarning(status: AppliedStatus, entry: Entry): AppliedStatus {
  if (entry.warning !== null) status.warning = entry.warning;
  return status;
}

/** Every entry's status now, by spec id. */
export function statusAll(reconciler: Reconciler, now = Date.now()): Record<string, AppliedStatus> {
  const at = new Date(now);
  const out: Record<string, AppliedStatus> = {};
  for (const entry of reconciler.entries.values()) setOwn(out, entry.id, statusOf(entry, reconciler, now, at));
  return out;
}

/**
 * Spec ids come from the store: `out[id] = …` with the id `"__proto__"` would set the object's
 * prototype instead of adding a key, so that one id is defined. Every other key becomes an own
 * data property by plain assignment (Object.prototype has no setter but `__proto__`), which costs
 * far less than a define per id.
 */
function setOwn(target: Record<string, AppliedStatus>, id: string, status: AppliedStatus): void {
  if (id === "__proto__")
    Object.defineProperty(target, id, { value: status, enumerable: true, writable: true, configurable: true });
  else target[id] = status;
}

/**
 * What the last accepted report said, entry by entry in the reconciler's order: what changes a
 * status enough to report it before the next heartbeat (hits alone do not). Compared in place,
 * so a check with nothing changed builds nothing.
 */
class Reported {
  readonly ids: string[] = [];
  readonly states: State[] = [];
  readonly errs: (string | null)[] = [];
  readonly lms: (number | undefined)[] = [];
  readonly warnings: (string | null)[] = [];

  add(entry: Entry, state: State, err: string | null): void {
    this.ids.push(entry.id);
    this.states.push(state);
    this.errs.push(err);
    this.lms.push(entry.lm?.getTime());
    this.warnings.push(entry.warning);
  }

  /** Whether any entry's state, error, warning or applied lastmodified differs (or entries came or went). */
  differs(reconciler: Reconciler, now: number): boolean {
    const entries = reconciler.entries;
    if (entries.size !== this.ids.length) return true;
    let i = 0;
    for (const entry of entries.values()) {
      const state = stateOf(entry, reconciler, now);
      if (
        entry.id !== this.ids[i] ||
        state !== this.states[i] ||
        (lastErr ?? "") !== (this.errs[i] ?? "") ||
        entry.lm?.getTime() !== this.lms[i] ||
        entry.warning !== this.warnings[i]
      )
        return true;
      i++;
    }
    return false;
  }
}

/** Every entry's status and what it says, in one pass over the entries. */
function collect(reconciler: Reconciler, now: number): { specs: Record<string, AppliedStatus>; said: Reported } {
  const at = new Date(now);
  const specs: Record<string, AppliedStatus> = {};
  const said = new Reported();
  for (const entry of reconciler.entries.values()) {
    const state = stateOf(entry, reconciler, now);
    const err = lastErr;
    setOwn(specs, entry.id, withWarning({ lm: entry.lm, err, state, hits: entry.instrument?.hits ?? 0, at }, entry));
    said.add(entry, state, err);
  }
  return { specs, said };
}

export interface ReporterOptions {
  readonly store: () => SpecStore;
  readonly processId: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly reconciler: Reconciler;
  /** Milliseconds between heartbeats. */
  readonly heartbeat: number;
  /** Milliseconds a status write may take before it counts as failed. */
  readonly storeTimeout: number;
  /** Where a failed write is mentioned (once per outage). */
  readonly warn: (message: string) => void;
}

const DEBOUNCE_MS = 50;
const CHECK_MS = 1_000;
const RETRY_MIN_MS = 1_000;

export class StatusReporter {
  private last = new Reported();
  private lastWriteAt = 0;
  private debounce: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  // Capped at the heartbeat: a report accepted once the store is back is never later than the
  // heartbeat readers already allow for; healthy for three heartbeats before retries restart at 1 s.
  private readonly backoff = new Backoff(
    RETRY_MIN_MS,
    () => this.o.heartbeat,
    () => 3 * this.o.heartbeat,
  );
  private writing: Promise<void> | undefined;
  private dirty = false;
  private failing = false;

  constructor(private readonly o: ReporterOptions) {}

  /** Reports soon (debounced). */
  schedule(): void {
    if (this.debounce !== undefined) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.flush();
    }, DEBOUNCE_MS);
    this.debounce.unref();
  }

  /**
   * Writes the current status now; resolves when written or when the write failed (a retry is
   * then scheduled). Never rejects.
   */
  flush(): Promise<void> {
    if (this.writing !== undefined) {
      this.dirty = true;
      return this.writing;
    }
    const run = async (): Promise<void> => {
      do {
        this.dirty = false;
        await this.writeOnce();
      } while (this.dirty);
    };
    this.writing = run().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  /** Writes only when a state, error or applied version changed since the last write. */
  flushIfChanged(): Promise<void> {
    if (this.writing === undefined && !this.last.differs(this.o.reconciler, Date.now())) return Promise.resolve();
    return this.flush();
  }

  /** Checks for changes every second and writes a heartbeat every `heartbeat` ms. */
  startTicker(): void {
    if (this.ticker !== undefined) return;
    this.ticker = setInterval(
      () => {
        try {
          const now = Date.now();
          const changed = this.last.differs(this.o.reconciler, now);
          if (changed || now - this.lastWriteAt >= this.o.heartbeat) void this.flush();
        } catch {
          // Status is best effort; the next tick tries again.
        }
      },
      Math.min(CHECK_MS, this.o.heartbeat),
    );
    this.ticker.unref();
  }

  stop(): void {
    for (const t of [this.debounce, this.ticker, this.retry]) if (t !== undefined) clearTimeout(t);
    this.debounce = this.ticker = this.retry = undefined;
  }

  /** Resolves when no write is in flight. */
  async idle(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private async writeOnce(): Promise<void> {
    const now = Date.now();
    const { said, specs } = collect(this.o.reconciler, now);
    try {
      const store = this.o.store();
      await withinDeadline(
        store.reportStatus({ processId: this.o.processId, labels: this.o.labels, at: new Date(now), specs }),
        this.o.storeTimeout,
        store.description,
        "writing this process's status",
      );
      this.last = said;
      this.lastWriteAt = now;
      this.backoff.succeeded(now);
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.o.warn(`could not write this process's status to the store: ${describeError(err)}`);
      this.failing = true;
      if (this.retry === undefined) {
        const delay = this.backoff.failed(Date.now());
        this.retry = setTimeout(() => {
          this.retry = undefined;
          void this.flush();
        }, delay);
        this.retry.unref();
      }
    }
  }
}
