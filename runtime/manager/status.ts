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
import type { Entry, Reconciler } from "./reconcile.js";
import type { AppliedStatus } from "./spec.js";
import type { SpecStore } from "./stores/contract.js";

/** The status of one entry now. */
export function statusOf(entry: Entry, reconciler: Reconciler, now: number, at: Date): AppliedStatus {
  const inst = entry.instrument;
  const hits = inst?.hits ?? 0;
  const base = { lm: entry.lm, hits, at };
  if (entry.expired) return { ...base, err: null, state: "expired" };
  if (entry.err !== null) return { ...base, err: entry.err, state: "error" };
  if (inst === undefined) return { ...base, err: null, state: "pending" };
  if (inst.disabled && inst.lastError !== undefined) return { ...base, err: describeError(inst.lastError), state: "error" };
  const probe = reconciler.probeOf(entry);
  const probeStatus = probe?.status;
  if (probeStatus === "failed") return { ...base, err: describeError(probe!.error), state: "error" };
  if (entry.expiresAt <= now) return { ...base, err: null, state: "expired" };
  if (probeStatus === "pending") return { ...base, err: null, state: "pending" };
  return { ...base, err: null, state: hits > 0 ? "emitting" : "applied" };
}

/** Every entry's status now, by spec id. */
export function statusAll(reconciler: Reconciler, now = Date.now()): Record<string, AppliedStatus> {
  const at = new Date(now);
  const out: Record<string, AppliedStatus> = {};
  for (const entry of reconciler.entries.values()) out[entry.id] = statusOf(entry, reconciler, now, at);
  return out;
}

/** What changes a status enough to report it before the next heartbeat (hits alone do not). */
function signature(all: Record<string, AppliedStatus>): string {
  let s = "";
  for (const id of Object.keys(all)) {
    const st = all[id]!;
    s += `${id}\0${st.state}\0${st.err ?? ""}\0${st.lm?.getTime() ?? ""}\0${st.hits > 0 ? 1 : 0}\n`;
  }
  return s;
}

export interface ReporterOptions {
  readonly store: () => SpecStore;
  readonly processId: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly reconciler: Reconciler;
  /** Milliseconds between heartbeats. */
  readonly heartbeat: number;
  /** Where a failed write is mentioned (once per outage). */
  readonly warn: (message: string) => void;
}

const DEBOUNCE_MS = 50;
const CHECK_MS = 1_000;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

export class StatusReporter {
  private last = "";
  private lastWriteAt = 0;
  private debounce: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private retryDelay = RETRY_MIN_MS;
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

  /** Checks for changes every second and writes a heartbeat every `heartbeat` ms. */
  startTicker(): void {
    if (this.ticker !== undefined) return;
    this.ticker = setInterval(() => {
      try {
        const now = Date.now();
        const changed = signature(statusAll(this.o.reconciler, now)) !== this.last;
        if (changed || now - this.lastWriteAt >= this.o.heartbeat) void this.flush();
      } catch {
        // Status is best effort; the next tick tries again.
      }
    }, Math.min(CHECK_MS, this.o.heartbeat));
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
    const specs = statusAll(this.o.reconciler, now);
    try {
      await this.o.store().reportStatus({ processId: this.o.processId, labels: this.o.labels, at: new Date(now), specs });
      this.last = signature(specs);
      this.lastWriteAt = now;
      this.retryDelay = RETRY_MIN_MS;
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.o.warn(`could not write this process's status to the store: ${describeError(err)}`);
      this.failing = true;
      if (this.retry === undefined) {
        const delay = this.retryDelay * (0.5 + Math.random() * 0.5);
        this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
        this.retry = setTimeout(() => {
          this.retry = undefined;
          void this.flush();
        }, delay);
        this.retry.unref();
      }
    }
  }
}
