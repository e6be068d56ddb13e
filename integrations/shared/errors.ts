/**
 * Errors the integrations raise for bad input: a syntax error names the file, line and column the
 * way Node does for plain JavaScript, with the offending line shown. Lines and columns are 1-based
 * (transformer/errors.ts has the convention).
 */
import { DiagnoseError } from "../../errors/index.js";

/**
 * A source file that does not parse. `message` is `file:line:column: what is wrong`. Its `name`
 * stays "SyntaxError", so Node reports it as it reports a syntax error in plain JavaScript.
 */
export class DiagnoseSyntaxError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_SYNTAX";
  override readonly name = "SyntaxError";
  /** Absolute path of the file. */
  declare readonly file: string;
  /** 1-based. */
  declare readonly line: number;
  /** 1-based, as in stack traces. */
  declare readonly column: number;
  /** What is wrong, without the location. */
  declare readonly reason: string;

  constructor(file: string, line: number, column: number, reason: string, source?: string) {
    super(DiagnoseSyntaxError.CODE, `${file}:${line}:${column}: ${reason}`);
    // Non-enumerable, so that Node's report of an uncaught error stays the message and the frame.
    for (const [key, value] of Object.entries({ file, line, column, reason })) {
      Object.defineProperty(this, key, { value, enumerable: false });
    }
    // The stack of an error raised while loading points into the loader, which helps nobody; show
    // the offending source line instead, as Node does for a syntax error in plain JavaScript.
    const text = source?.split(/\r?\n/)[line - 1];
    const frame = text === undefined ? "" : `${text}\n${" ".repeat(Math.max(0, column - 1))}^\n\n`;
    this.stack = `${file}:${line}\n${frame}${this.name}: ${this.message}\n    at ${file}:${line}:${column}`;
  }
}

/**
 * Turns a parse failure (from SWC or from `instrument()`) into a DiagnoseSyntaxError when the
 * location can be found in it; returns any other error unchanged.
 */
export function toSyntaxError(error: unknown, file: string, source: string): unknown {
  if (error instanceof DiagnoseSyntaxError) return error;
  const e = error as { line?: unknown; column?: unknown; message?: unknown; reason?: unknown } | null;
  const text = typeof error === "string" ? error : typeof e?.message === "string" ? e.message : undefined;
  if (e !== null && typeof e === "object" && typeof e.line === "number" && typeof e.column === "number") {
    const reason = typeof e.reason === "string" ? e.reason : firstLine(text ?? "syntax error");
    return new DiagnoseSyntaxError(file, e.line, e.column, stripLocation(reason, file), source);
  }
  if (text === undefined) return error;
  const located = parseSwcDiagnostic(text);
  if (located === undefined) return error;
  return new DiagnoseSyntaxError(file, located.line, located.column, located.reason, source);
}

/**
 * Reads SWC's diagnostic format:
 * ```
 *   x Expected ',', got 'ident'
 *    ,-[/tmp/t.ts:3:1]
 *  3 | foo(a b);
 *    :       ^
 * ```
 */
export function parseSwcDiagnostic(text: string): { line: number; column: number; reason: string } | undefined {
  const lines = text.split("\n");
  const reasonLine = lines.find((l) => /^\s*[x×]\s+/.test(l));
  let lastLine: number | undefined;
  for (const l of lines) {
    const numbered = /^\s*(\d+)\s\|/.exec(l);
    if (numbered !== null) {
      lastLine = Number(numbered[1]);
      continue;
    }
    const caret = /^(\s*:\s)(.*?)\^/.exec(l);
    if (caret !== null && lastLine !== undefined) {
      const reason = reasonLine === undefined ? "syntax error" : reasonLine.replace(/^\s*[x×]\s+/, "").trim();
      return { line: lastLine, column: caret[2]!.length + 1, reason };
    }
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.trim();
}

function stripLocation(reason: string, file: string): string {
  return reason.startsWith(file + ":") ? reason.replace(/^[^\s]*:\d+:\d+:?\s*/, "") : reason;
}
