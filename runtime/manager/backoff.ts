/**
 * Retry delays for a store that fails: exponential with jitter, so a fleet that lost its store
 * does not reconnect in lockstep; capped, so the process catches up within one period of the
 * store's return; and reset only after a healthy period, so a store that flaps (up for one read,
 * down again) does not bring every process back to one-second retries.
 */
export class Backoff {
  private delay: number;
  private healthySince: number | undefined;

  /**
   * @param min the first delay (ms)
   * @param cap the largest delay (ms), read on every failure so it can follow an option
   * @param healthyFor how long (ms) the store must work before the next failure starts again at `min`
   */
  constructor(
    private readonly min: number,
    private readonly cap: () => number,
    private readonly healthyFor: () => number,
  ) {
    this.delay = min;
  }

  /** A call failed: the delay before the retry (jittered between half and all of the current step). */
  failed(now: number): number {
    if (this.healthySince !== undefined && now - this.healthySince >= this.healthyFor()) this.delay = this.min;
    this.healthySince = undefined;
    const cap = Math.max(this.min, this.cap());
    const step = Math.min(this.delay, cap);
    this.delay = Math.min(cap, this.delay * 2);
    return step * (0.5 + Math.random() * 0.5);
  }

  /** A call worked: the healthy period starts (once) here. */
  succeeded(now: number): void {
    this.healthySince ??= now;
  }

  /** The step the next failure would start from (for tests and status). */
  get current(): number {
    return this.delay;
  }
}
