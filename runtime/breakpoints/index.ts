/**
 * Breakpoints: deterministic tests of concurrent code (docs/breakpoints.md). Park a call at a
 * named site, do what must happen while it waits, release it.
 */
export { Breakpoint } from "./breakpoint.js";
export type { BreakpointOptions, WaitOptions } from "./breakpoint.js";
export { run, RunChain, RunResult } from "./run.js";
export { Hit } from "./hit.js";
export type { BreakpointEvent } from "./hit.js";
export type { Condition, Predicate } from "./conditions.js";
export { TaskPromise } from "./tasks.js";
export {
  BreakpointAbortedError,
  BreakpointCallbackError,
  BreakpointConditionNotMetError,
  BreakpointErrors,
  BreakpointMisuseError,
  BreakpointTimeoutError,
  BreakpointWaitTimeoutError,
  BreakpointWorkerError,
} from "./errors.js";
