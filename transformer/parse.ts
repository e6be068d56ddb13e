/**
 * The one SWC parse of a file. Everything after this works on the returned AST plus the
 * original text; nothing re-parses in the product path.
 */
import type { ParseOptions } from "@swc/core";
import { swc } from "./dependencies.js";
import type { Program } from "./ast.js";
import { InstrumentSyntaxError } from "./errors.js";
import { createPositions, type Positions } from "./positions.js";

export type SourceLanguage = "ts" | "tsx" | "js" | "jsx";

export interface ParsedSource {
  program: Program;
  positions: Positions;
  /** True when the file contains import/export declarations. */
  hasModuleSyntax: boolean;
}

/** The language of a file by its extension; `undefined` for declarations or unknown extensions. */
export function languageOf(filename: string, jsxOption: boolean | undefined): SourceLanguage | undefined {
  const lower = filename.toLowerCase();
  if (/\.d\.[cm]?ts$/.test(lower) || /\.d\.[^/\\]*\.ts$/.test(lower)) return undefined;
  if (/\.[cm]?ts$/.test(lower)) return jsxOption ? "tsx" : "ts";
  if (lower.endsWith(".tsx")) return jsxOption === false ? "ts" : "tsx";
  if (/\.[cm]?js$/.test(lower)) return jsxOption ? "jsx" : "js";
  if (lower.endsWith(".jsx")) return jsxOption === false ? "js" : "jsx";
  return undefined;
}

const MODULE_DECLARATIONS = new Set([
  "ImportDeclaration",
  "ExportDeclaration",
  "ExportNamedDeclaration",
  "ExportDefaultDeclaration",
  "ExportDefaultExpression",
  "ExportAllDeclaration",
]);

/** Parses with SWC: TypeScript with decorators (legacy and TC39 both parse), or ECMAScript. */
export function parseSource(code: string, filename: string, language: SourceLanguage): ParsedSource {
  const options: ParseOptions =
    language === "ts" || language === "tsx"
      ? { syntax: "typescript", tsx: language === "tsx", decorators: true, target: "esnext" }
      : {
          syntax: "ecmascript",
          jsx: language === "jsx",
          decorators: true,
          decoratorsBeforeExport: false,
          target: "esnext",
        };
  // Outside the try: a missing compiler is not a syntax error in the user's file.
  const { parseSync } = swc();
  let program: Program;
  try {
    // "unknown": a file without import/export parses as a script (sloppy mode, `with`, …).
    program = parseSync(code, { ...options, isModule: "unknown" } as unknown as ParseOptions) as unknown as Program;
  } catch (error) {
    throw toSyntaxError(error, filename);
  }
  const positions = createPositions(code, program.span.start);
  let hasModuleSyntax = false;
  for (const item of program.body) {
    if (MODULE_DECLARATIONS.has(item.type)) {
      hasModuleSyntax = true;
      break;
    }
  }
  return { program, positions, hasModuleSyntax };
}

/**
 * SWC throws a rendered diagnostic: "  x Reason\n   ,-[line:col]\n 3 | source\n   :    ^".
 * The header's column is not always the error's, so the column is read off the caret line.
 */
export function toSyntaxError(error: unknown, filename: string): InstrumentSyntaxError {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split("\n");
  const reason = (lines.find((l) => /^\s*[x×]\s/.test(l)) ?? lines[0] ?? "syntax error")
    .replace(/^\s*[x×]\s+/, "")
    .trim();
  let line = 1;
  let column = 0;
  const header = /,-\[(?:[^\]]*?:)?(\d+):(\d+)\]/.exec(text);
  if (header) {
    line = Number(header[1]);
    column = Number(header[2]) - 1;
  }
  const sourceRow = lines.findIndex((l) => new RegExp(`^\\s*${line} \\|`).test(l));
  if (sourceRow >= 0) {
    const caretRow = lines.slice(sourceRow + 1).find((l) => /^\s*:\s*\^/.test(l) || /^\s*:.*\^/.test(l));
    const bar = lines[sourceRow]!.indexOf("|");
    if (caretRow !== undefined && bar >= 0) column = Math.max(0, caretRow.indexOf("^") - bar - 2);
  }
  return new InstrumentSyntaxError(filename, line, column + 1, reason);
}
