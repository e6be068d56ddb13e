/**
 * Typed errors of the registry. Each extends the package's one error root (errors/) and carries a
 * stable `code`.
 */

import { DiagnoseError } from "../../errors/index.js";

export { DiagnoseError };

/** A target string that is not of the form `module:path`. */
export class InvalidTargetError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_INVALID_TARGET";
  readonly target: string;
  constructor(target: string) {
    super(
      InvalidTargetError.CODE,
      `Invalid target ${JSON.stringify(target)}: expected a qualified name "module:path", ` +
        `e.g. "src/shop/cart.ts:Cart.total".`,
    );
    this.target = target;
  }
}

/** The target's module is loaded, but it has no function of that path. */
export class TargetNotFoundError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_TARGET_NOT_FOUND";
  readonly target: string;
  /** Up to 3 existing qualified names nearest to the target (edit distance), best first. */
  readonly suggestions: readonly string[];
  constructor(target: string, suggestions: readonly string[]) {
    const hint =
      suggestions.length > 0
        ? ` Did you mean ${suggestions.map((s) => JSON.stringify(s)).join(", ")}?`
        : " The module has no instrumented functions.";
    super(
      TargetNotFoundError.CODE,
      `No function ${JSON.stringify(target)}: its module is loaded but has no such function.${hint}`,
    );
    this.target = target;
    this.suggestions = suggestions;
  }
}

/** Lines were requested that have no line site in the target function. */
export class LineNotFoundError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_LINE_NOT_FOUND";
  readonly target: string;
  /** The requested lines without a site. */
  readonly lines: readonly number[];
  /** The lines of the function that do have a line site. */
  readonly available: readonly number[];
  constructor(target: string, lines: readonly number[], available: readonly number[]) {
    super(
      LineNotFoundError.CODE,
      `${JSON.stringify(target)} has no line site at line${lines.length > 1 ? "s" : ""} ${lines.join(", ")}. ` +
        (available.length > 0
          ? `Lines with sites: ${available.join(", ")}.`
          : "The function has no line sites (was it instrumented with line sites?)."),
    );
    this.target = target;
    this.lines = lines;
    this.available = available;
  }
}

/** Watch options that are not of the documented shape. */
export class InvalidOptionsError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_INVALID_OPTIONS";
  constructor(message: string) {
    super(InvalidOptionsError.CODE, message);
  }
}

/** This realm's registry slot is held by a registry of another site ABI version. */
export class AbiMismatchError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_ABI_MISMATCH";
  constructor(found: unknown, expected: number) {
    super(
      AbiMismatchError.CODE,
      `Another copy of diagnose owns this realm's registry with site ABI ${String(found)}; this copy ` +
        `speaks ABI ${expected}, so it cannot watch anything. Install a single version of diagnose ` +
        `(check \`npm ls diagnose\`) and rebuild instrumented code with it.`,
    );
  }
}

/** A watcher asked to pause a function that cannot await (a synchronous function or generator). */
export class PauseNotAwaitableError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_PAUSE_NOT_AWAITABLE";
  constructor(target: string) {
    super(
      PauseNotAwaitableError.CODE,
      `${JSON.stringify(target)} is not async: a pause promise cannot be awaited there and was ignored. ` +
        `To pause synchronous code, block a worker thread with SyncGate.wait().`,
    );
  }
}

/** A watcher returned a decision of the wrong shape, or a non-Error was thrown by a watcher. */
export class WatcherError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_WATCHER_ERROR";
  constructor(message: string, options?: { cause?: unknown }) {
    super(WatcherError.CODE, message, options);
  }
}

/** SyncGate misuse: waiting on the main thread, or a missing/infinite timeout. */
export class SyncPauseError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_SYNC_PAUSE";
  constructor(message: string) {
    super(SyncPauseError.CODE, message);
  }
}

/**
 * A probe needs an outlined function whose copy was deferred (site ABI 4), and its copy text could
 * not be evaluated: not found, not matching its hash, code generation from strings refused
 * (`--disallow-code-generation-from-strings`), or it threw. The function's probes stay off.
 */
export class CopiesUnavailableError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_COPIES_UNAVAILABLE";
  /** The module path of the table. */
  readonly module: string;
  constructor(module: string, cause: string, options?: { cause?: unknown }) {
    super(
      CopiesUnavailableError.CODE,
      `Cannot watch outlined functions of ${JSON.stringify(module)}: ${cause}. Its deferred copies ` +
        `(site ABI 4) were not created, so probes on them stay off.`,
      options,
    );
    this.module = module;
  }
}
