/**
 * Public types of `diagnose/instrument`.
 */
import type {
  FunctionKind,
  ManifestFunction as FunctionEntry,
  ManifestSite as SiteEntry,
  ModuleSites,
} from "../abi/manifest-format.js";
import type { InstrumentWarning } from "./model.js";

export type { FunctionEntry, FunctionKind, InstrumentWarning, ModuleSites, SiteEntry };

/** The runtime module format of the instrumented OUTPUT. */
export type ModuleFormat = "esm" | "cjs" | "script";

/** A version 3 source map as a plain object. */
export interface SourceMapV3 {
  version: 3;
  file?: string | null;
  sourceRoot?: string;
  sources: (string | null)[];
  sourcesContent?: (string | null)[];
  names: string[];
  mappings: string;
}

export interface InstrumentOptions {
  /** Project root; module paths are relative to it. Default: the folder of the nearest package.json above the file. */
  root?: string;
  /** Package name recorded in the table. Default: `name` of that package.json, "" if none. */
  packageName?: string;
  /**
   * Runtime format of the output. `"esm"` adds a `data:` import that defines the flags before any
   * other import runs; `"cjs"`/`"script"` define them in the header statement. Default: `"esm"`
   * for .mjs/.mts, `"cjs"` for .cjs/.cts, otherwise `"esm"` if the file has import/export
   * declarations, else `"script"`. If a later compiler turns ESM syntax into CommonJS, pass "cjs".
   */
  module?: ModuleFormat;
  /** Produce a source map (default true). */
  sourceMap?: boolean;
  /** The map of the code passed in (from an earlier stage); the result maps to its sources. */
  inputSourceMap?: SourceMapV3 | string | null;
  /** Globs (`**`, `*`, `?`) of module paths (relative to root) to instrument. Default: all. */
  include?: readonly string[];
  /** Globs of module paths to leave alone; wins over `include`. */
  exclude?: readonly string[];
  /** Parse JSX. Default: by extension (.tsx, .jsx). */
  jsx?: boolean;
  /**
   * Compile in argument replacement: entry code that assigns the arguments an `onEntry` watcher
   * returns as `{ args }` (docs/site-abi.md). Default false: the entry site only reports the
   * arguments (smaller functions that V8 keeps inlining), and the runtime refuses an `args`
   * decision with an error naming the function.
   */
  replaceArguments?: boolean;
  /**
   * Default true: a small module-level function keeps its plain body behind one guard, and its
   * instrumented body becomes a separate function at the end of the module that runs only while
   * one of its probes is on (docs/site-abi.md, "Outlined functions").
   * Its off cost is then one flag check, so V8 keeps inlining it. The price: those functions'
   * code appears twice in the output, and while a probe is on in one, stack traces through it show
   * one extra frame (the copy, under the original's name). `false`: every function is instrumented
   * in place.
   */
  outline?: boolean;
  /**
   * TypeScript input: annotate everything the output adds so it type-checks wherever the original
   * did (docs/instrument.md, "Type-checking instrumented sources"), for pipelines that type-check
   * instrumented sources (ts-jest with diagnostics, ts-loader, `tsc --noEmit`). Default false:
   * integrations that compile the output at once need plain JavaScript syntax in the header.
   */
  types?: boolean;
  /**
   * Site ABI 4 (docs/site-abi.md, "Deferred copies"): the module keeps only the outlined functions'
   * plain bodies behind their guards; the code that creates their instrumented copies is returned
   * apart, as `InstrumentResult.copies`, and the runtime evaluates it (in the module's scope) the
   * first time a probe needs an outlined function of the module. Functions over the inline
   * outlining limit are outlined too (their site code then costs the module nothing). The caller
   * must make the copy text available to the runtime (runtime `addCopies`; the Node loader, which
   * defers copies by default, does); until then probes on outlined functions fail with
   * `CopiesUnavailableError`. JavaScript output only (not with `types: true`). Default false.
   */
  deferCopies?: boolean;
}

/** The deferred copy text of a module (`deferCopies`). */
export interface DeferredCopies {
  /** Lower-case hex sha256 of `text`: the module's table names it (`c`), the runtime checks it. */
  hash: string;
  /**
   * JavaScript that creates the copies when evaluated in the module's scope. Each copy starts on
   * its original line (the text is padded with newlines), and the text ends with
   * `//# sourceURL=<filename>`, so a stack through a copy names the original file and line.
   */
  text: string;
  /**
   * Source map of `text` to the original file (null when `sourceMap: false`): for a later stage
   * that rewrites the text (a type strip), whose own map it composes with this one.
   */
  map: SourceMapV3 | null;
}

export interface InstrumentResult {
  code: string;
  /** Source map of `code` (composed with `inputSourceMap`), or null when disabled or unchanged. */
  map: SourceMapV3 | null;
  /** Sites of the module, or null if the file was skipped. */
  sites: ModuleSites | null;
  /** Functions left uninstrumented and why. */
  warnings: InstrumentWarning[];
  /**
   * Where the header is in `code`: `[start, end)` UTF-16 offsets of the registration statement
   * (ESM: preceded by the `data:` flag-definer import), on one line. Integrations that convert to
   * CommonJS move this range after the `require`s their compiler hoists. Null if skipped.
   */
  header: { start: number; end: number } | null;
  /** With `deferCopies` and at least one outlined function: the copy text; otherwise absent. */
  copies?: DeferredCopies;
  /** Why the file was returned unchanged (already instrumented, excluded, ignore comment, …). */
  skipped?: string;
}
