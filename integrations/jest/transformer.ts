/**
 * `diagnose/jest`: a Jest transformer that compiles TypeScript with dormant hook sites.
 *
 *     // jest.config.js
 *     module.exports = { transform: { "^.+\\.(ts|tsx|cts|mts)$": "diagnose/jest" } };
 *
 * It runs the Node loader's pipeline (`compileModule`): `instrument()`, SWC type stripping, the
 * composed source map inlined. Jest runs test files as CommonJS in a sandbox unless its native ESM
 * mode is on, so the output is CommonJS with the CommonJS header (the registration statement first,
 * before the `require`s SWC hoists); the runtime loads there as `require("diagnose")`, which
 * resolves to the package's CommonJS build. Under `--experimental-vm-modules` with
 * `extensionsToTreatAsEsm`, Jest asks for ES modules (`supportsStaticESM`) and gets the ESM header,
 * whose `data:` import Jest's ESM linker evaluates before the module.
 *
 * Each test file is its own realm with its own registry: probes are attached in the test file or
 * in a `setupFilesAfterEnv` module (which runs in the same realm before each test file).
 *
 * With `transformer: "ts-jest"` the instrumented file is typed TypeScript (`instrument()`'s
 * `types`), handed to ts-jest, which type-checks and compiles it as it would the original: a
 * project keeps its ts-jest setup, diagnostics included. ts-jest emits `require`s where the imports
 * stand, so the header stays first; its source map is composed with the instrumenter's.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { writeManifest } from "../../abi/manifest.js";
import type { ModuleSites } from "../../abi/manifest-format.js";
import { instrument } from "../../transformer/index.js";
import { compileModule, inlineSourceMap, type ModuleFormat, withComposedMap } from "../shared/compile.js";
import { isIncluded } from "../shared/config.js";
import { compilerOptionsFor } from "../shared/tsconfig.js";
import { configFor, PluginOptionsError, resolvePluginOptions } from "../shared/plugin-options.js";

/** Options of `["diagnose/jest", { … }]` in Jest's `transform`; unset ones come from the loader's config. */
export interface DiagnoseJestOptions {
  /** Globs of module paths (relative to the project root) to instrument. Default: every TypeScript file. */
  include?: string | readonly string[];
  /** Globs of module paths never to instrument (they are still compiled). */
  exclude?: string | readonly string[];
  /** Where to write the site manifest, relative to the project root; `false` writes none. */
  manifest?: string | false;
  /**
   * What compiles the instrumented TypeScript. `"swc"` (default): the Node loader's pipeline, types
   * stripped, not checked. `"ts-jest"`, or `["ts-jest", { …ts-jest options }]`: typed instrumented
   * TypeScript handed to ts-jest (resolved from Jest's `rootDir`), which type-checks it with the
   * project's tsconfig and reports diagnostics as it does for the original.
   */
  transformer?: "swc" | "ts-jest" | readonly ["ts-jest", Record<string, unknown>];
}

/** What Jest passes to `process` and `getCacheKey` (the parts this transformer reads, passed on whole). */
export interface JestTransformOptions {
  readonly configString?: string;
  readonly supportsStaticESM?: boolean;
  readonly config?: { readonly rootDir?: string };
}

/** What this transformer uses of ts-jest's transformer. */
interface TsJestTransformer {
  process(sourceText: string, sourcePath: string, options: object): { code: string };
  getCacheKey(sourceText: string, sourcePath: string, options: object): string;
}

/** The `transformer` option, checked: undefined for SWC, else ts-jest's options. */
function tsJestOptionsOf(transformer: unknown): Record<string, unknown> | undefined {
  if (transformer === undefined || transformer === "swc") return undefined;
  if (transformer === "ts-jest") return {};
  if (
    Array.isArray(transformer) &&
    transformer.length === 2 &&
    transformer[0] === "ts-jest" &&
    typeof transformer[1] === "object" &&
    transformer[1] !== null &&
    !Array.isArray(transformer[1])
  ) {
    return transformer[1] as Record<string, unknown>;
  }
  throw new PluginOptionsError(
    `diagnose/jest option "transformer" must be "swc", "ts-jest" or ["ts-jest", { …ts-jest options }], got ${JSON.stringify(transformer)}`,
  );
}

/** ts-jest's transformer made with `options`, loaded from the project (Jest's rootDir) or next to diagnose. */
function loadTsJest(rootDir: string | undefined, options: Record<string, unknown>): TsJestTransformer {
  const from = [rootDir === undefined ? undefined : join(rootDir, "package.json"), import.meta.url];
  let lastError: unknown;
  for (const base of from) {
    if (base === undefined) continue;
    let module: { default?: { createTransformer?: unknown }; createTransformer?: unknown };
    try {
      module = createRequire(base)("ts-jest") as typeof module;
    } catch (error) {
      lastError = error;
      continue;
    }
    const factory = module.default?.createTransformer ?? module.createTransformer;
    if (typeof factory !== "function") break;
    return factory.call(module.default ?? module, options) as TsJestTransformer;
  }
  throw new PluginOptionsError(
    `diagnose/jest option transformer "ts-jest": ts-jest could not be loaded from ${rootDir ?? "the project"} (${String(lastError ?? "no createTransformer")}); install it: npm install -D ts-jest`,
  );
}

