/**
 * What the loader does to one file, wherever it is asked (ESM hooks thread, CommonJS require hook,
 * synchronous hooks): find the file's project and configuration, compile it, report its sites to
 * the manifest writer and its warnings to the user.
 */
import { readFileSync } from "node:fs";
import { compileModule, type ModuleFormat } from "../shared/compile.js";
import { isIncluded, loadConfig, projectRootOf } from "../shared/config.js";
import { sitesReporter } from "./sites-reporter.js";

export { formatOf, handles } from "./policy.js";

const reported = new WeakSet<object>();

/** Compiles `filename` for Node in `format`; `source` is read from disk when not given. */
export function transformForNode(filename: string, format: ModuleFormat, source?: string): string {
  const config = loadConfig(projectRootOf(filename));
  const text = source ?? readFileSync(filename, "utf8");
  const result = compileModule(text, {
    filename,
    format,
    instrument: isIncluded(config, filename),
    config,
  });
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
