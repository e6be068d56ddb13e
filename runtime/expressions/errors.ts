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

/**
 * A JavaScript expression (an instrument created in code) in a realm that refuses code generation
 * from strings (`node --disallow-code-generation-from-strings`): it cannot be compiled. Safe
 * expressions (`expressions: "safe"`, every spec from a store) are interpreted there instead.
 */
export class CodeGenerationRefusedError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_CODE_GENERATION_REFUSED";
  /** The expression text as given. */
  readonly expression: string;
  constructor(expression: string, role: string) {
    super(
      CodeGenerationRefusedError.CODE,
      `The ${role} expression ${JSON.stringify(expression)} is JavaScript, and JavaScript expressions need code ` +
        `generation from strings, which this process refuses (node --disallow-code-generation-from-strings, or a ` +
        `context without code generation). Write it as a safe expression (the instrument option ` +
        `expressions: "safe", the language of store specs): safe expressions are evaluated without generating code. ` +
        `A bare name (e.g. "result") also works as JavaScript.`,
    );
    this.expression = expression;
  }
}
