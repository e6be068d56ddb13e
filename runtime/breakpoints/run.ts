/**
 * `run(fn, ...args)`: the seed's fluent `do(...)` helper (`do` is a reserved word). Awaiting the
 * chain starts `fn(...args)` in the background and resolves once the condition is met:
 *
 *   await using r = await run(man.addMints, 4).until("src/man.ts:Man.addMint").returns.once;
 *
 * - `.until(target)`: the matching call is parked there (a block breakpoint);
 * - `.beyond(target)`: it is let through, and waited for until it returned (or threw, `.errors`);
 * - `.errorOn(target, error)`: it throws `error` at the site;
 * - `.returns` / `.errors`: catch it at its return / when it throws instead of at the call;
 * - `.where(n | [n…] | predicate)`: which call; `.once`: act on the first matching call only;
 * - `.with({ timeoutMs, signal })`: breakpoint options.
 */
import { Breakpoint, type BreakpointOptions, type WaitOptions } from "./breakpoint.js";
import type { Condition } from "./conditions.js";
import { BreakpointErrors, BreakpointMisuseError } from "./errors.js";
import type { BreakpointEvent, Hit } from "./hit.js";
import type { TaskPromise } from "./tasks.js";

type Mode = { kind: "until" } | { kind: "beyond" } | { kind: "errorOn"; error: unknown };
type Where = [target: string] | [owner: object, method: string];

/** What an awaited `run()` chain gives: the breakpoint, the hit, and the started call. */
export class RunResult implements AsyncDisposable {
  /** @internal */
  constructor(
    /** The breakpoint the chain set. */
    readonly bp: Breakpoint,
    /** The hit that met the condition. */
    readonly hit: Hit,
    /** The started call; awaiting it hands its outcome to you (dispose then does not rethrow its error). */
    readonly task: TaskPromise<unknown>,
  ) {}

  /** Each started call's outcome, filled as they finish. */
  get results(): readonly PromiseSettledResult<unknown>[] {
    return this.bp.results;
  }

  /** The calls parked now. */
  get parked(): readonly Hit[] {
    return this.bp.parked;
  }

  /** See `Breakpoint.release`. */
  release(hit?: Hit): void {
    this.bp.release(hit);
  }

  /** See `Breakpoint.wait`. */
  wait(options?: WaitOptions): Promise<Hit> {
    return this.bp.wait(options);
  }

  /** Disposes the breakpoint: releases, awaits the call, reports its errors. */
  close(): Promise<void> {
    return this.bp.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.bp.close();
  }
}

export class RunChain implements PromiseLike<RunResult> {
  private mode: Mode | undefined;
  private site: Where | undefined;
  private event: BreakpointEvent | undefined;
  private condition: Condition | undefined;
  private onlyOnce = false;
  private options: Omit<BreakpointOptions, "event" | "condition" | "once"> = {};
  private started: Promise<RunResult> | undefined;

  /** @internal */
  constructor(
    private readonly fn: (...args: unknown[]) => unknown,
    private readonly args: unknown[],
  ) {}

  /** Park the matching call of `target`. */
  until(target: string): this;
  until(owner: object, method: string): this;
  until(...where: Where): this {
    return this.set({ kind: "until" }, where);
  }

  /** Let the matching call of `target` through, and resolve once it returned (`.errors`: threw). */
  beyond(target: string): this;
  beyond(owner: object, method: string): this;
  beyond(...where: Where): this {
    return this.set({ kind: "beyond" }, where);
  }

  /** Make the matching call of `target` throw `error`. */
  errorOn(target: string, error: unknown): this;
  errorOn(owner: object, method: string, error: unknown): this;
  errorOn(...a: [string, unknown] | [object, string, unknown]): this {
    return a.length === 2
      ? this.set({ kind: "errorOn", error: a[1] }, [a[0]])
      : this.set({ kind: "errorOn", error: a[2] }, [a[0], a[1]]);
  }

  /** Catch the call after its body, with its result. */
  get returns(): this {
    this.event = "return";
    return this;
  }

  /** Catch the call when it throws. */
  get errors(): this {
    this.event = "error";
    return this;
  }

  /** Only the n-th call (from 0), the listed ones, or those the predicate accepts. */
  where(condition: Condition): this {
    this.condition = condition;
    return this;
  }

  /** Act on the first matching call only. */
  get once(): this {
    this.onlyOnce = true;
    return this;
  }

  /** Breakpoint options (`timeoutMs`, `signal`, `fire`). */
  with(options: Omit<BreakpointOptions, "event" | "condition" | "once">): this {
    this.options = { ...this.options, ...options };
    return this;
  }

  // The chain is awaited on purpose (`await run(fn).until(t)` starts it): a thenable by design.
  // biome-ignore lint/suspicious/noThenProperty: the fluent helper is awaited as the issue specifies
  then<A = RunResult, B = never>(
    onFulfilled?: ((value: RunResult) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.started ??= this.go();
    return this.started.then(onFulfilled, onRejected);
  }

  private set(mode: Mode, where: Where): this {
    if (this.mode !== undefined)
      throw new BreakpointMisuseError("run(): choose one of .until(), .beyond() and .errorOn().");
    this.mode = mode;
    this.site = where;
    return this;
  }

  private async go(): Promise<RunResult> {
    const mode = this.mode;
    const where = this.site;
    if (mode === undefined || where === undefined) {
      throw new BreakpointMisuseError(
        "run(fn): say where to stop with .until(target), .beyond(target) or .errorOn(target, error) before awaiting.",
      );
    }
    const options: BreakpointOptions = { ...this.options, once: this.onlyOnce };
    if (this.condition !== undefined) options.condition = this.condition;
    const event = this.event ?? (mode.kind === "beyond" ? "return" : "call");
    options.event = event;
    const bp = make(mode, where, options);
    const task = bp.start(this.fn, ...this.args);
    try {
      const hit = await bp.wait();
      return new RunResult(bp, hit, task);
    } catch (waitError) {
      try {
        await bp.close();
      } catch (closeError) {
        throw new BreakpointErrors(bp.target, [waitError, closeError]);
      }
      throw waitError;
    }
  }
}

function make(mode: Mode, where: Where, options: BreakpointOptions): Breakpoint {
  const [a, b] = where as [string | object, string | undefined];
  switch (mode.kind) {
    case "until":
      return b === undefined ? Breakpoint.block(a as string, options) : Breakpoint.block(a as object, b, options);
    case "beyond":
      return b === undefined ? new Breakpoint(a as string, options) : new Breakpoint(a as object, b, options);
    case "errorOn":
      return b === undefined
        ? Breakpoint.error(mode.error, a as string, options)
        : Breakpoint.error(mode.error, a as object, b, options);
  }
}

/** Starts building a `run()` chain for `fn(...args)`; nothing runs until the chain is awaited. */
export function run<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): RunChain {
  return new RunChain(fn as (...args: unknown[]) => unknown, args);
}
