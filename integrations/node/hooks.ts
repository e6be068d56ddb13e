/**
 * The loader's `resolve` and `load` hooks.
 *
 * One implementation serves both Node APIs:
 * - `module.register()` (Node 20, 22): this module runs in the hooks thread; `next*` return
 *   promises. `initialize()` receives a port to send manifest entries to the main thread.
 * - `module.registerHooks()` (Node 24+): `createHooks()` runs in the main thread; `next*` return
 *   values and the hooks must answer synchronously. The hooks below never await on their own, so
 *   they return plain values when `next*` does.
 */
import type { MessagePort } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { formatOf, handles } from "./policy.js";
import { setCopiesReporter, setSitesReporter } from "./sites-reporter.js";
import { transformForNode } from "./transform.js";
import { asSpecifier, resolveTypeScriptSpecifier } from "./resolve.js";
import type { ModuleFormat } from "../shared/compile.js";
import { preloadBuildDependencies } from "../../transformer/dependencies.js";

interface ResolveContext {
  parentURL?: string | undefined;
  conditions?: readonly string[];
  importAttributes?: Record<string, string>;
}
interface ResolveResult {
  url: string;
  format?: string | null | undefined;
  shortCircuit?: boolean;
  importAttributes?: Record<string, string>;
}
interface LoadContext {
  format?: string | null | undefined;
  conditions?: readonly string[];
  importAttributes?: Record<string, string>;
}
interface LoadResult {
  format: string;
  source?: string | ArrayBuffer | Uint8Array | null | undefined;
  shortCircuit?: boolean;
}
type MaybePromise<T> = T | Promise<T>;
type NextResolve = (specifier: string, context?: ResolveContext) => MaybePromise<ResolveResult>;
type NextLoad = (url: string, context?: LoadContext) => MaybePromise<LoadResult>;

export interface LoaderHooks {
  resolve(specifier: string, context: ResolveContext, next: NextResolve): MaybePromise<ResolveResult>;
  load(url: string, context: LoadContext, next: NextLoad): MaybePromise<LoadResult>;
}

export interface HookOptions {
  /**
   * True for synchronous hooks (`registerHooks`): CommonJS modules are then always returned with
   * their compiled source, which gives them the full `require` API. With `module.register()` a
   * CommonJS module given a source gets only a subset of it (no `require.cache`), so it is handed
   * to the CommonJS loader instead (where register.ts's require hook compiles it), except when an
   * ES module imports it: Node reads its named exports from the source we give.
   */
  readonly synchronous: boolean;
}

/** Creates the resolve and load hooks. */
export function createHooks(options: HookOptions): LoaderHooks {
  /** Format of every module this loader has seen, by URL. */
  const formats = new Map<string, ModuleFormat>();
  /**
   * Modules imported by an ES module, or required by a CommonJS module that was itself given its
   * source: CommonJS ones among them get their compiled source (see HookOptions.synchronous).
   */
  const withSource = new Set<string>();

  function parentIsEsm(parentURL: string | undefined): boolean {
    if (parentURL === undefined) return false;
    const known = formats.get(parentURL);
    if (known !== undefined) return known === "module";
    if (!parentURL.startsWith("file:")) return true;
    const path = fileURLToPath(parentURL);
    return /\.(?:js|jsx|mjs|mts|ts|tsx)$/.test(path) && formatOf(path) === "module";
  }

  function noteResolved(result: ResolveResult, context: ResolveContext): ResolveResult {
    const url = result.url;
    const parent = context.parentURL;
    // A CommonJS module given its source requires through these hooks (Node's translator), and a
    // nullish source there would make Node run the file from disk as is: its children need
    // their source too.
    if (
      !options.synchronous &&
      url.startsWith("file:") &&
      (parentIsEsm(parent) || (parent !== undefined && withSource.has(parent)))
    ) {
      withSource.add(url);
    }
    return result;
  }

  function resolve(specifier: string, context: ResolveContext, next: NextResolve): MaybePromise<ResolveResult> {
    const retry = (error: unknown): MaybePromise<ResolveResult> => {
      const code = (error as { code?: unknown } | null)?.code;
      if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND" && code !== "ERR_UNSUPPORTED_DIR_IMPORT") {
        throw error;
      }
      const url = resolveTypeScriptSpecifier(specifier, context.parentURL);
      if (url === undefined) throw error;
      return then(next(asSpecifier(url, specifier, context.parentURL), context), (r) => noteResolved(r, context));
    };
    let first: MaybePromise<ResolveResult>;
    try {
      first = next(specifier, context);
    } catch (error) {
      return retry(error);
    }
    if (isPromise(first)) return first.then((r) => noteResolved(r, context), retry);
    return noteResolved(first, context);
  }

  function load(url: string, context: LoadContext, next: NextLoad): MaybePromise<LoadResult> {
    if (!url.startsWith("file:")) return next(url, context);
    const filename = fileURLToPath(url);
    if (!handles(filename)) return next(url, context);
    const format = formatOf(filename);
    formats.set(url, format);
    if (format === "commonjs" && !options.synchronous && !withSource.has(url)) {
      // The CommonJS loader takes it (and register.ts's require hook compiles it).
      return { format: "commonjs", source: null, shortCircuit: true };
    }
    return { format, source: transformForNode(filename, format, !options.synchronous), shortCircuit: true };
  }

  return { resolve, load };
}

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function then<T, R>(value: MaybePromise<T>, fn: (v: T) => R): MaybePromise<R> {
  return isPromise(value) ? value.then(fn) : fn(value);
}

// ---- The module.register() entry points (this file is the hooks module) --------------------------

/** What register.ts passes to `module.register(…, { data })`. */
export interface InitializeData {
  /** Manifest entries are posted here as `{ manifest, sites }`. */
  port?: MessagePort;
}

const asyncHooks = createHooks({ synchronous: false });

/**
 * Called once in the hooks thread by `module.register()`, which waits for it. The compiler's
 * packages are imported here: `require()` of an ES module (magic-string) fails in Node 22's hooks
 * thread, and the compile in `load` is synchronous.
 */
export async function initialize(data: InitializeData | undefined): Promise<void> {
  const port = data?.port;
  if (port !== undefined) {
    setSitesReporter((manifest, sites) => port.postMessage({ manifest, sites }));
    // Posted before the module's source is returned, so the main thread finds it on the port when
    // the module registers (register.ts drains the port synchronously).
    setCopiesReporter((copies) => port.postMessage({ copies }));
    port.unref();
  }
  await preloadBuildDependencies();
}

export const resolve: LoaderHooks["resolve"] = asyncHooks.resolve;
export const load: LoaderHooks["load"] = asyncHooks.load;