/** The object Jest uses: `process` and `getCacheKey` (see Jest's `SyncTransformer`). */
export interface DiagnoseJestTransformer {
  readonly canInstrument: false;
  process(sourceText: string, sourcePath: string, options: JestTransformOptions): { code: string };
  getCacheKey(sourceText: string, sourcePath: string, options: JestTransformOptions): string;
}

const load = createRequire(import.meta.url);
const VERSION = ((): string => {
  try {
    return (load("../../../package.json") as { version?: string }).version ?? "";
  } catch {
    return "";
  }
})();

/** Makes a transformer; Jest calls this with the options given in its `transform` entry. */
export function createTransformer(userOptions?: DiagnoseJestOptions): DiagnoseJestTransformer {
  const { transformer, ...pluginOptions } = (userOptions ?? {}) as DiagnoseJestOptions;
  const resolved = resolvePluginOptions(pluginOptions);
  if (resolved.outline !== undefined || resolved.replaceArguments !== undefined || resolved.types !== undefined) {
    throw new PluginOptionsError(`diagnose/jest takes only the options include, exclude, manifest and transformer`);
  }
  const tsJestOptions = tsJestOptionsOf(transformer);
  let tsJest: TsJestTransformer | undefined;
  const tsJestFor = (options: JestTransformOptions): TsJestTransformer =>
    (tsJest ??= loadTsJest(options.config?.rootDir, tsJestOptions ?? {}));
  // Jest passes this transformer's own options as `transformerConfig`; ts-jest reads its own there.
  const forTsJest = (options: JestTransformOptions): object => ({ ...options, transformerConfig: tsJestOptions });

  // ts-jest writes ES modules only with its `useESM` option (and Jest asking for them).
  const formatOf = (options: JestTransformOptions): ModuleFormat =>
    options.supportsStaticESM === true && (tsJestOptions === undefined || tsJestOptions["useESM"] === true)
      ? "module"
      : "commonjs";

  /** Instruments (typed) and hands the result to ts-jest; the output maps to the original. */
  const compileWithTsJest = (
    sourceText: string,
    sourcePath: string,
    options: JestTransformOptions,
    instrumentIt: boolean,
    root: string,
  ): { code: string; sites: ModuleSites | undefined; warnings: readonly string[] } => {
    const out = instrumentIt
      ? instrument(sourceText, sourcePath, {
          root,
          module: formatOf(options) === "module" ? "esm" : "cjs",
          sourceMap: true,
          types: true,
        })
      : undefined;
    const instrumented = out !== undefined && out.skipped === undefined && out.sites !== null ? out : undefined;
    const compiled = tsJestFor(options).process(instrumented?.code ?? sourceText, sourcePath, forTsJest(options));
    const tsMap = inlineSourceMap(compiled.code);
    const code =
      instrumented?.map != null && tsMap !== undefined
        ? withComposedMap(compiled.code, [tsMap, instrumented.map], sourcePath, sourceText)
        : compiled.code;
    return {
      code,
      sites: instrumented?.sites ?? undefined,
      warnings: out?.warnings.map((w) => w.message) ?? [],
    };
  };

  return {
    canInstrument: false,

    process(sourceText, sourcePath, options) {
      const config = configFor(sourcePath, resolved);
      const result =
        tsJestOptions === undefined
          ? compileModule(sourceText, {
              filename: sourcePath,
              format: formatOf(options),
              instrument: isIncluded(config, sourcePath),
              config,
            })
          : compileWithTsJest(sourceText, sourcePath, options, isIncluded(config, sourcePath), config.root);
      if (result.sites !== undefined && config.manifest !== undefined) {
        // Jest compiles in several worker processes and caches what it compiled: each file's entry
        // is merged into the manifest as it is compiled, not collected for the end of a run.
        try {
          writeManifest(config.manifest, [result.sites]);
        } catch (error) {
          process.stderr.write(`diagnose: could not write the site manifest ${config.manifest}: ${String(error)}\n`);
        }
      }
      for (const warning of result.warnings) {
        process.emitWarning(warning, { type: "DiagnoseWarning", code: "DIAGNOSE_UNINSTRUMENTED" });
      }
      return { code: result.code };
    },

    getCacheKey(sourceText, sourcePath, options) {
      const config = configFor(sourcePath, resolved);
      return (
        createHash("sha1")
          .update(VERSION)
          .update("\0")
          .update(sourceText)
          .update("\0")
          .update(sourcePath)
          .update("\0")
          .update(options.configString ?? "")
          .update("\0")
          .update(formatOf(options))
          .update("\0")
          .update(JSON.stringify({ config, included: isIncluded(config, sourcePath) }))
          .update("\0")
          .update(JSON.stringify(compilerOptionsFor(dirname(sourcePath))))
          .update("\0")
          // ts-jest's key covers its options, the tsconfig and the files this one imports.
          .update(
            tsJestOptions === undefined
              ? "swc"
              : tsJestFor(options).getCacheKey(sourceText, sourcePath, forTsJest(options)),
          )
          .digest("hex")
      );
    },
  };
}

/** Jest reads `createTransformer` from the default export (or the module itself). */
const jestTransformer: { createTransformer: typeof createTransformer } = { createTransformer };
export default jestTransformer;
