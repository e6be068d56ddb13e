/**
 * What the loader does to one file, wherever it is asked (ESM hooks thread, CommonJS require hook,
 * synchronous hooks): find the file's project and configuration, compile it, report its sites to
 * the manifest writer and its warnings to the user.
 */
import { readFileSync } from "node:fs";
import { compileModule, type ModuleFormat } from "../shared/compile.js";
import { isIncluded, loadConfig, projectRootOf } from "../shared/config.js";
import { copyStore } from "../../runtime/registry/copies.js";
import { copiesDir, writeCopies } from "./copies-cache.js";
import { reportCopies, sitesReporter } from "./sites-reporter.js";

export { formatOf, handles } from "./policy.js";

const reported = new WeakSet<object>();

/**
 * Whether `DIAGNOSE_DEFER_COPIES` asks for deferred copies (site ABI 4, docs/node-loader.md):
 * "1"/"on"/"true" yes; unset, "0"/"off"/"false" no.
 */
export function deferCopiesRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|on|true)$/i.test(env["DIAGNOSE_DEFER_COPIES"] ?? "");
}

/** Compiles `filename` for Node in `format`; `source` is read from disk when not given. */
export function transformForNode(filename: string, format: ModuleFormat, source?: string): string {
  const config = loadConfig(projectRootOf(filename));
  const text = source ?? readFileSync(filename, "utf8");
  const result = compileModule(text, {
    filename,
    format,
    instrument: isIncluded(config, filename),
    config,
    deferCopies: deferCopiesRequested(),
  });
  if (result.copies !== undefined) {
    // Before the module runs (it may register and be watched at once): the cache directory
    // (copies-cache.ts), which the main thread reads when a probe needs them; if it cannot be
    // written, this thread's store, or the main thread's through the hooks thread's port
    // (register.ts drains it when asked).
    const dir = copiesDir();
    if (dir === null || !writeCopies(dir, result.copies.hash, result.copies.text)) {
      const report = reportCopies();
      if (report !== undefined) report(result.copies.hash, result.copies.text);
      else copyStore().texts.set(result.copies.hash, result.copies.text);
    }
    // The compile cache keeps the module's code, not its copies (they are on disk or in the store).
    (result as { copies?: unknown }).copies = undefined;
  }
  if (!reported.has(result)) {
    reported.add(result);
    const reporter = sitesReporter();
    if (result.sites !== undefined && config.manifest !== undefined && reporter !== undefined) {
      reporter(config.manifest, result.sites);
    }
    for (const warning of result.warnings) {
      // The message already starts with file:line:col and names the function.
      process.emitWarning(warning, { type: "DiagnoseWarning", code: "DIAGNOSE_UNINSTRUMENTED" });
    }
  }
  return result.code;
}
