/**
 * The build side's third-party packages (@swc/core, magic-string, @jridgewell/remapping, and amaro
 * for the loader's opt-in in-place type strip), loaded on first use instead of imported at the top
 * of a module.
 *
 * They are optionalDependencies of diagnose: a service that only runs prebuilt code (tspc output)
 * installs with `--omit=optional` and never needs a native compiler. A static `import` of a
 * missing package fails while Node links the module graph, before any of our code runs, with
 * Node's own "Cannot find package" error; loading here instead lets `instrument()`, the Node loader
 * and the tsc plugin say which package to install. `require()` keeps the load synchronous (the
 * transformer is called from synchronous module hooks) and works from ESM: @swc/core, remapping and
 * amaro ship CommonJS.
 */
import { createRequire } from "node:module";
import type * as Swc from "@swc/core";
import type * as MagicStringModule from "magic-string";
import type Remapping from "@jridgewell/remapping";
import { DiagnoseError, describeError } from "../errors/index.js";

/** A package the build side needs is not installed (or cannot be loaded on this platform). */
export class MissingDependencyError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_MISSING_DEPENDENCY";
  /** The npm package to install. */
  readonly packageName: string;

  constructor(packageName: string, version: string | undefined, cause: unknown) {
    const spec = version === undefined ? packageName : `${packageName}@${version}`;
    const notInstalled = (cause as { code?: unknown } | null)?.code === "MODULE_NOT_FOUND";
    const what = notInstalled ? "is not installed" : `could not be loaded (${describeError(cause)})`;
    super(
      MissingDependencyError.CODE,
      packageName === "amaro"
        ? `DIAGNOSE_STRIP=in-place needs the package "amaro", which ${what}. Install it next to diagnose: ` +
            `npm install ${spec}. It is an optional dependency of diagnose, left out by --omit=optional and, ` +
            `below its engines range (Node 22+), by npm on Node 20, where it runs all the same. ` +
            `Without DIAGNOSE_STRIP the loader strips types with @swc/core.`
        : `Instrumenting code needs the package "${packageName}", which ${what}. Install it next to diagnose: ` +
            `npm install ${spec}. It is an optional dependency of diagnose, left out by --omit=optional; ` +
            `running code that is already instrumented does not need it.`,
      { cause },
    );
    this.packageName = packageName;
  }
}

const load = createRequire(import.meta.url);

function versionOf(name: string): string | undefined {
  try {
    const manifest = load("../../package.json") as { optionalDependencies?: Record<string, string> };
    return manifest.optionalDependencies?.[name];
  } catch {
    return undefined;
  }
}

function requirePackage<T>(name: string): T {
  try {
    return load(name) as T;
  } catch (error) {
    throw new MissingDependencyError(name, versionOf(name), error);
  }
}

let swcModule: typeof Swc | undefined;
let magicStringModule: typeof MagicStringModule | undefined;
let remappingFunction: typeof Remapping | undefined;

/** @swc/core: the parser and, for the Node loader, the type stripper. */
export function swc(): typeof Swc {
  return (swcModule ??= requirePackage<typeof Swc>("@swc/core"));
}

/**
 * Loads the ES-module packages with `import()` and keeps them for the synchronous accessors. Where
 * `require()` of an ES module is not available — Node 22's module-hooks thread, in which
 * `module.register()` hooks run, cannot resolve it synchronously, and magic-string is ESM only —
 * the Node loader calls this before it compiles anything. Never throws: a package that cannot be
 * imported is reported by its accessor, as before.
 */
export async function preloadBuildDependencies(): Promise<void> {
  magicStringModule ??= (await importOrUndefined("magic-string")) as typeof MagicStringModule | undefined;
  const remap = (await importOrUndefined("@jridgewell/remapping")) as { default?: typeof Remapping } | undefined;
  remappingFunction ??= remap?.default;
}

/** The module, or undefined when it cannot be imported (its accessor reports that). */
async function importOrUndefined(name: string): Promise<unknown> {
  try {
    return await import(name);
  } catch {
    return undefined;
  }
}

/** amaro's strip-only type stripper (integrations/shared/strip-in-place.ts), as much as is used. */
export interface Amaro {
  transformSync(code: string, options: { mode: "strip-only" }): { code: string };
}

let amaroModule: Amaro | undefined;

/** amaro: the WebAssembly build of SWC's type stripper that Node's own type stripping runs. */
export function amaro(): Amaro {
  return (amaroModule ??= requirePackage<Amaro>("amaro"));
}

/** magic-string: `MagicString` and `Bundle`. */
export function magicString(): typeof MagicStringModule {
  return (magicStringModule ??= requirePackage<typeof MagicStringModule>("magic-string"));
}

/** @jridgewell/remapping: composes source maps. */
export function remapping(): typeof Remapping {
  return (remappingFunction ??= requirePackage<typeof Remapping>("@jridgewell/remapping"));
}
