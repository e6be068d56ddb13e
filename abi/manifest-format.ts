/**
 * The site manifest, `diagnose-sites.json`: every instrumented module's functions and sites, so
 * users can find what to probe and validate probe specs before a rollout.
 */
import type { SiteKindName } from "./index.js";

/** The kind of a function, as the transformer names it. */
export type FunctionKind = "function" | "arrow" | "method" | "getter" | "setter" | "constructor" | "field";

/** One site of the manifest (diagnose-sites.json). */
export interface ManifestSite {
  id: number;
  kind: SiteKindName;
  /** 1-based line in the original source. */
  line: number;
  /** 0-based UTF-16 column in the original source. */
  column: number;
  /** Names of the locals the site passes, in order. */
  locals: string[];
}

/** One instrumented function of the manifest. */
export interface ManifestFunction {
  /** Qualified name `<module>:<path>`. */
  name: string;
  path: string;
  line: number;
  column: number;
  kind: FunctionKind;
  async: boolean;
  generator: boolean;
  /** Parameter descriptors: `a`, `a=`, `...a`, `{x,y}`. */
  params: string[];
  sites: ManifestSite[];
}

/** Everything the build manifest needs about one module. */
export interface ModuleSites {
  /** Module path relative to the root, "/" separators, with its extension. */
  module: string;
  package: string;
  /** Module hash H (flags are `$dg_H_<id>`). */
  hash: string;
  functions: ManifestFunction[];
}

export const MANIFEST_VERSION = 1;
export const MANIFEST_FILE = "diagnose-sites.json";

/** The content of `diagnose-sites.json`. */
export interface SiteManifest {
  version: typeof MANIFEST_VERSION;
  modules: ModuleSites[];
}
