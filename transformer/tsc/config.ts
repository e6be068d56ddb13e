/**
 * The plugin's options, read from its tsconfig `plugins` entry. Bad options are reported as
 * diagnostics (never thrown: a throw would abort tsc with a stack trace instead of a message);
 * with any bad option the plugin instruments nothing, so a typo cannot silently half-instrument.
 */
import { dirname, resolve } from "node:path";
import type { OutputModuleFormat } from "../header.js";
import type { InstrumentOptions } from "../types.js";

/** Keys ts-patch itself reads from a plugin entry (it passes some of them on to the plugin). */
const TS_PATCH_KEYS = new Set([
  "transform",
  "after",
  "afterDeclarations",
  "name",
  "type",
  "transformProgram",
  "import",
  "isEsm",
  "tsConfig",
  "resolvePathAliases",
]);
const KNOWN = ["include", "exclude", "manifest", "root", "replaceArguments", "outline", "warnings"] as const;

export interface ResolvedPluginConfig {
  /** Folder of the tsconfig the plugin entry is in (relative paths are resolved against it). */
  readonly configDir: string;
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** Absolute path (file or folder) of the manifest to write, or undefined. */
  readonly manifest: string | undefined;
  /** Absolute project root, or undefined for the default (nearest package.json per file). */
  readonly root: string | undefined;
  /** instrument()'s `replaceArguments` (default false). */
  readonly replaceArguments: boolean;
  /** instrument()'s `outline` (default true). */
  readonly outline: boolean;
  /**
   * Where warnings go. tsc exits with status 2 when any diagnostic is present, warnings included,
   * so by default they are printed on stderr and the build still succeeds; "diagnostics" makes
   * them tsc diagnostics (and a non-zero exit).
   */
  readonly warnings: "stderr" | "diagnostics";
}

/** What `analyze()` is given for one file under this configuration, in output format `module`. */
export function analyzeOptions(config: ResolvedPluginConfig, module: OutputModuleFormat): InstrumentOptions {
  return {
    ...(config.root !== undefined ? { root: config.root } : {}),
    include: config.include,
    exclude: config.exclude,
    module,
    replaceArguments: config.replaceArguments,
    outline: config.outline,
  };
}

export interface ConfigProblem {
  /** The option concerned. */
  readonly key: string;
  readonly message: string;
}

/** Validates the plugin entry; `configFile` is the tsconfig path (for resolving relative paths). */
export function readPluginConfig(
  raw: unknown,
  configFile: string | undefined,
  currentDirectory: string,
): { config: ResolvedPluginConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const configDir = configFile ? dirname(configFile) : currentDirectory;
  const entry = raw !== null && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  if (entry !== raw && raw !== undefined)
    problems.push({ key: "plugins", message: `the plugin entry must be an object, got ${JSON.stringify(raw)}` });

  for (const key of Object.keys(entry)) {
    if (!TS_PATCH_KEYS.has(key) && !(KNOWN as readonly string[]).includes(key)) {
      problems.push({
        key,
        message: `unknown option "${key}"; the options are ${KNOWN.map((k) => `"${k}"`).join(", ")}`,
      });
    }
  }
  const globs = (key: "include" | "exclude"): string[] => {
    const value = entry[key];
    if (value === undefined) return [];
    if (Array.isArray(value) && value.every((v) => typeof v === "string" && v !== "")) return value as string[];
    problems.push({
      key,
      message: `option "${key}" must be an array of glob strings (module paths relative to the project root, e.g. ["src/**"]), got ${JSON.stringify(value)}`,
    });
    return [];
  };
  const path = (key: "manifest" | "root"): string | undefined => {
    const value = entry[key];
    if (value === undefined) return undefined;
    if (typeof value === "string" && value !== "") return resolve(configDir, value);
    problems.push({
      key,
      message: `option "${key}" must be a non-empty path string (relative to the tsconfig), got ${JSON.stringify(value)}`,
    });
    return undefined;
  };
  const warnings = entry["warnings"];
  if (warnings !== undefined && warnings !== "stderr" && warnings !== "diagnostics") {
    problems.push({
      key: "warnings",
      message: `option "warnings" must be "stderr" or "diagnostics", got ${JSON.stringify(warnings)}`,
    });
  }
  const replaceArguments = entry["replaceArguments"];
  if (replaceArguments !== undefined && typeof replaceArguments !== "boolean") {
    problems.push({
      key: "replaceArguments",
      message: `option "replaceArguments" must be true or false, got ${JSON.stringify(replaceArguments)}`,
    });
  }
  const outline = entry["outline"];
  if (outline !== undefined && typeof outline !== "boolean") {
    problems.push({
      key: "outline",
      message: `option "outline" must be true or false, got ${JSON.stringify(outline)}`,
    });
  }
  const config: ResolvedPluginConfig = {
    configDir,
    include: globs("include"),
    exclude: globs("exclude"),
    manifest: path("manifest"),
    root: path("root"),
    replaceArguments: replaceArguments === true,
    outline: outline !== false,
    warnings: warnings === "diagnostics" ? "diagnostics" : "stderr",
  };
  return { config, problems };
}
