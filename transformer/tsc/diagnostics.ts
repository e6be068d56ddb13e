/**
 * Diagnostics the plugin reports through ts-patch's `addDiagnostic`: tsc prints them with its own
 * (`file(line,col): error TS99001: …`) and an error sets its exit code. Codes are stable, so users
 * can grep for them; messages say what was wrong and what to do.
 */
import type * as TS from "typescript";
import type { TypeScript } from "./types.js";

export const DiagnosticCode = {
  /** A bad option in the plugin's tsconfig entry; nothing is instrumented. */
  config: 99001,
  /** The compilation target is below ES2017; nothing is instrumented. */
  target: 99002,
  /** A file could not be analysed (e.g. a syntax the instrumenter's parser rejects); it is emitted uninstrumented. */
  analysis: 99003,
  /** A function the instrumenter leaves alone (the message says why); the rest of the file is instrumented. */
  function: 99004,
  /** The TypeScript tree did not match the analysis at some position; the file is emitted uninstrumented. */
  mismatch: 99005,
  /** The site manifest could not be written. */
  manifest: 99006,
} as const;

const PREFIX = "diagnose/transformer: ";

export interface DiagnosticSink {
  error(code: number, message: string, at?: { file: TS.SourceFile; start: number; length?: number }): void;
  warning(code: number, message: string, at?: { file: TS.SourceFile; start: number; length?: number }): void;
}

/**
 * Wraps ts-patch's `addDiagnostic`. A report never throws, whatever the host does with it.
 * Warnings go to `warn` when given (tsc fails the build on any diagnostic, warnings included).
 */
export function diagnosticSink(
  ts: TypeScript,
  add: (d: TS.Diagnostic) => unknown,
  warn?: (d: TS.Diagnostic) => void,
): DiagnosticSink {
  const report = (
    category: TS.DiagnosticCategory,
    code: number,
    message: string,
    at?: { file: TS.SourceFile; start: number; length?: number },
  ): void => {
    const diagnostic: TS.Diagnostic = {
      category,
      code,
      messageText: PREFIX + message,
      file: at?.file,
      start: at?.start,
      length: at ? (at.length ?? 0) : undefined,
      source: "diagnose",
    };
    try {
      if (warn !== undefined && category === ts.DiagnosticCategory.Warning) warn(diagnostic);
      else add(diagnostic);
    } catch {
      // Diagnostics are advisory; a host that cannot take one must not break the build.
    }
  };
  return {
    error: (code, message, at) => report(ts.DiagnosticCategory.Error, code, message, at),
    warning: (code, message, at) => report(ts.DiagnosticCategory.Warning, code, message, at),
  };
}

/**
 * Where `key` of the plugin entry is written in the tsconfig, so a config diagnostic points at it.
 * Best effort: the entry may come from an extended config, then the diagnostic has no position.
 */
export function locateInConfig(
  configFile: TS.SourceFile | undefined,
  transform: string,
  key: string,
): { file: TS.SourceFile; start: number; length: number } | undefined {
  if (!configFile || typeof configFile.text !== "string") return undefined;
  const text = configFile.text;
  const entry = text.indexOf(JSON.stringify(transform));
  if (entry < 0) return undefined;
  // The entry is the object around the "transform" value: search its key from the object's start.
  const objectStart = text.lastIndexOf("{", entry);
  const quoted = JSON.stringify(key);
  const at = text.indexOf(quoted, objectStart >= 0 ? objectStart : entry);
  if (at >= 0) return { file: configFile, start: at, length: quoted.length };
  return { file: configFile, start: entry, length: JSON.stringify(transform).length };
}

/** Where a compiler option (e.g. `"target"`) is written in the tsconfig, if it is written there. */
export function locateOption(
  configFile: TS.SourceFile | undefined,
  key: string,
): { file: TS.SourceFile; start: number; length: number } | undefined {
  if (!configFile || typeof configFile.text !== "string") return undefined;
  const quoted = JSON.stringify(key);
  const at = configFile.text.indexOf(quoted);
  return at >= 0 ? { file: configFile, start: at, length: quoted.length } : undefined;
}

/** Prints a diagnostic on stderr in tsc's own `file(line,col): warning TS…: message` format. */
export function printToStderr(ts: TypeScript, currentDirectory: string): (d: TS.Diagnostic) => void {
  const host: TS.FormatDiagnosticsHost = {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => currentDirectory,
    getNewLine: () => "\n",
  };
  return (d) => process.stderr.write(ts.formatDiagnostics([d], host));
}
