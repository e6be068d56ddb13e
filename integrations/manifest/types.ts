/**
 * The site manifest, `diagnose-sites.json`: every instrumented module's functions and sites, so
 * users can find what to probe and validate probe specs before a rollout.
 */
import type { FunctionEntry, ModuleSites, SiteEntry } from "../../transformer/types.js";

// One definition: the manifest entry of a module is what `instrument()` returns as `sites`.
export type { ModuleSites };
/** One instrumented function; `name` is its qualified name `module:path`. */
export type ManifestFunction = FunctionEntry;
/** One hook site: dense id, kind, 1-based line, 0-based column, the locals it passes. */
export type ManifestSite = SiteEntry;

export const MANIFEST_VERSION = 1;
export const MANIFEST_FILE = "diagnose-sites.json";

/** The content of `diagnose-sites.json`. */
export interface SiteManifest {
  version: typeof MANIFEST_VERSION;
  modules: ModuleSites[];
}
