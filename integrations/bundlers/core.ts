/**
 * The one bundler plugin behind `diagnose/vite`, `diagnose/esbuild`, `diagnose/webpack`,
 * `diagnose/rollup` and `diagnose/rolldown`: an unplugin factory over `instrument()`. The adapters
 * only pick unplugin's builder for their tool.
 *
 * What it does to a module, in every tool:
 * - runs before the tool's own TypeScript/JSX stripping (`enforce: "pre"`), on the source text, so
 *   module paths, sites and qualified names are the Node loader's for the same files (same project
 *   root and package name, the same include/exclude configuration);
 * - writes typed TypeScript (`instrument()`'s `types`) unless told otherwise, so a type-checking
 *   compiler after it (ts-loader, `@rollup/plugin-typescript`) accepts the instrumented files;
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
import { isAbsolute } from "node:path";
import type { UnpluginContextMeta, UnpluginOptions } from "unplugin";
import type * as Unplugin from "unplugin";
import { writeManifest } from "../../abi/manifest.js";
import type { ModuleSites } from "../../abi/manifest-format.js";
import { describeError } from "../../errors/index.js";
import { MissingDependencyError } from "../../transformer/dependencies.js";
import { instrument } from "../../transformer/index.js";
import { type DiagnoseConfig, isIncluded } from "../shared/config.js";
import { configFor, type DiagnosePluginOptions, resolvePluginOptions } from "../shared/plugin-options.js";

export { PluginOptionsError, resolvePluginOptions } from "../shared/plugin-options.js";
export type { DiagnosePluginOptions } from "../shared/plugin-options.js";

/** Prefix of the virtual modules that stand for the ESM header's `data:` imports. */
const FLAGS_ID_PREFIX = "\0diagnose-flags:";
const DATA_JS = "data:text/javascript,";

/** The module's file path, or undefined for virtual modules and ids that are not files. */
export function fileOfId(id: string): string | undefined {
  if (id.startsWith("\0") || id.includes("\0")) return undefined;
  const path = id.replace(/[?#].*$/, "");
  return isAbsolute(path) ? path : undefined;
}

/**
 * The unplugin factory of the Diagnose plugin (see the module comment). Each call makes a plugin
 * with its own manifest collection.
 */
export function diagnoseUnplugin(
  userOptions: DiagnosePluginOptions | undefined,
  _meta: UnpluginContextMeta,
): UnpluginOptions {
  const options = resolvePluginOptions(userOptions);
  /** Flag-definer modules by virtual id. */
  const definers = new Map<string, string>();
  /** Manifest entries of this plugin's builds, by manifest path, then by package + module. */
  const pending = new Map<string, Map<string, ModuleSites>>();
  /** Manifest paths with entries added since they were last written. */
  const dirty = new Set<string>();
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
    for (const path of dirty) {
      dirty.delete(path);
      try {
        // Merges with the file: entries of other plugins, processes and earlier builds stay.
        writeManifest(path, pending.get(path)?.values() ?? []);
      } catch (error) {
        process.stderr.write(`diagnose: could not write the site manifest ${path}: ${describeError(error)}\n`);
      }
    }
  };
  flushAtExit(flush);

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
        // Typed by default: a type-checking compiler (ts-loader) may come after this plugin.
        types: options.types ?? true,
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
        dirty.add(config.manifest);
      }
      return { code: out.code, map: out.map as never };
    },

    // Both: Vite empties its output folder after buildEnd, and a manifest written there is lost.
    buildEnd() {
      flush();
    },

    writeBundle() {
      for (const path of pending.keys()) dirty.add(path);
      flush();
    },

    esbuild: {
      // esbuild picks the loader by extension after our transform: keep TypeScript TypeScript.
      loader: (_code, id) => loaderForEsbuild(id),
    },
  };
}

const exitFlushes = new Set<() => void>();

/**
 * Runs `flush` when the process exits: a dev server or a test runner may never end its build. One
 * listener for all plugin instances (a config reloaded many times makes many).
 */
function flushAtExit(flush: () => void): void {
  if (exitFlushes.size === 0) {
    process.once("exit", () => {
      for (const f of exitFlushes) f();
    });
  }
  exitFlushes.add(flush);
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
