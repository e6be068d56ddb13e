/**
 * The one compile pipeline behind the Node loader (ESM hooks and the CommonJS require hook):
 * source → `instrument()` → SWC type stripping (or, with DIAGNOSE_STRIP=in-place, a strip that
 * keeps positions where the file allows: strip-in-place.ts) → composed source map, inlined.
 *
 * `compileModule` keeps results in memory per file, format and content hash, so a file that several
 * threads' requests load (the hooks thread of `module.register()`), or a Jest worker transforms
 * again, is compiled once per thread; the loader compiling in the application's own thread uses
 * `compileModuleUncached` (integrations/node/transform.ts).
 */
import { createHash } from "node:crypto";
import { basename, dirname } from "node:path";
import { pathToFileURL } from "node:url";
import type { Options as SwcOptions } from "@swc/core";
import { magicString, remapping, swc } from "../../transformer/dependencies.js";
import { copyTextHash, instrument, type DeferredCopies } from "../../transformer/index.js";
import { textNestingProblem } from "../../transformer/nesting.js";
import type { ModuleSites } from "../../abi/manifest-format.js";
import { type DiagnoseConfig, isTypeScriptFile } from "./config.js";
import { DiagnoseSyntaxError, toSyntaxError } from "./errors.js";
import { afterPrologue, blankOut } from "./header.js";
import { inPlaceRequested, stripInPlace } from "./strip-in-place.js";
import { compilerOptionsFor } from "./tsconfig.js";

export type ModuleFormat = "module" | "commonjs";

export interface CompileRequest {
  /** Absolute path of the source file. */
  readonly filename: string;
  /** The format Node runs the output as. */
  readonly format: ModuleFormat;
  /** Insert hook sites (the file is included); otherwise only strip types. */
  readonly instrument: boolean;
  readonly config: DiagnoseConfig;
  /**
   * Defer the outlined functions' copies (site ABI 4, docs/site-abi.md "Deferred copies"): the
   * result's `copies` holds their text, which the caller must hand to the runtime's copy store.
   * Only where `defersCopies` allows; other files keep their copies inline.
   */
  readonly deferCopies?: boolean;
  /**
   * Whether the inline source map carries the original text (`sourcesContent`; default true). The
   * Node loader leaves it out unless asked (`DIAGNOSE_SOURCE_MAPS=full`): Node keeps every
   * module's map in its heap, and reads the original file itself when it prints a source line.
   */
  readonly sourcesContent?: boolean;
}

/** A module's deferred copy text, ready to evaluate, and its sha256 (the table's `c`). */
export interface CompiledCopies {
  readonly hash: string;
  readonly text: string;
}

export interface CompiledModule {
  /** JavaScript with an inline source map pointing at the original file. */
  readonly code: string;
  /** The module's manifest entry; undefined when the file was not instrumented. */
  readonly sites: ModuleSites | undefined;
  /** Functions the instrumenter left alone, and why. */
  readonly warnings: readonly string[];
  /** With `deferCopies` and outlined functions: their copy text (the module's table names its hash). */
  readonly copies?: CompiledCopies | undefined;
}

interface RawMap {
  version: number;
  mappings: string;
  sources: (string | null)[];
  names: string[];
  sourcesContent?: (string | null)[] | undefined;
  file?: string | null | undefined;
  sourceRoot?: string | undefined;
}

const cache = new Map<string, CompiledModule>();

/** Compiles one module for Node (see the module comment). Throws DiagnoseSyntaxError on bad syntax. */
export function compileModule(source: string, request: CompileRequest): CompiledModule {
  const key = `${request.filename}\0${request.format}\0${request.instrument ? (request.deferCopies === true ? 2 : 1) : 0}\0${hashText(source)}`;
  let result = cache.get(key);
  if (result === undefined) {
    result = compileUncached(source, request);
    cache.set(key, result);
  }
  return result;
}

/**
 * Whether the loader can defer a file's copies: not for `.tsx`/`.jsx` (the copies would need the
 * JSX transform's imports), nor for TypeScript compiled to CommonJS (SWC's module transform renames
 * imported bindings, `helper` → `(0, _lib.helper)`, which copy text stripped on its own would not
 * see). ES module output keeps the bindings' names.
 */
export function defersCopies(filename: string, format: ModuleFormat): boolean {
  if (/\.[jt]sx$/.test(filename)) return false;
  return !(format === "commonjs" && isTypeScriptFile(filename));
}

/** 1-based line and 0-based column of an index. */
function lineColumnAt(code: string, index: number): { line: number; column: number } {
  const before = code.slice(0, index);
  const lastBreak = before.lastIndexOf("\n");
  return { line: before.split("\n").length, column: index - lastBreak - 1 };
}

