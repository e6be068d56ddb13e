/**
 * The slice of ts-patch's plugin contract the adapter relies on, declared here so the published
 * types do not depend on ts-patch (it is a tool the user runs, not a dependency of ours). Matches
 * ts-patch 3 (`ProgramPattern`, `TransformerExtras`) and ts-patch 4.
 *
 * TypeScript is imported for types only: at run time the adapter uses the instance ts-patch hands
 * over in the plugin's third argument (`extras.ts`, TransformerExtras), so one build of the plugin serves TypeScript 5.9 and 6.
 */
import type * as TS from "typescript";

export type TypeScript = typeof TS;

/** What ts-patch passes as the third argument of a "program" pattern plugin. */
export interface TransformerExtras {
  /** The TypeScript instance that is compiling (the patched `tsc`, `typescript` or tsserver). */
  ts: TypeScript;
  /** Which library the plugin runs in: "tsc", "typescript", "tsserver"… */
  library?: string;
  /** Reports a diagnostic with the program's own (tsc prints it and sets the exit code). */
  addDiagnostic(diagnostic: TS.Diagnostic): number;
  removeDiagnostic?(index: number): void;
  diagnostics?: readonly TS.Diagnostic[];
}

/**
 * What the plugin returns: the transformer that runs before TypeScript's own; `after` and
 * `afterDeclarations` only report a misconfigured entry (ts-patch uses the list the entry asks for).
 */
export interface DiagnoseTransformers {
  before: TS.TransformerFactory<TS.SourceFile>[];
  after?: TS.TransformerFactory<TS.SourceFile>[];
  afterDeclarations?: TS.TransformerFactory<TS.SourceFile | TS.Bundle>[];
}

/**
 * The options of the tsconfig `plugins` entry, besides ts-patch's own keys:
 *
 * ```json
 * { "transform": "diagnose/transformer", "include": ["src/**"], "manifest": "diagnose-sites.json" }
 * ```
 */
export interface DiagnosePluginConfig {
  /** Globs of module paths (relative to `root`) to instrument. Default: every emitted source file. */
  include?: string[];
  /** Globs of module paths to leave alone; wins over `include`. */
  exclude?: string[];
  /** Where to write the site manifest (`diagnose-sites.json`), relative to the tsconfig. Default: none. */
  manifest?: string;
  /** Project root, relative to the tsconfig; module paths are relative to it. Default: the folder of the nearest package.json. */
  root?: string;
  /** Compile in argument replacement (instrument()'s `replaceArguments`). Default: false. */
  replaceArguments?: boolean;
  /**
   * Where warnings (a function or file left uninstrumented) go: "stderr" (default) prints them in
   * tsc's format without failing the build; "diagnostics" reports them as tsc diagnostics, which
   * makes tsc exit with status 2.
   */
  warnings?: "stderr" | "diagnostics";
}
