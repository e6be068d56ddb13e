/**
 * Typed errors of the probes-and-instruments layer. They extend the registry's DiagnoseError, so
 * `instanceof DiagnoseError` and the stable `code` work the same across the whole package.
 */
import { DiagnoseError } from "../../errors/index.js";

/** An instrument's `value`, `custom.tags` or `custom.condition` is not one valid expression. */
export class ExpressionSyntaxError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_EXPRESSION_SYNTAX";
  /** The expression text as given. */
  readonly expression: string;
  constructor(expression: string, role: string, reason: string, options?: { cause?: unknown }) {
    super(
      ExpressionSyntaxError.CODE,
      `Invalid ${role} expression ${JSON.stringify(expression)}: ${reason}. ` +
        `Write one JavaScript expression over the event's names, e.g. "result" or "args.length".`,
      options,
    );
    this.expression = expression;
  }
}

/** An `event` that is not "call", "return", "end" or "line:N". */
export class InvalidEventError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_INVALID_EVENT";
  readonly event: unknown;
  constructor(event: unknown) {
    super(
      InvalidEventError.CODE,
      `Invalid instrument event ${JSON.stringify(event) ?? String(event)}: use "call", "return" (the default), ` +
        `"end", or "line:N" with N a line number of the target's file.`,
    );
    this.event = event;
  }
}

/** Instrument options or a probe operation that is not of the documented shape. */
export class InstrumentOptionsError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_INSTRUMENT_OPTIONS";
  constructor(message: string) {
    super(InstrumentOptionsError.CODE, message);
  }
}

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

/** A value an instrument cannot send (e.g. a non-numeric metric), or tags that are not an object. */
export class InstrumentValueError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_INSTRUMENT_VALUE";
  constructor(message: string) {
    super(InstrumentValueError.CODE, message);
  }
}

/** A bare-name expression naming nothing in the event, the global namespace or `globalThis`. */
export class UnknownNameError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_UNKNOWN_NAME";
  /** The name that was not found. */
  readonly identifier: string;
  constructor(name: string, available: readonly string[]) {
    super(
      UnknownNameError.CODE,
      `${JSON.stringify(name)} is not defined for this event. Names here: ${available.join(", ") || "(none)"}.`,
    );
    this.identifier = name;
  }
}
