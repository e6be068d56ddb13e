/**
 * Errors of the Breakpoint helper. Each has a stable `code`; every message says what happened and
 * what to do about it.
 */
import { DiagnoseError, describeError } from "../../errors/index.js";

/**
 * A parked call's own timeout passed before the test released it: thrown into the call at its site
 * ("Breakpoint on <target> timed out after <n> ms"), and reported again when the breakpoint is
 * disposed.
 */
export class BreakpointTimeoutError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_BREAKPOINT_TIMEOUT";
  readonly target: string;
  readonly timeoutMs: number;
  constructor(target: string, timeoutMs: number) {
    super(
      BreakpointTimeoutError.CODE,
      `Breakpoint on ${target} timed out after ${timeoutMs} ms: the call was parked and never released. ` +
        `Call bp.release() once the test has done its work, or raise \`timeoutMs\`.`,
    );
    this.target = target;
    this.timeoutMs = timeoutMs;
  }
}

/** The test's `wait()` / `waitUntil()` ran out of time. Every parked call was released. */
export class BreakpointWaitTimeoutError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_BREAKPOINT_WAIT_TIMEOUT";
  readonly target: string;
  constructor(target: string, timeoutMs: number, what: string, state: string) {
    super(
      BreakpointWaitTimeoutError.CODE,
      `Breakpoint on ${target}: waited ${timeoutMs} ms for ${what}, in vain. ${state} ` +
        `Every parked call was released.`,
    );
    this.target = target;
  }
}

/** Dispose found that the breakpoint's condition was never met. */
export class BreakpointConditionNotMetError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_BREAKPOINT_CONDITION_NOT_MET";
  readonly target: string;
  constructor(target: string, detail: string) {
    super(BreakpointConditionNotMetError.CODE, `Breakpoint condition on ${target} was not met${detail}`);
    this.target = target;
  }
}

/** The test aborted (its `signal`, e.g. node:test's `t.signal` on a test timeout). */
export class BreakpointAbortedError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_BREAKPOINT_ABORTED";
  readonly target: string;
  constructor(target: string, reason: unknown) {
    super(
      BreakpointAbortedError.CODE,
      `Breakpoint on ${target} was aborted by its signal (${describeError(reason)}); every parked call was released.`,
      { cause: reason },
    );
    this.target = target;
  }
}

/**
 * The breakpoint was used in a way that cannot work: a synchronous call asked to park on the
 * test's own thread, an unknown option, a target that cannot be resolved.
 */
export class BreakpointMisuseError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_BREAKPOINT_MISUSE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(BreakpointMisuseError.CODE, message, options);
  }
}

/** Code the test gave the breakpoint (a predicate condition, a `fire` function) threw. */
export class BreakpointCallbackError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_BREAKPOINT_CALLBACK";
  constructor(target: string, what: string, cause: unknown) {
    super(BreakpointCallbackError.CODE, `Breakpoint on ${target}: the ${what} threw: ${describeError(cause)}`, {
      cause,
    });
  }
}

/** Dispose found several problems (task errors, an unmet condition, …): all are in `errors`. */
export class BreakpointErrors extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_BREAKPOINT_ERRORS";
  readonly errors: readonly unknown[];
  constructor(target: string, errors: readonly unknown[]) {
    super(
      BreakpointErrors.CODE,
      `Breakpoint on ${target}: ${errors.length} problems when it was closed:\n` +
        errors.map((e, i) => `  ${i + 1}. ${describeError(e)}`).join("\n"),
    );
    this.errors = errors;
  }
}

/** A task started with `startWorker()` failed in a way that has no error of its own. */
export class BreakpointWorkerError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_BREAKPOINT_WORKER";
  constructor(message: string, options?: { cause?: unknown }) {
    super(BreakpointWorkerError.CODE, message, options);
  }
}
