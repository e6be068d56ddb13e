/**
 * Errors of failpoints (docs/breakpoints.md, "Failpoints in running services"). Each has a stable
 * `code`; the refusals reach the spec's status as one sentence, the injected error reaches the
 * code that called the target.
 */
import { DiagnoseError } from "../../errors/index.js";

/** A failpoint spec (`pause`, `error`, `delay`) arrived while this process has failpoints off. */
export class FailpointsOffError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_FAILPOINTS_OFF";
  constructor(type: string) {
    super(
      FailpointsOffError.CODE,
      `failpoints are off in this process; start the manager with failpoints: true to apply a ${JSON.stringify(type)} spec.`,
    );
  }
}

/** A failpoint spec whose fields cannot be used (out of range, wrong type, unknown, sync target). */
export class FailpointSpecError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_FAILPOINT_SPEC";
  constructor(message: string) {
    super(FailpointSpecError.CODE, message);
  }
}

/** What an `error` failpoint throws into the call it caught. */
export class InjectedFailpointError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_FAILPOINT";
  /** The spec instrument's `name`. */
  readonly failpoint: string;
  /** The qualified name of the function that threw it. */
  readonly target: string;
  constructor(failpoint: string, target: string, message: string) {
    super(InjectedFailpointError.CODE, message);
    this.failpoint = failpoint;
    this.target = target;
  }
}
