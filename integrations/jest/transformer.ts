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
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { writeManifest } from "../../abi/manifest.js";
import { compileModule, type ModuleFormat } from "../shared/compile.js";
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
}

/** What Jest passes to `process` and `getCacheKey` (the parts this transformer reads). */
export interface JestTransformOptions {
  readonly configString?: string;
  readonly supportsStaticESM?: boolean;
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
  const resolved = resolvePluginOptions(userOptions);
  if (resolved.outline !== undefined || resolved.replaceArguments !== undefined) {
    throw new PluginOptionsError(`diagnose/jest takes only the options include, exclude and manifest`);
  }

  const formatOf = (options: JestTransformOptions): ModuleFormat =>
    options.supportsStaticESM === true ? "module" : "commonjs";

  return {
    canInstrument: false,

    process(sourceText, sourcePath, options) {
      const config = configFor(sourcePath, resolved);
      const result = compileModule(sourceText, {
        filename: sourcePath,
        format: formatOf(options),
        instrument: isIncluded(config, sourcePath),
        config,
      });
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
      return createHash("sha1")
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
        .digest("hex");
    },
  };
}

/** Jest reads `createTransformer` from the default export (or the module itself). */
const jestTransformer: { createTransformer: typeof createTransformer } = { createTransformer };
export default jestTransformer;
