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

/**
 * A spec expression (the safe language of store specs) uses something the language refuses: a
 * method call, `new`, an assignment, a function, a forbidden name, a text over the size limits….
 * Thrown when the expression is compiled (at apply time), or when a computed key names a
 * forbidden property at evaluation.
 */
export class UnsafeExpressionError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_UNSAFE_EXPRESSION";
  /** The expression text (cut to 200 characters). */
  readonly expression: string;
  /** What was refused, e.g. "`process`" or "a method call `.trim()`". */
  readonly construct: string;
  /** 1-based column of the construct in the text, when known. */
  readonly column: number | undefined;
  constructor(expression: string, construct: string, why: string, column?: number, advice?: string) {
    const shown = expression.length > 200 ? expression.slice(0, 197) + "..." : expression;
    super(
      UnsafeExpressionError.CODE,
      `Spec expression ${JSON.stringify(shown)} uses ${construct}${column === undefined ? "" : ` (column ${column})`}, ` +
        `${why}; ${advice ?? SAFE_NAMES_ADVICE}`,
    );
    this.expression = shown;
    this.construct = construct;
    this.column = column;
  }
}

/** What a spec expression can use, quoted by every refusal that has no more specific advice. @internal */
export const SAFE_NAMES_ADVICE =
  "they can read the event's names (args, result, the parameters, …), the manager's globalNamespace and the " +
  "helpers len, mag, keys, startsWith, endsWith, includes, lower, upper, str, num, round, floor, ceil, abs, min, " +
  "max, has, isoDate (see docs/expressions.md).";

/** A spec expression failed while evaluating (e.g. it read a member of undefined). */
export class ExpressionEvaluationError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_EXPRESSION_EVALUATION";
  /** The expression text, when known. */
  readonly expression: string | undefined;
  /** What went wrong, without the expression. */
  readonly reason: string;
  constructor(expression: string | undefined, reason: string) {
    super(
      ExpressionEvaluationError.CODE,
      expression === undefined ? `Spec expression failed: ${reason}.` : `Spec expression ${JSON.stringify(expression)} failed: ${reason}.`,
    );
    this.expression = expression;
    this.reason = reason;
  }
}
