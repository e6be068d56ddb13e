/**
 * Typed errors of `diagnose/instrument`. Callers (the Node loader, the ts-patch plugin, bundler
 * plugins) tell a user mistake (bad options) from a broken source (syntax error) by class or by
 * `code`. Both extend DiagnoseError, the package's one error root.
 *
 * Column convention (shared with the loader's DiagnoseSyntaxError): `line` and `column` of an
 * error are 1-based, as printed in its message and in stack traces. Site tables and manifests keep
 * their own 0-based columns (docs/site-abi.md).
 */
import { DiagnoseError } from "../errors/index.js";

/**
 * The options passed to `instrument()` (or to the tsc plugin) are invalid; the message says which
 * one and why. Not the runtime's InstrumentOptionsError, which is about a probe's instrument.
 */
export class TransformOptionsError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_TRANSFORM_OPTIONS";
  /** The option that was wrong, e.g. `"module"`. */
  readonly option: string;

  constructor(option: string, message: string) {
    super(TransformOptionsError.CODE, `diagnose/instrument: option "${option}": ${message}`);
    this.option = option;
  }
}

/**
 * The source cannot be instrumented as text: it does not parse, or it nests deeper than the
 * parser can take. The message starts with `file:line:column`.
 */
export class InstrumentSyntaxError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_INSTRUMENT_SYNTAX";
  /** The file name as passed to `instrument()`. */
  readonly file: string;
  /** 1-based line of the error. */
  readonly line: number;
  /** 1-based column (UTF-16 code units) of the error, as in the message. */
  readonly column: number;
  /** The parser's own explanation, e.g. "Expression expected". */
  readonly reason: string;

  constructor(file: string, line: number, column: number, reason: string) {
    super(InstrumentSyntaxError.CODE, `${file}:${line}:${column}: ${reason}`);
    this.file = file;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}
