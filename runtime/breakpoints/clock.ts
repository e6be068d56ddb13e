/**
 * The timers every breakpoint deadline uses, captured when this module loads. Fake timers (Node's
 * `mock.timers`, Sinon, Vitest's `vi.useFakeTimers()`) replace `globalThis.setTimeout` and friends
 * while a test runs; a deadline on those would never fire, and a test waiting on a parked call
 * would hang instead of failing.
 */
import { performance } from "node:perf_hooks";

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const realSetInterval = globalThis.setInterval;
const realClearInterval = globalThis.clearInterval;
const realNow = performance.now.bind(performance);

export type TimerHandle = ReturnType<typeof setTimeout>;

/** Calls `fn` after `ms` on a real timer. */
export function after(ms: number, fn: () => void): TimerHandle {
  return realSetTimeout(fn, ms);
}

export function cancel(handle: TimerHandle | undefined): void {
  if (handle !== undefined) realClearTimeout(handle);
}

/** Milliseconds on the real monotonic clock. */
export function now(): number {
  return realNow();
}

/** Resolves after `ms` real milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => realSetTimeout(resolve, ms));
}

export type IntervalHandle = ReturnType<typeof setInterval>;

/** Calls `fn` every `ms` on a real interval timer. */
export function every(ms: number, fn: () => void): IntervalHandle {
  return realSetInterval(fn, ms);
}

export function stopEvery(handle: IntervalHandle | undefined): void {
  if (handle !== undefined) realClearInterval(handle);
}
