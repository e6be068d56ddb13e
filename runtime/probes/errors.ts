/**
 * Typed errors of the probes-and-instruments layer. They extend the registry's DiagnoseError, so
 * `instanceof DiagnoseError` and the stable `code` work the same across the whole package.
 */
import { DiagnoseError } from "../../errors/index.js";

export { CodeGenerationRefusedError, ExpressionSyntaxError, UnknownNameError } from "../expressions/errors.js";
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
    const hint =
      nearestModules.length > 0
        ? ` Registered modules nearest to it: ${nearestModules.join(", ")}.`
        : " No instrumented module has registered yet.";
    super(
      TargetNotLoadedError.CODE,
      `The module of ${JSON.stringify(target)} has not loaded: import it (built with Diagnose) before attaching, ` +
        `or check the module part of the name (a path relative to the project root, with its source extension).${hint}`,
    );
    this.target = target;
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
      expression === undefined
        ? `Spec expression failed: ${reason}.`
        : `Spec expression ${JSON.stringify(expression)} failed: ${reason}.`,
    );
    this.expression = expression;
    this.reason = reason;
  }
}