function compileUncached(source: string, request: CompileRequest): CompiledModule {
  const { filename, format } = request;
  let code = source;
  const maps: RawMap[] = [];
  let sites: ModuleSites | undefined;
  let warnings: string[] = [];
  let header: string | undefined;
  let nestingChecked = false;
  let copies: CompiledCopies | undefined;

  if (request.instrument) {
    let out: ReturnType<typeof instrument>;
    try {
      out = instrument(source, filename, {
        root: request.config.root,
        module: format === "module" ? "esm" : "cjs",
        sourceMap: true,
        deferCopies: request.deferCopies === true && defersCopies(filename, format),
      });
    } catch (error) {
      throw toSyntaxError(error, filename, source);
    }
    warnings = out.warnings.map((w) => w.message);
    nestingChecked = out.skipped === undefined;
    if (out.skipped === undefined && out.sites !== null) {
      code = out.code;
      if (out.copies !== undefined) {
        copies = compileCopies(out.copies, filename);
        // The table names the text that will run: the stripped one (a hex string, unique in the code).
        code = code.replace(`c:"${out.copies.hash}"`, `c:"${copies.hash}"`);
      }
      sites = out.sites;
      if (out.map !== null) maps.unshift(normaliseMap(out.map));
      if (format === "commonjs" && sites !== undefined && isTypeScriptFile(filename)) {
        // See header.ts: SWC would hoist its requires above the header.
        const span: [number, number] | undefined = out.header === null ? undefined : [out.header.start, out.header.end];
        if (span !== undefined) {
          header = code.slice(span[0], span[1]);
          code = blankOut(code, span);
        }
      }
    }
  }

  if (isTypeScriptFile(filename) || filename.endsWith(".jsx")) {
    // SWC would overflow the native stack and kill the process (transformer/nesting.ts). An
    // instrument() that went past its checks has measured this very text already.
    const deep = nestingChecked ? undefined : textNestingProblem(source);
    if (deep !== undefined) {
      const { line, column } = lineColumnAt(source, deep.index);
      throw new DiagnoseSyntaxError(
        filename,
        line,
        column + 1,
        `nests ${deep.what} more than ${deep.limit} levels deep, more than the compiler can take; split the expression`,
        source,
      );
    }
    // Positions kept: the maps so far (the instrumenter's) already describe the output.
    const stripped =
      header === undefined && inPlaceRequested()
        ? stripInPlace(code, filename, format, compilerOptionsFor(dirname(filename)))
        : undefined;
    code = stripped ?? swcStrip(code, filename, format, maps, source);
  }
  if (header !== undefined) {
    const s = new (magicString().default)(code);
    s.appendLeft(afterPrologue(code), "\n" + header + "\n");
    code = s.toString();
    maps.unshift(s.generateMap({ hires: "boundary", source: filename }) as unknown as RawMap);
  }

  if (maps.length > 0) code = withComposedMap(code, maps, filename, request.sourcesContent === false ? null : source);
  return { code, sites, warnings, copies };
}

/**
 * The copy text as it will run: types stripped (TypeScript) by SWC as a script, with an inline
 * source map to the original file, named `<file URL>?diagnose-copies`. Not the module's own URL:
 * Node looks a module's map up first by the frame's URL, and would map the copies' lines through it.
 */
function compileCopies(copies: DeferredCopies, filename: string): CompiledCopies {
  const cut = copies.text.lastIndexOf("\n//# sourceURL=");
  let text = cut >= 0 ? copies.text.slice(0, cut) : copies.text;
  const maps: RawMap[] = copies.map === null ? [] : [normaliseMap(copies.map)];
  if (isTypeScriptFile(filename)) {
    const { transformSync } = swc();
    // The module's own options (tsconfig, decorators), but as a script: the text is evaluated by
    // the binder, not imported.
    const out = transformSync(text, { ...swcOptions(filename, "module"), isModule: false });
    text = out.code;
    if (out.map !== undefined) maps.unshift(JSON.parse(out.map) as RawMap);
  }
  const url = pathToFileURL(filename).href;
  if (maps.length > 0) {
    const composed = maps.length === 1 ? maps[0]! : (remapping()(maps as never, () => null) as unknown as RawMap);
    composed.sources = [url];
    delete composed.sourcesContent;
    delete composed.sourceRoot;
    text +=
      "\n//# sourceMappingURL=data:application/json;charset=utf-8;base64," +
      Buffer.from(JSON.stringify(composed)).toString("base64");
  }
  text += `\n//# sourceURL=${url}?diagnose-copies`;
  return { hash: copyTextHash(text), text };
}

