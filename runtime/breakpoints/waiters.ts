/**
 * The test's pending waits (`wait`, `waitUntil`, `join`): each is a readiness check re-run when the
 * breakpoint's state changes, with a deadline on a real timer. No polling, except the optional
 * short one of `waitUntil()`, whose predicate may read state that changes elsewhere.
 */
import { after, cancel, every, stopEvery, type IntervalHandle, type TimerHandle } from "./clock.js";
import type { Hit } from "./hit.js";

/** A hit, `true` (ready, nothing to return) or undefined (not yet); may throw to fail the wait. */
export type Readiness = () => Hit | true | undefined;

interface Waiter {
  readonly ready: Readiness;
  readonly resolve: (value: Hit | undefined) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: TimerHandle;
  readonly poll: IntervalHandle | undefined;
}

export class Waiters {
  private readonly pending = new Set<Waiter>();

  /** `timedOut(what, ms)` builds the error of a wait whose deadline passed (and may act on it). */
  constructor(private readonly timedOut: (what: string, ms: number, releaseOnTimeout: boolean) => unknown) {}

  add(ready: Readiness, what: string, ms: number, poll: boolean, releaseOnTimeout: boolean): Promise<Hit | undefined> {
    return new Promise<Hit | undefined>((resolve, reject) => {
      let first: Hit | true | undefined;
      try {
        first = ready();
      } catch (err) {
        return reject(err);
      }
      if (first !== undefined) return resolve(first === true ? undefined : first);
      const waiter: Waiter = {
        ready,
        resolve,
        reject,
        timer: after(ms, () => {
          this.drop(waiter);
          reject(this.timedOut(what, ms, releaseOnTimeout));
        }),
        poll: poll ? every(5, () => this.notify()) : undefined,
      };
      this.pending.add(waiter);
    });
  }

  /** Settles the waits the current state satisfies. */
  notify(): void {
    for (const w of this.pending) {
      let r: Hit | true | undefined;
      try {
        r = w.ready();
      } catch (err) {
        this.drop(w);
        w.reject(err);
        continue;
      }
      if (r === undefined) continue;
      this.drop(w);
      w.resolve(r === true ? undefined : r);
    }
  }

  failAll(error: unknown): void {
    for (const w of this.pending) {
      this.drop(w);
      w.reject(error);
    }
  }

  private drop(w: Waiter): void {
    this.pending.delete(w);
    cancel(w.timer);
    stopEvery(w.poll);
  }
}
