/**
 * `Breakpoint`: parks calls of a function at a site until the test releases them, so that a race
 * becomes a reproducible test (issue 13; the seed's `Breakpoint`, without its polling, unbounded
 * joins, shared stack-frame slot and lost thread errors).
 *
 *   await using bp = Breakpoint.block("src/s3.ts:S3Archive.unarchive");
 *   bp.start(() => archive.unarchive());
 *   const hit = await bp.wait();
 *   // … what must happen while unarchive is parked …
 *   bp.release();
 *
 * Everything is event-driven: a hit resolves the waits it satisfies at once, and a release resolves
 * the parked call's pause at once. Every wait has a finite deadline on a real timer (clock.ts).
 */
import { performance } from "node:perf_hooks";
import { describeError } from "../../errors/index.js";
import { watch, type CallFrame, type FunctionInfo, type Watch } from "../registry/index.js";
import { after, cancel, now, type TimerHandle } from "./clock.js";
import { parseCondition, unmetDetail, type ParsedCondition } from "./conditions.js";
import { wasInjected } from "./injected.js";
import {
  checkTimeout,
  EVENTS,
  splitTarget,
  type Action,
  type AnyTargetArgs,
  type BreakpointOptions,
  type WaitOptions,
} from "./options.js";
import { Waiters, type Readiness } from "./waiters.js";
import {
  BreakpointAbortedError,
  BreakpointCallbackError,
  BreakpointConditionNotMetError,
  BreakpointErrors,
  BreakpointMisuseError,
  BreakpointTimeoutError,
  BreakpointWaitTimeoutError,
} from "./errors.js";
import { argsOf, captureStack, Hit, type BreakpointEvent } from "./hit.js";
import type { FromWorker } from "./protocol.js";
import { labelOf, startLocal, Task, taskContext, type TaskPromise } from "./tasks.js";
import { WorkerHost, type WorkerSink } from "./worker-host.js";
import { atCall, atError, atReturn, isThenable, workerAnswer, type SiteHost } from "./sites.js";

export type { BreakpointOptions, WaitOptions } from "./options.js";

export class Breakpoint implements AsyncDisposable {
  /** The default `timeoutMs` of new breakpoints. */
  static defaultTimeoutMs = 10_000;

  /** The qualified name of the function this breakpoint watches. */
  readonly target: string;
  readonly event: BreakpointEvent;
  readonly timeoutMs: number;

  private readonly condition: ParsedCondition;
  private readonly action: Action;
  private readonly fireFn: ((hit: Hit) => unknown) | undefined;
  private readonly once: boolean;
  private readonly watch: Watch;
  private calls = 0;
  private totalHits = 0;
  private counted: Hit[] = [];
  private readonly parkedHits = new Set<Hit>();
  private latest: Hit | undefined = undefined;
  private readonly waiters = new Waiters((what, ms, releaseOnTimeout) => {
    const error = new BreakpointWaitTimeoutError(this.target, ms, what, this.describeState());
    if (releaseOnTimeout) this.releaseAll();
    return error;
  });
  private readonly tasks: Task[] = [];
  private readonly finished: PromiseSettledResult<unknown>[] = [];
  private readonly workers: WorkerHost[] = [];
  /** Problems dispose reports: misuse, parked calls that timed out, callbacks that threw. */
  private readonly problems: unknown[] = [];
  /** A problem that makes every wait fail at once (misuse, a failed watch, an abort). */
  private fatal: unknown = undefined;
  private disarmed = false;
  private closing: Promise<void> | undefined = undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = () => this.abort();
  /** What the site functions (sites.ts) may use of this breakpoint. */
  private readonly site: SiteHost = this.siteHost();

