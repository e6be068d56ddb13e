/**
 * Typed errors of `diagnose/instrument`. Callers (the Node loader, the ts-patch plugin, bundler
 * plugins) tell a user mistake (bad options) from a broken source (syntax error) by class.
 */

/** The options passed to `instrument()` are invalid; the message says which one and why. */
export class InstrumentOptionsError extends Error {
  override readonly name = "InstrumentOptionsError";
  /** The option that was wrong, e.g. `"module"`. */
  readonly option: string;

  constructor(option: string, message: string) {
    super(`diagnose/instrument: option "${option}": ${message}`);
    this.option = option;
  }
}

/** The source does not parse. The message starts with `file:line:column` (column 1-based). */
export class InstrumentSyntaxError extends SyntaxError {
  override readonly name = "InstrumentSyntaxError";
  /** The file name as passed to `instrument()`. */
  readonly file: string;
  /** 1-based line of the error. */
  readonly line: number;
  /** 0-based column (UTF-16 code units) of the error; the message shows it 1-based. */
  readonly column: number;
  /** The parser's own explanation, e.g. "Expression expected". */
  readonly reason: string;

  constructor(file: string, line: number, column: number, reason: string) {
    super(`${file}:${line}:${column + 1}: ${reason}`);
    this.file = file;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}
