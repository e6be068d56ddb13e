/**
 * What tsc will emit for a file: its module format (which header the ABI asks for) and whether the
 * target keeps the instrumented code inside the functions it was written in.
 *
 * TypeScript computes both internally (`program.getEmitModuleFormatOfFile`, `getEmitScriptTarget`);
 * they are used when present, with a fallback on the public options for other versions.
 */
import type * as TS from "typescript";
import type { OutputModuleFormat } from "../header.js";
import type { TypeScript } from "./types.js";

/** The lowest target the plugin instruments (see `targetProblem`). */
export const MIN_TARGET_NAME = "ES2017";

interface InternalTs {
  getEmitScriptTarget?(options: TS.CompilerOptions): TS.ScriptTarget;
  getEmitModuleKind?(options: TS.CompilerOptions): TS.ModuleKind;
}
interface InternalProgram {
  getEmitModuleFormatOfFile?(file: TS.SourceFile): TS.ModuleKind;
}

export function emitTarget(ts: TypeScript, options: TS.CompilerOptions): TS.ScriptTarget {
  const internal = (ts as unknown as InternalTs).getEmitScriptTarget;
  if (typeof internal === "function") return internal(options);
  // TypeScript < 6 defaults to ES5, 6 to the latest standard; only an explicit target matters here.
  return options.target ?? ts.ScriptTarget.ES5;
}

/**
 * Why the target cannot be instrumented, or undefined. Below ES2017, tsc rewrites async functions
 * into generator callbacks (`__awaiter`) and, below ES2015, renames block-scoped bindings and turns
 * generators into state machines: the site code would move away from the locals it names.
 */
export function targetProblem(ts: TypeScript, options: TS.CompilerOptions): string | undefined {
  const target = emitTarget(ts, options);
  if (target >= ts.ScriptTarget.ES2017) return undefined;
  const name = ts.ScriptTarget[target] ?? String(target);
  return (
    `"target": "${name}" is below ${MIN_TARGET_NAME}; no file is instrumented. ` +
    `Below ES2017 tsc moves async function bodies into generator callbacks (and below ES2015 renames block-scoped variables), ` +
    `so hook sites could not see the function's own locals. Set "target" to "${MIN_TARGET_NAME}" or later ` +
    `(Node 20 supports ES2023), or remove the diagnose/transformer plugin from this tsconfig.`
  );
}

/**
 * The runtime format of `file`'s output: "esm" when tsc emits an ES module (module es2015…esnext,
 * preserve, or node16/nodenext for a file whose implied format is ESM), "cjs" for CommonJS (and the
 * other function-wrapped formats: the header statement is the first of the module body), "script"
 * for a file without imports or exports emitted as an ES script.
 */
export function outputFormat(ts: TypeScript, program: TS.Program, file: TS.SourceFile): OutputModuleFormat {
  const options = program.getCompilerOptions();
  let kind: TS.ModuleKind | undefined;
  const perFile = (program as unknown as InternalProgram).getEmitModuleFormatOfFile;
  if (typeof perFile === "function") {
    kind = perFile.call(program, file);
  } else {
    const moduleKind =
      (ts as unknown as InternalTs).getEmitModuleKind?.(options) ?? options.module ?? ts.ModuleKind.CommonJS;
    const nodeLike = moduleKind >= ts.ModuleKind.Node16 && moduleKind <= ts.ModuleKind.NodeNext;
    kind = nodeLike ? (file.impliedNodeFormat ?? ts.ModuleKind.CommonJS) : moduleKind;
  }
  const esm =
    kind >= ts.ModuleKind.ES2015 && kind !== ts.ModuleKind.Preserve
      ? true
      : kind === ts.ModuleKind.Preserve
        ? !usesCommonJsSyntax(ts, file)
        : false;
  if (!ts.isExternalModule(file)) return esm ? "script" : "cjs";
  return esm ? "esm" : "cjs";
}

/** `module: preserve` keeps `import x = require()` / `export =`: such a file stays CommonJS. */
function usesCommonJsSyntax(ts: TypeScript, file: TS.SourceFile): boolean {
  return file.statements.some(
    (s) =>
      (ts.isImportEqualsDeclaration(s) && ts.isExternalModuleReference(s.moduleReference)) ||
      (ts.isExportAssignment(s) && s.isExportEquals === true),
  );
}

/**
 * True when tsc will put a `"use strict"` prologue in front of the file's output (CommonJS modules
 * always, other files under `alwaysStrict`, ES modules never), so the adapter writes that directive
 * itself with the marker comment on it: tsc keeps an existing one instead of adding its own, and
 * the marker stays the first line of the output.
 */
export function tscAddsUseStrict(
  ts: TypeScript,
  options: TS.CompilerOptions,
  file: TS.SourceFile,
  format: OutputModuleFormat,
): boolean {
  if (format === "esm") return false;
  if (format === "cjs" && ts.isExternalModule(file)) return true;
  const strictOption = (ts as unknown as { getStrictOptionValue?(o: TS.CompilerOptions, flag: string): boolean })
    .getStrictOptionValue;
  return typeof strictOption === "function"
    ? strictOption(options, "alwaysStrict")
    : (options.alwaysStrict ?? options.strict ?? false);
}
