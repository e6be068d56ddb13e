/**
 * The options every build-tool integration takes (bundler plugins, the Jest transformer): checked
 * once, then laid over the project configuration the Node loader reads (integrations/shared/config.ts).
 */
import { resolve } from "node:path";
import { DiagnoseError } from "../../errors/index.js";
import { type DiagnoseConfig, loadConfig, projectRootOf } from "./config.js";

/**
 * Options of every bundler plugin. Unset ones come from the same places the Node loader reads: the
 * `"diagnose"` key of the project's package.json, then `DIAGNOSE_INCLUDE`, `DIAGNOSE_EXCLUDE` and
 * `DIAGNOSE_MANIFEST`.
 */
export interface DiagnosePluginOptions {
  /** Globs of module paths (relative to the project root) to instrument. Default: every TypeScript file. */
  include?: string | readonly string[];
  /** Globs of module paths never to instrument (they still build). */
  exclude?: string | readonly string[];
  /**
   * Where to write the site manifest (`diagnose-sites.json`): relative to the project root, or
   * absolute; `false` writes none. Default: the configured manifest, if any.
   */
  manifest?: string | false;
  /** `instrument()`'s `outline` (default true). */
  outline?: boolean;
  /** `instrument()`'s `replaceArguments` (default false). */
  replaceArguments?: boolean;
  /**
   * `instrument()`'s `types` for TypeScript files (default true): the instrumented TypeScript
   * type-checks wherever the original did, so a type-checking compiler after the plugin (ts-loader,
   * `@rollup/plugin-typescript`) accepts it. `false` suits tools that only strip types: typed
   * output outlines a few functions fewer (docs/instrument.md).
   */
  types?: boolean;
}

/** A bundler plugin was given an option it does not know or a value of the wrong type. */
export class PluginOptionsError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_PLUGIN_OPTIONS";
  constructor(message: string) {
    super(PluginOptionsError.CODE, message);
  }
}

const KNOWN_OPTIONS = ["include", "exclude", "manifest", "outline", "replaceArguments", "types"] as const;

/** Options after checking; undefined: not given. */
export interface ResolvedOptions {
  readonly include: readonly string[] | undefined;
  readonly exclude: readonly string[] | undefined;
  readonly manifest: string | false | undefined;
  readonly outline: boolean | undefined;
  readonly replaceArguments: boolean | undefined;
  readonly types: boolean | undefined;
}

/** Checks the user's options; throws PluginOptionsError naming the option and what it expects. */
export function resolvePluginOptions(options: unknown): ResolvedOptions {
  if (options === undefined || options === null) {
    return {
      include: undefined,
      exclude: undefined,
      manifest: undefined,
      outline: undefined,
      replaceArguments: undefined,
      types: undefined,
    };
  }
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new PluginOptionsError(
      `diagnose plugin options must be an object like { include: ["src/**"] }, got ${typeof options}`,
    );
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(KNOWN_OPTIONS as readonly string[]).includes(key)) {
      throw new PluginOptionsError(`unknown diagnose plugin option "${key}" (known: ${KNOWN_OPTIONS.join(", ")})`);
    }
  }
  const globs = (name: "include" | "exclude"): readonly string[] | undefined => {
    const v = o[name];
    if (v === undefined) return undefined;
    if (typeof v === "string") return [v];
    if (Array.isArray(v) && v.every((g) => typeof g === "string")) return v as string[];
    throw new PluginOptionsError(
      `diagnose plugin option "${name}" must be a glob or an array of globs, e.g. ["src/**"]`,
    );
  };
  const flag = (name: "outline" | "replaceArguments" | "types"): boolean | undefined => {
    const v = o[name];
    if (v === undefined || typeof v === "boolean") return v;
    throw new PluginOptionsError(`diagnose plugin option "${name}" must be true or false`);
  };
  const manifest = o["manifest"];
  if (manifest !== undefined && manifest !== false && (typeof manifest !== "string" || manifest === "")) {
    throw new PluginOptionsError(`diagnose plugin option "manifest" must be a path or false`);
  }
  return {
    include: globs("include"),
    exclude: globs("exclude"),
    manifest: manifest as string | false | undefined,
    outline: flag("outline"),
    replaceArguments: flag("replaceArguments"),
    types: flag("types"),
  };
}

/** The project configuration of `file`, with the plugin's options laid over it. */
export function configFor(file: string, options: ResolvedOptions): DiagnoseConfig {
  const config = loadConfig(projectRootOf(file));
  let manifest = config.manifest;
  if (options.manifest === false) manifest = undefined;
  else if (options.manifest !== undefined) manifest = resolve(config.root, options.manifest);
  return {
    ...config,
    include: options.include ?? config.include,
    exclude: options.exclude ?? config.exclude,
    manifest,
  };
}
