/**
 * `require()` of TypeScript for Node versions whose module hooks do not cover the CommonJS loader
 * (Node 20 and 22 with `module.register()`): the documented-but-legacy `require.extensions`
 * (`Module._extensions`) entries for `.ts`, `.tsx`, `.cts` and included JavaScript, and a
 * `Module._resolveFilename` fallback for `require("./cart.js")` meaning `cart.ts`.
 *
 * A `require()` of a `.ts` file always compiles it to CommonJS, even under `"type": "module"`:
 * the CommonJS loader can only run CommonJS (as ts-node and tsx do).
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { resolveTypeScriptRequest } from "./resolve.js";
import { handles } from "./policy.js";

type TransformModule = typeof import("./transform.js");
let transformModule: TransformModule | undefined;

/**
 * The compiler is loaded on the first `require()` of TypeScript (require(esm), Node ≥ 20.19): an
 * ES-module-only program on Node 20/22 then never loads SWC in the main thread.
 */
function transformForNode(filename: string, format: "commonjs"): string {
  transformModule ??= createRequire(import.meta.url)("./transform.js") as TransformModule;
  return transformModule.transformForNode(filename, format);
}

interface CjsModule {
  filename: string;
  _compile(code: string, filename: string): unknown;
}
type ExtensionHandler = (module: CjsModule, filename: string) => void;
interface ModuleStatics {
  _extensions: Record<string, ExtensionHandler>;
  _resolveFilename(request: string, parent: CjsModule | undefined, ...rest: unknown[]): string;
}

const INSTALLED = Symbol.for("diagnose.requireHook");

/** Installs the require hook once per process (idempotent). */
export function installRequireHook(): void {
  const g = globalThis as { [INSTALLED]?: boolean };
  if (g[INSTALLED] === true) return;
  g[INSTALLED] = true;
  const Module = createRequire(import.meta.url)("node:module") as ModuleStatics;

  const compileTs: ExtensionHandler = (module, filename) => {
    module._compile(transformForNode(filename, "commonjs"), filename);
  };
  for (const ext of [".ts", ".tsx", ".cts"]) Module._extensions[ext] = compileTs;

  for (const ext of [".js", ".cjs", ".jsx"]) {
    const original = Module._extensions[ext] ?? Module._extensions[".js"]!;
    Module._extensions[ext] = (module, filename) => {
      if (handles(filename)) module._compile(transformForNode(filename, "commonjs"), filename);
      else original(module, filename);
    };
  }

  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (this: unknown, request, parent, ...rest) {
    try {
      return resolveFilename.call(this, request, parent, ...rest);
    } catch (error) {
      if ((error as { code?: unknown }).code !== "MODULE_NOT_FOUND" || parent?.filename === undefined) throw error;
      const found = resolveTypeScriptRequest(request, dirname(parent.filename));
      if (found === undefined) throw error;
      return resolveFilename.call(this, found, parent, ...rest);
    }
  };
}
