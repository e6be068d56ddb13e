/**
 * `diagnose/instrument`: the compiler-agnostic instrumenting core. Give it source text, get back
 * the same text with a guarded hook site at every function entry, exit and statement line, a
 * source map and the module's site table. Adapters (ts-patch, the Node loader, bundlers) are thin
 * layers over `instrument()`.
 */
import { analyze, isSkipped, type Analysis } from "./analyze.js";
import { DEFERRED_COPIES_ABI } from "../abi/index.js";
import { deferredCopies } from "./deferred.js";
import { applyInsertions, applyPlan, headerRange, outputText, planInsertions } from "./edit.js";
import { headerCode } from "./header.js";
import { generateMap } from "./source-map.js";
import type { InstrumentOptions, InstrumentResult, ModuleSites } from "./types.js";

export { TransformOptionsError, InstrumentSyntaxError } from "./errors.js";
export { MissingDependencyError } from "./dependencies.js";
export { copyTextHash } from "./deferred.js";
export type {
  DeferredCopies,
  FunctionEntry,
  FunctionKind,
  InstrumentOptions,
  InstrumentResult,
  InstrumentWarning,
  ModuleFormat,
  ModuleSites,
  SiteEntry,
  SourceMapV3,
} from "./types.js";

/**
 * Instruments one file. TypeScript stays TypeScript (types are stripped by whoever compiles
 * next); JavaScript stays JavaScript. Throws InstrumentSyntaxError for a source that does not
 * parse and TransformOptionsError for bad options; never returns broken code: a function it
 * cannot instrument safely stays as it was, with a warning.
 */
export function instrument(code: string, filename: string, options?: InstrumentOptions): InstrumentResult {
  const analysis = analyze(code, filename, options);
  if (isSkipped(analysis))
    return {
      code,
      map: null,
      sites: null,
      warnings: analysis.warning ? [analysis.warning] : [],
      header: null,
      skipped: analysis.skipped,
    };
  const plan = planInsertions(analysis);
  const deferring = analysis.options.deferCopies && plan.copies.length > 0;
  const output = applyPlan(code, plan, analysis.names, analysis.typed !== null, deferring);
  let copies: InstrumentResult["copies"];
  if (deferring) {
    copies = deferredCopies(output.deferred!, filename, analysis.options.sourceMap);
    // The table names the copy text; an ABI-3 runtime refuses such a table (abi/index.ts).
    analysis.table.abi = DEFERRED_COPIES_ABI;
    analysis.table.c = copies.hash;
    const header = plan.main.find((insertion) => insertion.header !== undefined)!;
    const prefix = header.text.slice(0, header.header!.prefix);
    header.text = prefix + headerCode(analysis.table, analysis.format, analysis.names.handle, analysis.typed);
    // The header's insertion was applied already: build the module text again.
    output.main = applyInsertions(code, plan.main);
  }
  return {
    code: outputText(output),
    header: headerRange(plan.main),
    map: analysis.options.sourceMap ? generateMap(output, filename, analysis.options.inputSourceMap) : null,
    sites: moduleSites(analysis),
    warnings: analysis.warnings,
    ...(copies !== undefined ? { copies } : {}),
  };
}

/**
 * The manifest entry of an analysed module, for the adapters in this folder (the tsc plugin).
 * Not public: its argument is the transformer's internal analysis; users get the same entry as
 * `instrument(...).sites`.
 * @internal
 */
export function moduleSites(analysis: Analysis): ModuleSites {
  return {
    module: analysis.module,
    package: analysis.package,
    hash: analysis.hash,
    functions: analysis.functions.map((fn) => ({
      name: fn.qualifiedName,
      path: fn.path,
      line: fn.line,
      column: fn.column,
      kind: fn.kind,
      async: fn.async,
      generator: fn.generator,
      params: fn.params,
      sites: fn.sites.map((id) => {
        const site = analysis.sites[id]!;
        return { id, kind: site.kind, line: site.line, column: site.column, locals: site.locals };
      }),
    })),
  };
}
