/**
 * The one bundler plugin behind `diagnose/vite`, `diagnose/esbuild`, `diagnose/webpack`,
 * `diagnose/rollup` and `diagnose/rolldown`: an unplugin factory over `instrument()`. The adapters
 * only pick unplugin's builder for their tool.
 *
 * What it does to a module, in every tool:
 * - runs before the tool's own TypeScript/JSX stripping (`enforce: "pre"`), on the source text, so
 *   module paths, sites and qualified names are the Node loader's for the same files (same project
 *   root and package name, the same include/exclude configuration);
 * - returns `instrument()`'s source map, which the tool chains with its own;
 * - resolves and loads the ESM header's `import "data:text/javascript,…"` itself, as a tiny module
 *   bundled in front of the importer, so the flags are defined before the module's body (and any
 *   import cycle partner) runs, whatever the tool does with `data:` URLs and whatever the output
 *   format (an external `data:` import would become `require("data:…")` in CommonJS bundles);
 * - collects the modules' manifest entries and writes them through `abi/manifest.ts` when the build
 *   ends (and at process exit for a dev server or test runner that never ends its build).
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { isAbsolute, resolve } from "node:path";
import type { UnpluginContextMeta, UnpluginOptions } from "unplugin";
import type * as Unplugin from "unplugin";
import { writeManifest } from "../../abi/manifest.js";
import type { ModuleSites } from "../../abi/manifest-format.js";
import { DiagnoseError, describeError } from "../../errors/index.js";
import { MissingDependencyError } from "../../transformer/dependencies.js";
import { instrument } from "../../transformer/index.js";
import { type DiagnoseConfig, isIncluded, loadConfig, projectRootOf } from "../shared/config.js";

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
}

/** A bundler plugin was given an option it does not know or a value of the wrong type. */
export class PluginOptionsError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_PLUGIN_OPTIONS";
  constructor(message: string) {
    super(PluginOptionsError.CODE, message);
  }
}

const KNOWN_OPTIONS = ["include", "exclude", "manifest", "outline", "replaceArguments"] as const;

/** Prefix of the virtual modules that stand for the ESM header's `data:` imports. */
const FLAGS_ID_PREFIX = "\0diagnose-flags:";
const DATA_JS = "data:text/javascript,";

interface ResolvedOptions {
  readonly include: readonly string[] | undefined;
  readonly exclude: readonly string[] | undefined;
  readonly manifest: string | false | undefined;
  readonly outline: boolean | undefined;
  readonly replaceArguments: boolean | undefined;
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
  const flag = (name: "outline" | "replaceArguments"): boolean | undefined => {
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
  };
}

/** The module's file path, or undefined for virtual modules and ids that are not files. */
export function fileOfId(id: string): string | undefined {
  if (id.startsWith("\0") || id.includes("\0")) return undefined;
  const path = id.replace(/[?#].*$/, "");
  return isAbsolute(path) ? path : undefined;
}

/** The project configuration of `file`, with the plugin's options laid over it. */
function configFor(file: string, options: ResolvedOptions): DiagnoseConfig {
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

/**
 * The unplugin factory of the Diagnose plugin (see the module comment). Each call makes a plugin
 * with its own manifest collection.
 */
export function diagnoseUnplugin(
  userOptions: DiagnosePluginOptions | undefined,
  meta: UnpluginContextMeta,
): UnpluginOptions {
  const options = resolvePluginOptions(userOptions);
  /** Flag-definer modules by virtual id. */
  const definers = new Map<string, string>();
  /** Manifest entries of this build, by manifest path, then by package + module (writes merge: rewriting is harmless). */
  const pending = new Map<string, Map<string, ModuleSites>>();
  const included = new Map<string, DiagnoseConfig | null>();

  const configIfIncluded = (file: string): DiagnoseConfig | undefined => {
    let c = included.get(file);
    if (c === undefined) {
      const config = configFor(file, options);
      c = isIncluded(config, file) ? config : null;
      included.set(file, c);
    }
    return c ?? undefined;
  };

  const flush = (): void => {
    for (const [path, entries] of pending) {
      if (entries.size === 0) continue;
      try {
        writeManifest(path, entries.values());
      } catch (error) {
        process.stderr.write(`diagnose: could not write the site manifest ${path}: ${describeError(error)}\n`);
      }
    }
  };
  // A dev server or a test runner may never end its build: write what is left when the process ends.
  process.once("exit", flush);

  return {
    name: "diagnose",
    enforce: "pre",

    resolveId(id) {
      if (!id.startsWith(DATA_JS)) return null;
      const virtual = `${FLAGS_ID_PREFIX}${createHash("sha1").update(id).digest("hex").slice(0, 16)}.js`;
      definers.set(virtual, decodeURIComponent(id.slice(DATA_JS.length)));
      return virtual;
    },

    loadInclude(id) {
      return definers.has(id);
    },

    load(id) {
      const code = definers.get(id);
      return code === undefined ? null : { code, map: null };
    },

    transformInclude(id) {
      const file = fileOfId(id);
      return file !== undefined && configIfIncluded(file) !== undefined;
    },

    transform(code, id) {
      const file = fileOfId(id);
      const config = file === undefined ? undefined : configIfIncluded(file);
      if (file === undefined || config === undefined) return null;
      const out = instrument(code, file, {
        root: config.root,
        sourceMap: true,
        ...(options.outline !== undefined ? { outline: options.outline } : {}),
        ...(options.replaceArguments !== undefined ? { replaceArguments: options.replaceArguments } : {}),
      });
      // The message starts with file:line:col and names the function.
      for (const w of out.warnings) this.warn(w.message);
      if (out.skipped !== undefined || out.sites === null) return null;
      if (config.manifest !== undefined) {
        let entries = pending.get(config.manifest);
        if (entries === undefined) pending.set(config.manifest, (entries = new Map()));
        entries.set(`${out.sites.package}\0${out.sites.module}`, out.sites);
      }
      return { code: out.code, map: out.map as never };
    },

    // Both: Vite empties its output folder after buildEnd, and a manifest written there is lost.
    buildEnd() {
      flush();
    },

    writeBundle() {
      flush();
    },

    esbuild: {
      // esbuild picks the loader by extension after our transform: keep TypeScript TypeScript.
      loader: (_code, id) => loaderForEsbuild(id),
    },

    ...(meta.framework === "vite" ? { vite: { enforce: "pre" as const } } : {}),
  };
}

function loaderForEsbuild(id: string): "ts" | "tsx" | "js" | "jsx" {
  const path = id.replace(/[?#].*$/, "");
  if (/\.(?:c|m)?ts$/.test(path)) return "ts";
  if (path.endsWith(".tsx")) return "tsx";
  if (path.endsWith(".jsx")) return "jsx";
  return "js";
}

let unpluginModule: typeof Unplugin | undefined;

/**
 * unplugin, loaded on first use: it is an optional dependency (a service that only runs built code
 * installs without it), and a static import would fail with Node's error before ours can say what
 * to install. `require()` keeps the plugin factories synchronous, as tools call them in configs.
 */
export function unplugin(): typeof Unplugin {
  if (unpluginModule !== undefined) return unpluginModule;
  const load = createRequire(import.meta.url);
  try {
    unpluginModule = load("unplugin") as typeof Unplugin;
  } catch (error) {
    let version: string | undefined;
    try {
      version = (load("../../../package.json") as { optionalDependencies?: Record<string, string> })
        .optionalDependencies?.["unplugin"];
    } catch {
      version = undefined;
    }
    throw new MissingDependencyError("unplugin", version, error);
  }
  return unpluginModule;
}
