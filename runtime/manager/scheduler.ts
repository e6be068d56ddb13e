/**
 * When a manager applies without being asked: while started, on every change its store announces
 * (the doorbell), or every poll period (±20% jitter) for a store without a change feed; after a
 * failed read, again with backoff; and, started or not, at the soonest expiry, where the expired
 * instruments are removed.
 *
 * Invariants:
 * - nothing is scheduled after `stop()` (a background apply that ends later schedules nothing);
 * - at most one timer of each kind is armed, and every timer is unref'd: a manager never keeps a
 *   process alive;
 * - a store's doorbell, even a hostile one, never throws into the store.
 */
import { describeError } from "../../errors/index.js";
import { Backoff } from "./backoff.js";
import { MAX_TIMER_MS } from "./options.js";
import type { ApplyReport } from "./reconcile.js";
import type { SpecStore, StoreChange, StoreSubscription } from "./stores/contract.js";

/** What the scheduler needs from its manager. */
export interface SchedulerHost {
  readonly store: SpecStore;
  /** Milliseconds between polls of a store without a change feed (the `pollInterval` option). */
  readonly pollInterval: number;
  /** One apply, coalesced with a running one; never rejects. */
  apply(): Promise<ApplyReport>;
  /** The soonest expiry among the applied specs, epoch ms (Infinity: none). */
  nextExpiry(): number;
  /** Removes the instruments of the specs whose expiry passed. */
  expireDue(now: number): void;
  /** The store reported a problem through its feed: the status should say so soon. */
  storeProblem(message: string): void;
  /** A warning for the manager's error output. */
  warn(message: string): void;
}

const POLL_JITTER = 0.2;
const BACKOFF_MIN_MS = 1_000;
/** Reads must work this many poll periods in a row before a new failure retries from one second again. */
const HEALTHY_PERIODS = 3;

export class ApplyScheduler {
  private active = false;
  private subscription: StoreSubscription | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  // Capped at the poll period: a process catches up within one period of the store's return.
  private readonly backoff = new Backoff(
    BACKOFF_MIN_MS,
    () => this.host.pollInterval,
    () => HEALTHY_PERIODS * this.host.pollInterval,
  );

  constructor(private readonly host: SchedulerHost) {}

  /**
   * Opens the store's change feed. Called before the manager's first read: a change written while
   * that read runs rings the doorbell and is applied next. Opened after it, such a change was
   * missed until the store's next change (the file store's safety-net poll compares against a
   * baseline taken when the watch opens, which already saw it).
   */
  open(): void {
    this.active = true;
    this.listen();
  }

  /** Starts the background applies, after the manager's first apply (whose report says what comes next). */
  start(first: ApplyReport): void {
    if (!this.active) this.open();
    this.afterBackgroundApply(first);
  }

  /** Stops watching the store and disarms every timer. */
  stop(): void {
    this.active = false;
    try {
      this.subscription?.close();
    } catch {
      // A store's close of its own feed is not our caller's problem.
    }
    this.subscription = undefined;
    for (const t of [this.pollTimer, this.retryTimer, this.expiryTimer]) if (t !== undefined) clearTimeout(t);
    this.pollTimer = this.retryTimer = this.expiryTimer = undefined;
  }

  /** Removes expired instruments at the soonest expiry (the instrument also stops firing by itself). */
  armExpiry(): void {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const next = this.host.nextExpiry();
    if (next === Infinity) return;
    const delay = Math.max(0, Math.min(MAX_TIMER_MS, next - Date.now() + 1));
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      try {
        this.host.expireDue(Date.now());
      } catch {
        // Best effort: the next apply expires them too.
      }
      this.armExpiry();
    }, delay);
    this.expiryTimer.unref();
  }

  /** After a background apply: the next poll, or a retry with backoff if the store failed. */
  private afterBackgroundApply(report: ApplyReport): void {
    if (!this.active) return;
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
    if (!this.active) return;
    void this.host.apply().then(
      (r) => this.afterBackgroundApply(r),
      () => undefined,
    );
  }

  private listen(): void {
    const store = this.host.store;
    if (typeof store.watch !== "function") return;
    try {
      this.subscription = store.watch((change: StoreChange) => {
        try {
          if (change?.kind === "error") {
            this.host.storeProblem(
              `${store.description} reported a problem (the last applied specs stay in force): ${describeError(change.error)}`,
            );
          } else this.kick();
        } catch {
          // A hostile change object: ignore it; the next doorbell or poll re-reads.
        }
      });
    } catch (err) {
      this.host.warn(`could not watch ${store.description}, polling instead: ${describeError(err)}`);
      this.subscription = undefined;
    }
  }

  private schedulePoll(): void {
    if (this.pollTimer !== undefined || !this.active) return;
    const delay = this.host.pollInterval * (1 - POLL_JITTER + Math.random() * 2 * POLL_JITTER);
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.kick();
    }, delay);
    this.pollTimer.unref();
  }
}
