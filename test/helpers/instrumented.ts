/**
 * Real instrumented modules for runtime tests: TypeScript source → `instrument()` → types stripped
 * with @swc/core → written under a temporary project root → imported. The project root has a
 * package.json (name "shop"), so the qualified names are predictable: a module written at
 * `src/shop/cart.ts` has functions named "src/shop/cart.ts:Cart.total" etc.
 *
 * Import the runtime before calling this (any test that imports "diagnose" does), or the module
 * registers with the inline bootstrap and is adopted when the runtime loads.
 */
import { transformSync } from "@swc/core";
import { mkdirSync, writeFileSync } from "node:fs";
import { makeTempFolder } from "./temp.js";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { flagName } from "../../abi/index.js";
import { copyTextHash, instrument } from "../../transformer/index.js";

export interface InstrumentedModule<T> {
  /** The module's exports. */
  readonly exports: T;
  /** The temporary project root. */
  readonly root: string;
  /** The module path relative to the root, e.g. "src/shop/cart.ts". */
  readonly modulePath: string;
  /** Absolute path of the original .ts source written under the root. */
  readonly sourceFile: string;
  /** Absolute path of the JavaScript that was imported. */
  readonly outputFile: string;
  /** The instrumented TypeScript (before type stripping). */
  readonly instrumentedCode: string;
  /** The module hash (`h` of its site table). */
  readonly hash: string;
  /** Number of sites (`n` of its site table). */
  readonly siteCount: number;
  /** `modulePath + ":" + path`. */
  qualified(path: string): string;
  /** Ids of the module's sites whose flag is on in this realm. */
  sitesOn(): number[];
  /** With `deferCopies`: the copy text, types stripped (hand it to the registry's `addCopies`). */
  readonly copies: string | undefined;
}

/** Instruments, compiles and imports `source` as `modulePath` (default "src/shop/cart.ts"). */
export async function loadInstrumented<T = Record<string, unknown>>(
  source: string,
  modulePath = "src/shop/cart.ts",
  options: { deferCopies?: boolean } = {},
): Promise<InstrumentedModule<T>> {
  const root = makeTempFolder("test");
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "shop", type: "module" }));
  const sourceFile = join(root, modulePath);
  mkdirSync(dirname(sourceFile), { recursive: true });
  writeFileSync(sourceFile, source);
  const result = instrument(source, sourceFile, {
    root,
    module: "esm",
    sourceMap: false,
    deferCopies: options.deferCopies === true,
  });
  let code = result.code;
  let copies: string | undefined;
  if (result.copies !== undefined) {
    // Deferred copies (site ABI 4): the copy text is TypeScript too; the table names what runs.
    copies = transformSync(result.copies.text, {
      filename: sourceFile,
      isModule: false,
      jsc: { parser: { syntax: "typescript" }, target: "es2022" },
      sourceMaps: false,
    }).code;
    code = code.replace(`c:"${result.copies.hash}"`, `c:"${copyTextHash(copies)}"`);
  }
  const js = transformSync(code, {
    filename: sourceFile,
    jsc: { parser: { syntax: "typescript" }, target: "es2022" },
    module: { type: "es6" },
    sourceMaps: false,
  }).code;
  const outputFile = join(root, "out", modulePath.replace(/\.[cm]?tsx?$/, ".mjs"));
  mkdirSync(dirname(outputFile), { recursive: true });
  writeFileSync(outputFile, js);
  const exports = (await import(pathToFileURL(outputFile).href)) as T;
  if (result.sites === null) throw new Error(`No site table in the instrumented output of ${modulePath}`);
  const hash = result.sites.hash;
  const siteCount = result.sites.functions.reduce((n, fn) => n + fn.sites.length, 0);
  return {
    hash,
    siteCount,
    sitesOn: () => {
      const g = globalThis as Record<string, unknown>;
      return Array.from({ length: siteCount }, (_, id) => id).filter((id) => g[flagName(hash, id)] === true);
    },
    exports,
    root,
    modulePath,
    sourceFile,
    outputFile,
    instrumentedCode: result.code,
    copies,
    qualified: (path: string) => `${modulePath}:${path}`,
  };
}
