/**
 * A bound on each call the manager makes to its store. A store that never answers (a driver
 * waiting on a connection that will not come back, a custom store with a lost callback) would
 * otherwise hold the manager's apply forever: applies never overlap, so every later change
 * queued behind it and the process kept its last specs with no error anywhere. Past the bound,
 * the call counts as failed like any store error (the last applied specs stay in force, the
 * error is reported, the call is retried with backoff); its late result is ignored.
 */
import { StoreUnavailableError } from "./stores/errors.js";

/** Settles as `work` does, or rejects with StoreUnavailableError once `ms` have passed. */
export function withinDeadline<T>(work: Promise<T>, ms: number, store: string, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError(store, `${what} did not answer within ${ms / 1000} s (storeTimeout).`)),
      ms,
    );
    // Referenced (unlike the manager's other timers): it lives only while a call is in flight, and
    // a process awaiting a store that holds no handle (a lost callback) must get the error, not
    // exit mid-await.
  });
  // Promise.race subscribes to `work`, so its late rejection is handled, not reported as unhandled.
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
