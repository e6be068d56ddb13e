/**
 * Background tasks: calls a breakpoint started (`start`, `startWorker`, `run`). Each keeps its
 * result or error (nothing is lost, unlike the seed's threads), knows where it is parked, and
 * remembers whether the test looked at its outcome: dispose rethrows only errors nobody awaited.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { describeError } from "../../errors/index.js";
import { now } from "./clock.js";
import type { Hit } from "./hit.js";

/** The task a hit on the test's thread belongs to: async context follows the task's calls. */
export const taskContext = new AsyncLocalStorage<Task>();

/**
 * The promise `start()` returns. Awaiting it (or calling `then`/`catch`) tells the breakpoint the
 * test handles its outcome, so dispose does not rethrow its error.
 */
export class TaskPromise<T> extends Promise<T> {
  /** Derived promises are plain ones. */
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }
  /** @internal */
  task: Task | undefined;

  // biome-ignore lint/suspicious/noThenProperty: a Promise subclass that notes whether the test awaited it
  override then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    if (this.task !== undefined) this.task.observed = true;
    return super.then(onFulfilled, onRejected);
  }
}

let nextId = 1;

export class Task {
  readonly id = nextId++;
  state: "running" | "returned" | "threw" = "running";
  value: unknown = undefined;
  error: unknown = undefined;
  /** The hit this task is parked at, if any. */
  parkedAt: Hit | undefined = undefined;
  /** The test awaited the task's promise or collected it with `join()`. */
  observed = false;
  /** Settles (never rejects) when the task ends. */
  readonly done: Promise<void>;
  readonly started = now();
  private finish!: () => void;

  constructor(
    readonly label: string,
    /** Stops the task when it outlives dispose's deadline (workers); undefined: it cannot be stopped. */
    readonly stop: (() => Promise<void>) | undefined = undefined,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  settle(outcome: { value: unknown } | { error: unknown }): void {
    if (this.state !== "running") return;
    if ("error" in outcome) {
      this.state = "threw";
      this.error = outcome.error;
    } else {
      this.state = "returned";
      this.value = outcome.value;
    }
    this.parkedAt = undefined;
    this.finish();
  }

  get result(): PromiseSettledResult<unknown> | undefined {
    if (this.state === "returned") return { status: "fulfilled", value: this.value };
    if (this.state === "threw") return { status: "rejected", reason: this.error };
    return undefined;
  }

  /** One line for timeout and dispose messages. */
  describe(): string {
    const head = `task ${this.id} (${this.label})`;
    if (this.state === "returned") return `${head} returned`;
    if (this.state === "threw") return `${head} threw ${describeError(this.error)}`;
    const p = this.parkedAt;
    if (p !== undefined && p.parked) {
      return `${head} is parked at ${p.target} ("${p.event}", call #${p.call}) for ${Math.round(now() - p.time)} ms`;
    }
    return `${head} is running (${Math.round(now() - this.started)} ms, not parked here)`;
  }
}

/** A promise that follows `task`: settled by the returned functions, observed through `then`. */
export function taskPromise<T>(task: Task): {
  promise: TaskPromise<T>;
  ok: (value: unknown) => void;
  fail: (error: unknown) => void;
} {
  let resolveP!: (v: T) => void;
  let rejectP!: (e: unknown) => void;
  const promise = new TaskPromise<T>((res, rej) => {
    resolveP = res;
    rejectP = rej;
  });
  promise.task = task;
  // The promise is ours to observe: an error nobody awaited is reported by dispose, never as an
  // unhandled rejection.
  Promise.prototype.then.call(promise, undefined, () => {});
  return {
    promise,
    ok: (value) => {
      task.settle({ value });
      resolveP(value as T);
    },
    fail: (error) => {
      task.settle({ error });
      rejectP(error);
    },
  };
}

/** Runs `fn` as a task on this thread: its calls carry the task in their async context. */
export function startLocal<T>(fn: () => T, label: string): { task: Task; promise: TaskPromise<Awaited<T>> } {
  const task = new Task(label);
  const { promise, ok, fail } = taskPromise<Awaited<T>>(task);
  taskContext.run(task, () => {
    try {
      const out = fn();
      if (
        out !== null &&
        (typeof out === "object" || typeof out === "function") &&
        typeof (out as unknown as PromiseLike<unknown>).then === "function"
      ) {
        Promise.resolve(out).then(ok, fail);
      } else ok(out);
    } catch (err) {
      fail(err);
    }
  });
  return { task, promise };
}

export function labelOf(fn: unknown): string {
  try {
    const name = (fn as { name?: unknown }).name;
    return typeof name === "string" && name !== "" ? `${name}()` : "anonymous function";
  } catch {
    return "function";
  }
}
