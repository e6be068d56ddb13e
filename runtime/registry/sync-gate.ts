/**
 * Pausing synchronous code. An async function can be paused by awaiting a promise at its site;
 * a synchronous one can only be paused by blocking its thread, which is what a watcher does by
 * calling `gate.wait(ms)` from onEntry/onLine. Blocking is allowed in worker threads only: on the
 * main thread it would freeze the event loop, and the thread that should open the gate with it.
 *
 * The gate is level-triggered (an open gate lets every wait through until it is closed again) and
 * every wait has a finite timeout. Its state lives in a SharedArrayBuffer, so a gate is shared by
 * passing `gate.buffer` to another thread (workerData or postMessage) and wrapping it there.
 */
import { performance } from "node:perf_hooks";
import { isMainThread } from "node:worker_threads";
import { SyncPauseError } from "./errors.js";

/** Int32 cells: 0 = open (1) or closed (0); 1 = number of threads blocked in wait(). */
const OPEN = 0;
const WAITING = 1;
const BYTES = 8;

type WaitAsync = (
  cells: Int32Array,
  index: number,
  value: number,
  timeout: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };

function checkTimeout(timeoutMs: number, what: string): void {
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new SyncPauseError(`${what} needs a finite timeout in milliseconds (>= 0), got ${String(timeoutMs)}.`);
  }
}

export class SyncGate {
  /** Share this with other threads; `new SyncGate(buffer)` there drives the same gate. */
  readonly buffer: SharedArrayBuffer;
  private readonly cells: Int32Array;

  /** A new closed gate, or a handle on the gate whose buffer another thread created. */
  constructor(buffer?: SharedArrayBuffer) {
    if (buffer !== undefined && !(buffer instanceof SharedArrayBuffer && buffer.byteLength >= BYTES)) {
      throw new SyncPauseError(`SyncGate needs a SharedArrayBuffer of at least ${BYTES} bytes.`);
    }
    this.buffer = buffer ?? new SharedArrayBuffer(BYTES);
    this.cells = new Int32Array(this.buffer, 0, 2);
  }

  /**
   * Blocks the calling worker thread until the gate is open, at most `timeoutMs`. Returns true if
   * the gate opened, false on timeout. Throws SyncPauseError on the main thread.
   */
  wait(timeoutMs: number): boolean {
    if (isMainThread) {
      throw new SyncPauseError(
        "SyncGate.wait() blocks its thread; on the main thread that would freeze the event loop. " +
          "Run the code to pause in a worker thread, or pause an async function with a promise instead.",
      );
    }
    checkTimeout(timeoutMs, "SyncGate.wait()");
    const cells = this.cells;
    const deadline = performance.now() + timeoutMs;
    Atomics.add(cells, WAITING, 1);
    Atomics.notify(cells, WAITING);
    try {
      while (Atomics.load(cells, OPEN) === 0) {
        const left = deadline - performance.now();
        if (left <= 0) return false;
        Atomics.wait(cells, OPEN, 0, left);
      }
      return true;
    } finally {
      Atomics.sub(cells, WAITING, 1);
      Atomics.notify(cells, WAITING);
    }
  }

  /** Opens the gate: every blocked wait returns true, and later waits pass until close(). */
  open(): void {
    Atomics.store(this.cells, OPEN, 1);
    Atomics.notify(this.cells, OPEN);
  }

  /** Closes the gate: later waits block again. */
  close(): void {
    Atomics.store(this.cells, OPEN, 0);
  }

  get isOpen(): boolean {
    return Atomics.load(this.cells, OPEN) === 1;
  }

  /** Number of threads blocked in wait() right now. */
  get waiting(): number {
    return Atomics.load(this.cells, WAITING);
  }

  /**
   * Resolves true once at least `count` threads are blocked in wait(), false after `timeoutMs`.
   * Never blocks: usable on the main thread.
   */
  async whenWaiting(count: number, timeoutMs: number): Promise<boolean> {
    checkTimeout(timeoutMs, "SyncGate.whenWaiting()");
    const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.cells, WAITING);
      if (seen >= count) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      // Atomics.waitAsync alone does not keep the event loop alive: a timer for the deadline does.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadlineReached = new Promise(
        (resolve) => (timer = setTimeout(resolve, waitAsync ? left : Math.min(left, 5))),
      );
      const r = waitAsync?.(this.cells, WAITING, seen, left);
      await (r?.async ? Promise.race([r.value, deadlineReached]) : deadlineReached);
      clearTimeout(timer);
    }
  }
}
