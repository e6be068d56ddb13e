/**
 * Finding a project's sites without a build: walk its source files (the loader's include/exclude
 * rules; never node_modules, dist, dot-folders or .d.ts) and run `instrument()` on each, with the
 * same root and module format the loader would use, so the names are the ones probes address.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { instrument } from "../transformer/index.js";
import { isIncluded, loadConfig, moduleFormatOf, projectRootOf } from "../integrations/shared/config.js";
import { toSyntaxError } from "../integrations/shared/errors.js";
import type { ModuleSites } from "../abi/manifest-format.js";

const SKIPPED_DIRS = new Set(["node_modules", "dist"]);

export interface ScanResult {
  modules: ModuleSites[];
  /** Files that could not be analysed, with the reason (`file:line:col: message`). */
  problems: string[];
}

/** Analyses every included source file under `root`. */
export function scanProject(root: string): ScanResult {
  const modules: ModuleSites[] = [];
  const problems: string[] = [];
  for (const file of walk(root)) {
    const config = loadConfig(projectRootOf(file));
    if (!isIncluded(config, file)) continue;
    const source = readFileSync(file, "utf8");
    try {
      const out = instrument(source, file, {
        root: config.root,
        module: moduleFormatOf(file) === "module" ? "esm" : "cjs",
        sourceMap: false,
      });
      if (out.sites !== undefined && out.sites !== null) modules.push(out.sites as ModuleSites);
    } catch (error) {
      const e = toSyntaxError(error, file, source);
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  modules.sort((a, b) => (a.module < b.module ? -1 : a.module > b.module ? 1 : 0));
  return { modules, problems };
}

function* walk(dir: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) yield* walk(path);
    } else if (entry.isFile()) {
      yield path;
    }
  }
}