  /** Counts hits (and runs `fire`), nothing waits: `new Breakpoint(target, { fire })`. */
  constructor(target: string, options?: BreakpointOptions);
  constructor(owner: object, method: string, options?: BreakpointOptions);
  constructor(...args: AnyTargetArgs<BreakpointOptions>) {
    const { target, options } = splitTarget(args);
    const o = (options ?? {}) as BreakpointOptions & { action?: Action };
    this.target = target;
    this.event = o.event ?? (o.action?.kind === "return" ? "return" : "call");
    if (!EVENTS.includes(this.event)) {
      throw new BreakpointMisuseError(
        `Breakpoint event must be "call", "return" or "error", got ${JSON.stringify(this.event)}.`,
      );
    }
    this.timeoutMs = checkTimeout(o.timeoutMs ?? Breakpoint.defaultTimeoutMs, "Breakpoint `timeoutMs`");
    this.condition = parseCondition(o.condition);
    this.action = o.action ?? { kind: "fire" };
    if (this.action.kind === "return" && this.event !== "return") {
      throw new BreakpointMisuseError(
        `Breakpoint.return() replaces what a call returns: its event must be "return", got "${this.event}".`,
      );
    }
    if (o.fire !== undefined && typeof o.fire !== "function")
      throw new BreakpointMisuseError("Breakpoint `fire` must be a function.");
    this.fireFn = o.fire;
    this.once = o.once === true;
    this.signal = o.signal;
    this.watch = watch(
      target,
      {
        onEntry: (frame) => (this.event === "call" ? atCall(this.site, frame) : undefined),
        onReturn: (frame, site, value, locals) =>
          this.event === "return" ? atReturn(this.site, frame, site, value, locals) : undefined,
        onThrow: (frame, _site, error) => (this.event === "error" ? atError(this.site, frame, error) : undefined),
        onError: (error) => this.fail(error),
        onStateChange: (state, error) => {
          if (state === "failed") this.fail(error);
        },
      },
      { exits: this.event !== "call", timing: false },
    );
    if (this.watch.state === "failed") throw this.watch.error!;
    if (this.signal !== undefined) {
      if (this.signal.aborted) this.abort();
      else this.signal.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  private siteHost(): SiteHost {
    // Getters: the host is made before the constructor body has set target and action.
    const bp = this;
    return {
      get target() {
        return bp.target;
      },
      get action() {
        return bp.action;
      },
      fn: () => bp.watch.fn,
      hitOf: (event, frame, locals, result, error) => bp.hitOf(event, frame, locals, result, error),
      park: (hit) => bp.park(hit),
      canHold: (fn, event, isAsync) => bp.canHold(fn, event, isAsync),
      misuse: (message) => bp.misuse(message),
      problem: (error) => bp.problem(error),
    };
  }

  /** Parks every matching call until `release()`. */
  static block(target: string, options?: BreakpointOptions): Breakpoint;
  static block(owner: object, method: string, options?: BreakpointOptions): Breakpoint;
  static block(...args: AnyTargetArgs<BreakpointOptions>): Breakpoint {
    return Breakpoint.make(args, { kind: "block" });
  }

  /** Makes every matching call throw `error` at the site. */
  static error(error: unknown, target: string, options?: BreakpointOptions): Breakpoint;
  static error(error: unknown, owner: object, method: string, options?: BreakpointOptions): Breakpoint;
  static error(error: unknown, ...args: AnyTargetArgs<BreakpointOptions>): Breakpoint {
    return Breakpoint.make(args, { kind: "error", error });
  }

  /** Holds every matching call for `ms` milliseconds, then lets it go on. */
  static delay(ms: number, target: string, options?: BreakpointOptions): Breakpoint;
  static delay(ms: number, owner: object, method: string, options?: BreakpointOptions): Breakpoint;
  static delay(ms: number, ...args: AnyTargetArgs<BreakpointOptions>): Breakpoint {
    return Breakpoint.make(args, { kind: "delay", ms: checkTimeout(ms, "Breakpoint.delay() milliseconds") });
  }

  /** Makes every matching call return `value` instead of its own result (event "return"). */
  static return(value: unknown, target: string, options?: BreakpointOptions): Breakpoint;
  static return(value: unknown, owner: object, method: string, options?: BreakpointOptions): Breakpoint;
  static return(value: unknown, ...args: AnyTargetArgs<BreakpointOptions>): Breakpoint {
    return Breakpoint.make(args, { kind: "return", value });
  }

  private static make(args: AnyTargetArgs<BreakpointOptions>, action: Action): Breakpoint {
    const { target, options } = splitTarget(args);
    return new Breakpoint(target, { ...options, action } as BreakpointOptions);
  }

  // -------------------------------------------------------------------------------------------
  // what the test reads

  /** Hits since the last `release()` (a `release(hit)` takes its hit out). */
  get hitCount(): number {
    return this.counted.length;
  }

  /** Calls that reached the breakpoint's event since it was armed, matching or not. */
  get callCount(): number {
    return this.calls;
  }

  /** The calls parked at the site right now. */
  get parked(): readonly Hit[] {
    return [...this.parkedHits];
  }

  /** The latest hit (the seed's `stackframe`). */
  get stackframe(): Hit | undefined {
    return this.latest;
  }

  /** Outcome of every started task, in the order they finished. */
  get results(): readonly PromiseSettledResult<unknown>[] {
    return this.finished;
  }

  // -------------------------------------------------------------------------------------------
  // starting work

  /**
   * Runs `fn(...args)` in the background and keeps its result or error. Await the returned
   * promise to handle its outcome yourself; otherwise dispose rethrows its error.
   */
  start<A extends unknown[], T>(fn: (...args: A) => T, ...args: A): TaskPromise<Awaited<T>> {
    this.checkOpen("start()");
    const { task, promise } = startLocal(() => fn(...args), labelOf(fn));
    this.track(task);
    return promise;
  }

  /**
   * Runs the export `exportName` of the module `moduleUrl` with `args` in a new worker thread whose
   * calls of the target park by blocking the thread (`Atomics.wait`): the way to park synchronous
   * code. Arguments, hits and the outcome cross threads as structured clones.
   */
  startWorker(moduleUrl: string | URL, exportName: string, ...args: unknown[]): TaskPromise<unknown> {
    this.checkOpen("startWorker()");
    const host = new WorkerHost(this.workerSink, {
      target: this.target,
      event: this.event,
      timeoutMs: this.timeoutMs,
      moduleUrl: String(moduleUrl),
      exportName,
      args,
    });
    this.workers.push(host);
    this.track(host.task);
    return host.promise;
  }

  private track(task: Task): void {
    this.tasks.push(task);
    void task.done.then(() => {
      this.finished.push(task.result!);
      this.notify();
    });
  }

  // -------------------------------------------------------------------------------------------
  // waiting

  /**
   * Resolves with the `hits`-th hit since the last `release()` (default: the first) — at once if it
   * already happened. Rejects after `timeoutMs` (releasing every parked call), on misuse, or when
   * the breakpoint's signal aborts.
   */
  wait(options: WaitOptions = {}): Promise<Hit> {
    const hits = options.hits ?? 1;
    if (!Number.isInteger(hits) || hits < 1)
      throw new BreakpointMisuseError(`wait({ hits }) needs a whole number >= 1, got ${String(hits)}.`);
    const what = hits === 1 ? "a hit" : `${hits} hits`;
    return this.addWaiter(() => this.counted[hits - 1], what, options.timeoutMs) as Promise<Hit>;
  }

  /**
   * Resolves once `predicate(bp)` is true. It is checked at once, at every hit, release and task
   * end, and every few milliseconds for state that changes elsewhere.
   */
  async waitUntil(predicate: (bp: Breakpoint) => unknown, options: { timeoutMs?: number } = {}): Promise<void> {
    await this.addWaiter(
      () => {
        try {
          return predicate(this) ? true : undefined;
        } catch (err) {
          throw new BreakpointCallbackError(this.target, "waitUntil() predicate", err);
        }
      },
      "the waitUntil() predicate",
      options.timeoutMs,
      true,
    );
  }

  /**
   * Waits (bounded) for every started task to end and returns their outcomes; errors collected
   * here are yours to check, and dispose does not rethrow them.
   */
  async join(options: { timeoutMs?: number } = {}): Promise<PromiseSettledResult<unknown>[]> {
    await this.addWaiter(
      () => (this.tasks.every((t) => t.state !== "running") ? true : undefined),
      "the started tasks to end",
      options.timeoutMs,
      false,
      false,
    );
    for (const t of this.tasks) t.observed = true;
    return this.tasks.map((t) => t.result!);
  }

  private addWaiter(
    ready: Readiness,
    what: string,
    timeoutMs: number | undefined,
    poll = false,
    releaseOnTimeout = true,
  ): Promise<Hit | undefined> {
    const ms = checkTimeout(timeoutMs ?? this.timeoutMs, "wait `timeoutMs`");
    if (this.fatal !== undefined) return Promise.reject(this.fatal);
    if (this.closing !== undefined) {
      return Promise.reject(
        new BreakpointMisuseError(`Breakpoint on ${this.target} is closed: nothing more can be waited for.`),
      );
    }
    return this.waiters.add(ready, what, ms, poll, releaseOnTimeout);
  }

  /** Settles the waits the current state satisfies (or fails them all after a fatal problem). */
  private notify(): void {
    if (this.fatal !== undefined) this.waiters.failAll(this.fatal);
    else this.waiters.notify();
  }

  private failWaiters(error: unknown): void {
    this.waiters.failAll(error);
  }

  // -------------------------------------------------------------------------------------------
  // releasing

  /**
   * Lets parked calls go on. Without an argument: every parked call, and the hit count starts
   * again from 0 (the next `wait()` waits for the next hit). With a hit: that call only; the others
   * stay parked and it no longer counts.
   */
  release(hit?: Hit): void {
    if (hit === undefined) this.releaseAll();
    else {
      this.counted = this.counted.filter((h) => h !== hit);
      this.resume(hit);
    }
    this.notify();
  }

  private releaseAll(): void {
    this.counted = [];
    for (const h of [...this.parkedHits]) this.resume(h);
  }

  private resume(hit: Hit): void {
    if (hit.parkState !== "parked") return;
    hit.parkState = "released";
    this.parkedHits.delete(hit);
    const go = hit.resume;
    hit.resume = undefined;
    go?.();
  }

  // -------------------------------------------------------------------------------------------
  // the sites (every method below runs inside a registry hook: it must never throw)

  /** Counts the call; returns its hit when the condition accepts it (and runs `fire`). */
  private hitOf(
    event: BreakpointEvent,
    frame: CallFrame | undefined,
    locals: () => Record<string, unknown>,
    result: unknown,
    error: unknown,
  ): Hit | undefined {
    if (this.disarmed) return undefined;
    try {
      const call = this.calls++;
      const args = argsOf(frame);
      if (!this.accepts(call, frame?.self, args)) return undefined;
      if (this.once && this.totalHits > 0) return undefined;
      const at = now();
      const hit = new Hit(this.target, event, call, args, frame?.self, locals(), result, error, captureStack(), 0, at);
      const task = taskContext.getStore();
      this.record(hit, task);
      return hit;
    } catch (err) {
      this.problem(err);
      return undefined;
    }
  }

  private accepts(call: number, self: unknown, args: readonly unknown[]): boolean {
    const c = this.condition;
    if (c.kind === "calls") return c.calls.has(call);
    if (c.kind === "predicate") {
      try {
        return Boolean(c.test.apply(self, [...args]));
      } catch (err) {
        this.problem(new BreakpointCallbackError(this.target, "condition predicate", err));
        return false;
      }
    }
    return true;
  }

  private record(hit: Hit, task: Task | undefined): void {
    this.totalHits++;
    this.counted.push(hit);
    this.latest = hit;
    if (task !== undefined) task.parkedAt = hit;
    if (this.fireFn !== undefined) {
      try {
        const out = this.fireFn.call(undefined, hit);
        if (isThenable(out))
          Promise.resolve(out).then(undefined, (err: unknown) =>
            this.problem(new BreakpointCallbackError(this.target, "fire function", err)),
          );
      } catch (err) {
        this.problem(new BreakpointCallbackError(this.target, "fire function", err));
      }
    }
    // Waiters run after the site returned its decision (a microtask later), so a parked hit is
    // already parked when the test's wait() resumes.
    queueMicrotask(() => this.notify());
  }

  /**
   * Parks an async call: the returned promise is its pause. It resolves when the test releases the
   * call, or to `{ throw }` when the call's own timeout passes first.
   */
  private park(hit: Hit): Promise<{ throw: { error: unknown } } | undefined> {
    return new Promise((resolve) => {
      hit.parkState = "parked";
      this.parkedHits.add(hit);
      const timer = after(this.timeoutMs, () => {
        if (hit.parkState !== "parked") return;
        hit.parkState = "timed out";
        hit.resume = undefined;
        this.parkedHits.delete(hit);
        const error = new BreakpointTimeoutError(this.target, this.timeoutMs);
        this.problems.push(error);
        resolve({ throw: { error } });
      });
      hit.resume = () => {
        cancel(timer);
        resolve(undefined);
      };
    });
  }

  /** Whether a call of `fn` can be held on this thread at `event`; a misuse is recorded if not. */
  private canHold(fn: FunctionInfo | undefined, event: BreakpointEvent, isAsync: boolean): boolean {
    if (isAsync) return true;
    this.misuse(
      `Breakpoint on ${this.target} caught a call at "${event}" of a synchronous function on the test's own thread, ` +
        `where it cannot be parked (blocking the thread would freeze the test itself); the call went on. Run that code ` +
        `in a worker thread with bp.startWorker(moduleUrl, exportName, ...args), or break on an async function.`,
    );
    return false;
  }

  private misuse(message: string): void {
    if (this.fatal !== undefined) return;
    const error = new BreakpointMisuseError(message);
    this.fatal = error;
    this.problems.push(error);
    queueMicrotask(() => this.failWaiters(error));
  }

  private problem(error: unknown): void {
    this.problems.push(error);
  }

  /** The watch failed (target missing in a module loaded later, or an internal error). */
  private fail(error: unknown): void {
    if (this.fatal !== undefined) return;
    this.fatal = error;
    this.problems.push(error);
    this.failWaiters(error);
  }

  // -------------------------------------------------------------------------------------------
  // worker threads

  private readonly workerSink: WorkerSink = {
    workerHit: (host, m) => this.workerHit(host, m),
    workerTimeout: (host, seq) => {
      for (const h of this.parkedHits) {
        if (h.thread === host.threadId && h.seq === seq) {
          h.parkState = "timed out";
          h.resume = undefined;
          this.parkedHits.delete(h);
        }
      }
      this.problems.push(new BreakpointTimeoutError(this.target, this.timeoutMs));
    },
    workerState: (state, error) => {
      if (state === "failed") this.fail(error);
    },
    taskEnded: () => this.notify(),
  };

  private workerHit(host: WorkerHost, m: Extract<FromWorker, { type: "hit" }>): void {
    const go = () => host.answer({ seq: m.seq, action: "go" });
    if (this.disarmed) {
      go();
      return;
    }
    const call = this.calls++;
    if (!this.accepts(call, m.self, m.args) || (this.once && this.totalHits > 0)) {
      go();
      return;
    }
    // The worker's clock has another origin: its timestamp is converted to this thread's.
    const hit = new Hit(
      this.target,
      m.event,
      call,
      m.args,
      m.self,
      m.locals,
      m.result,
      m.error,
      m.stack,
      host.threadId,
      m.at - performance.timeOrigin,
    );
    hit.seq = m.seq;
    this.record(hit, host.task);
    const answer = workerAnswer(this.action, m.seq);
    if (answer !== "park") {
      host.answer(answer);
      return;
    }
    hit.parkState = "parked";
    this.parkedHits.add(hit);
    hit.resume = go;
  }

  // -------------------------------------------------------------------------------------------
  // ending

  private disarm(): void {
    if (this.disarmed) return;
    this.disarmed = true;
    this.watch.close();
    for (const w of this.workers) w.disarm();
    this.signal?.removeEventListener("abort", this.onAbort);
  }

  /** The signal aborted: disarm, release everything, fail the waits. */
  private abort(): void {
    const error = new BreakpointAbortedError(this.target, this.signal?.reason);
    this.disarm();
    this.releaseAll();
    if (this.fatal === undefined) this.fatal = error;
    this.failWaiters(error);
  }

  /** One paragraph of state for timeout messages. */
  private describeState(): string {
    const tasks =
      this.tasks.length === 0
        ? "No task was started with start()/startWorker()."
        : `Tasks: ${this.tasks.map((t) => t.describe()).join("; ")}.`;
    return (
      `${this.hitCount} hit(s) since the last release (${this.totalHits} in all), ${this.calls} call(s) reached "${this.event}", ` +
      `${this.parkedHits.size} parked. ${tasks}`
    );
  }

  /**
   * Disarms the site, releases every parked call, waits (at most `timeoutMs`) for the started tasks,
   * and throws what went wrong: errors of tasks nobody awaited (except errors a breakpoint
   * injected), parked calls that timed out, misuse, and "Breakpoint condition on <target> was not
   * met" when no call ever met the condition. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async doClose(): Promise<void> {
    this.disarm();
    this.releaseAll();
    this.failWaiters(
      new BreakpointMisuseError(`Breakpoint on ${this.target} was closed while a wait was in progress.`),
    );
    const problems = [...this.problems];
    const running = this.tasks.filter((t) => t.state === "running");
    if (running.length > 0) {
      let timer: TimerHandle | undefined;
      await Promise.race([
        Promise.all(running.map((t) => t.done)),
        new Promise<void>((r) => (timer = after(this.timeoutMs, r))),
      ]);
      cancel(timer);
    }
    for (const t of this.tasks) {
      if (t.state === "running") {
        problems.push(
          new BreakpointWaitTimeoutError(
            this.target,
            this.timeoutMs,
            `${t.label} to end after dispose`,
            t.describe() + ".",
          ),
        );
        await t.stop?.().catch(() => {});
      }
    }
    await Promise.all(this.workers.map((w) => w.terminate().catch(() => {})));
    // Problems found while waiting for the tasks (a parked call that timed out meanwhile).
    for (const p of this.problems) if (!problems.includes(p)) problems.push(p);
    const seen = new Set(problems.map((p) => describeError(p)));
    for (const t of this.tasks) {
      if (t.state !== "threw" || t.observed || wasInjected(t.error)) continue;
      if (problems.includes(t.error) || seen.has(describeError(t.error))) continue;
      problems.push(t.error);
    }
    if (this.totalHits === 0 && !problems.some((p) => p === this.fatal && !(p instanceof BreakpointAbortedError))) {
      problems.push(new BreakpointConditionNotMetError(this.target, unmetDetail(this.condition, this.calls)));
    }
    if (problems.length === 1) throw problems[0];
    if (problems.length > 1) throw new BreakpointErrors(this.target, problems);
  }

  private checkOpen(what: string): void {
    if (this.closing !== undefined)
      throw new BreakpointMisuseError(`Breakpoint on ${this.target} is closed: ${what} cannot start work.`);
  }
}
