/**
 * What the loader does to one file, wherever it is asked (ESM hooks thread, CommonJS require hook,
 * synchronous hooks): find the file's project and configuration, compile it, report its sites to
 * the manifest writer and its warnings to the user.
 */
import { readFileSync } from "node:fs";
import { compileModule, compileModuleUncached, type ModuleFormat } from "../shared/compile.js";
import { isIncluded, loadConfig, projectRootOf } from "../shared/config.js";
import { codeGenerationAllowed } from "../../runtime/expressions/code-generation.js";
import { copiesDir, writeCopies } from "./copies-cache.js";
import { reportCopies, sitesReporter } from "./sites-reporter.js";

export { formatOf, handles } from "./policy.js";

const reported = new WeakSet<object>();

/**
 * Whether `DIAGNOSE_DEFER_COPIES` asks for deferred copies (site ABI 4, docs/node-loader.md):
 * unset (the default), "1"/"on"/"true" yes; "0"/"off"/"false" no.
 */
export function deferCopiesRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return !/^(0|off|false)$/i.test(env["DIAGNOSE_DEFER_COPIES"] ?? "");
}

/**
 * Whether the loader defers copies: asked for (the default) and possible. Where code generation is
 * refused the copies stay inline, so probes on outlined functions keep working (the binder would
 * `eval` them). `--disallow-code-generation-from-strings` is a V8 flag, so it holds for every
 * thread alike: the hooks thread that compiles sees what the main thread that evaluates will.
 */
export function defersCopiesHere(env: NodeJS.ProcessEnv = process.env): boolean {
  return deferCopiesRequested(env) && codeGenerationAllowed();
}

/**
 * Whether the inline source maps carry the original text: only with `DIAGNOSE_SOURCE_MAPS=full`
 * (for a debugger that cannot read the file). Node keeps each module's map, so the text would sit
 * in the heap again, and base64 in the module's code and in its source-map URL: 3.0 MB for rxjs's
 * 244 internal modules. Node reads the file itself to print an uncaught error's source line.
 */
export function sourcesContentRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^full$/i.test(env["DIAGNOSE_SOURCE_MAPS"] ?? "");
}

function compileRequest(filename: string, format: ModuleFormat) {
  const config = loadConfig(projectRootOf(filename));
  return {
    filename,
    format,
    instrument: isIncluded(config, filename),
    config,
    deferCopies: defersCopiesHere(),
    sourcesContent: sourcesContentRequested(),
  };
}

/**
 * Compiles `filename` for Node in `format`. `shared`: this thread compiles for others (the hooks
 * thread of `module.register()` serves the main thread and workers, which may each ask for one
 * file), so the result is kept for the next request. Elsewhere Node asks once per module, and a
 * kept copy of every module's compiled code would sit in the application's own heap (1.15 MB
 * for rxjs's 244 internal modules on Node 24's in-thread hooks).
 */
export function transformForNode(filename: string, format: ModuleFormat, shared = false): string {
  const request = compileRequest(filename, format);
  const compile = shared ? compileModule : compileModuleUncached;
  const result = compile(readFileSync(filename, "utf8"), request);
  if (result.copies !== undefined) {
    // Before the module runs (it may register and be watched at once). The text goes to the cache
    // directory (copies-cache.ts), which the main thread reads when a probe needs it, or, when the
    // directory cannot be written, with the report; the report also says which file it came from,
    // so the main thread can make it again if the file is gone by then (regenerateCopies).
    const { hash, text } = result.copies;
    const dir = copiesDir();
    const cached = dir !== null && writeCopies(dir, hash, text);
    reportCopies()({ hash, filename, format, text: cached ? undefined : text });
    // A kept result keeps the module's code, not its copies (they are on disk or reported).
    (result as { copies?: unknown }).copies = undefined;
  }
  if (!reported.has(result)) {
    reported.add(result);
    const reporter = sitesReporter();
    const manifest = request.config.manifest;
    if (result.sites !== undefined && manifest !== undefined && reporter !== undefined) {
      reporter(manifest, result.sites);
    }
    for (const warning of result.warnings) {
      // The message already starts with file:line:col and names the function.
      process.emitWarning(warning, { type: "DiagnoseWarning", code: "DIAGNOSE_UNINSTRUMENTED" });
    }
  }
  return result.code;
}

/**
 * The deferred copy text of `filename` compiled again, as the loader compiled it at load (same
 * options, same process), for when its copy text is no longer where it was put (a temporary
 * directory cleaned under a long-running process). Returns the text only if it is the one named by
 * `hash`; throws, saying why, when the file cannot be read or has changed since it was loaded.
 */
export function compileCopiesAgain(hash: string, filename: string, format: ModuleFormat): string {
  let source: string;
  try {
    source = readFileSync(filename, "utf8");
  } catch (error) {
    throw new Error(`its source ${filename} could not be read to make its copies again (${String(error)})`);
  }
  // Uncached: the compile cache keeps no copies.
  const copies = compileModuleUncached(source, compileRequest(filename, format)).copies;
  if (copies?.hash !== hash) {
    throw new Error(`its source ${filename} has changed since it was loaded (restart to probe its outlined functions)`);
  }
  return copies.text;
}
