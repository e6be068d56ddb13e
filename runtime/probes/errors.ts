/**
 * Typed errors of the probes-and-instruments layer. They extend the registry's DiagnoseError, so
 * `instanceof DiagnoseError` and the stable `code` work the same across the whole package.
 */
import { DiagnoseError } from "../../errors/index.js";

export { ExpressionSyntaxError, UnknownNameError } from "../expressions/errors.js";
export { InstrumentOptionsError, InstrumentValueError, InvalidEventError } from "../instruments/errors.js";

/** `new Probe(target)` for a target that already has a probe: use `probes.attachTo(target)`. */
export class ProbeExistsError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_PROBE_EXISTS";
  readonly target: string;
  constructor(target: string) {
    super(
      ProbeExistsError.CODE,
      `A probe for ${JSON.stringify(target)} already exists: call probes.attachTo(${JSON.stringify(target)}) ` +
        `to get it instead of constructing a second one.`,
    );
    this.target = target;
  }
}

/**
 * `sensor()` (or another caller that needs the target now) on a target whose module has not
 * registered: nothing could be recorded.
 */
export class TargetNotLoadedError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_TARGET_NOT_LOADED";
  readonly target: string;
  constructor(target: string, nearestModules: readonly string[]) {
    const hint = nearestModules.length > 0 ? ` Registered modules nearest to it: ${nearestModules.join(", ")}.` : " No instrumented module has registered yet.";
    super(
      TargetNotLoadedError.CODE,
      `The module of ${JSON.stringify(target)} has not loaded: import it (built with Diagnose) before attaching, ` +
        `or check the module part of the name (a path relative to the project root, with its source extension).${hint}`,
    );
    this.target = target;
  }
}