/** SWC's transform of `code` (types, modules, decorators, JSX); its map goes first into `maps`. */
function swcStrip(code: string, filename: string, format: ModuleFormat, maps: RawMap[], source: string): string {
  // Outside the try: a missing compiler is not a syntax error in the user's file.
  const { transformSync } = swc();
  let out: { code: string; map?: string };
  try {
    out = transformSync(code, swcOptions(filename, format));
  } catch (error) {
    throw toSyntaxError(error, filename, maps.length === 0 ? source : code);
  }
  if (out.map !== undefined) maps.unshift(JSON.parse(out.map) as RawMap);
  return out.code;
}

/**
 * `code` with one inline source map to `source`, composed from `maps` (the last stage's map first):
 * any inline map the code carries is replaced. `source` null: the map names the file without
 * carrying its text.
 */
export function withComposedMap(
  code: string,
  maps: readonly unknown[],
  filename: string,
  source: string | null,
): string {
  const raw = maps.map(normaliseMap);
  const composed = raw.length === 1 ? raw[0]! : (remapping()(raw as never, () => null) as unknown as RawMap);
  // Sources relative to the module's own URL: stack traces then name the original file.
  composed.sources = [basename(filename)];
  if (source === null) delete composed.sourcesContent;
  else composed.sourcesContent = [source];
  composed.file = basename(filename);
  delete composed.sourceRoot;
  return (
    stripSourceMapComment(code) +
    "\n//# sourceMappingURL=data:application/json;charset=utf-8;base64," +
    Buffer.from(JSON.stringify(composed)).toString("base64") +
    "\n"
  );
}

/** The inline source map at the end of `code` (as compilers write it), or undefined. */
export function inlineSourceMap(code: string): unknown {
  const match = /\/\/# sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/.exec(
    code,
  );
  return match === null ? undefined : JSON.parse(Buffer.from(match[1]!, "base64").toString("utf8"));
}

function swcOptions(filename: string, format: ModuleFormat): SwcOptions {
  const ts = compilerOptionsFor(dirname(filename));
  const tsx = filename.endsWith(".tsx");
  const jsx = tsx || filename.endsWith(".jsx");
  const legacy = ts.experimentalDecorators === true;
  const reactRuntime = ts.jsx === "react-jsx" || ts.jsx === "react-jsxdev" ? "automatic" : "classic";
  return {
    filename,
    sourceMaps: true,
    inputSourceMap: false,
    swcrc: false,
    configFile: false,
    // A .cts/.ts under "type": "commonjs" may be a plain script that relies on sloppy mode.
    isModule: format === "module" ? true : "unknown",
    jsc: {
      parser: filename.endsWith(".jsx")
        ? { syntax: "ecmascript", jsx: true, decorators: true }
        : { syntax: "typescript", tsx, decorators: true },
      target: "es2022",
      keepClassNames: true,
      transform: {
        useDefineForClassFields: ts.useDefineForClassFields !== false,
        ...(legacy
          ? { legacyDecorator: true, decoratorMetadata: ts.emitDecoratorMetadata === true }
          : { decoratorVersion: "2023-11" as const }),
        ...(jsx
          ? {
              react: {
                runtime: reactRuntime,
                ...(ts.jsxFactory !== undefined ? { pragma: ts.jsxFactory } : {}),
                ...(ts.jsxFragmentFactory !== undefined ? { pragmaFrag: ts.jsxFragmentFactory } : {}),
                ...(ts.jsxImportSource !== undefined ? { importSource: ts.jsxImportSource } : {}),
                development: ts.jsx === "react-jsxdev",
              },
            }
          : {}),
      },
    },
    module:
      format === "module"
        ? { type: "es6" }
        : // exportInteropAnnotation: Node's cjs-module-lexer then sees the named exports of a CJS
          // module that an ES module imports.
          { type: "commonjs", exportInteropAnnotation: true, ignoreDynamic: true },
  };
}

function normaliseMap(map: unknown): RawMap {
  return (typeof map === "string" ? JSON.parse(map) : JSON.parse(JSON.stringify(map))) as RawMap;
}

function stripSourceMapComment(code: string): string {
  return code.replace(/\n\/\/# sourceMappingURL=[^\n]*\s*$/, "");
}

function hashText(text: string): string {
  return createHash("sha1").update(text).digest("base64url");
}

export { DiagnoseSyntaxError };

/**
 * The pipeline without the cache: for the loader in the application's own thread, for
 * benchmarks/build-profile.ts (which compiles the same files many times), and for making a
 * module's deferred copies again (the cache keeps no copies).
 * @internal
 */
export const compileModuleUncached = compileUncached;
