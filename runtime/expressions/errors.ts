/** Typed errors of instrument expressions (codes stable across the package; see errors/index.ts). */
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
