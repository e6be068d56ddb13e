/**
 * Real instrumented modules for runtime tests: TypeScript source → `instrument()` → types stripped
 * with @swc/core → written under a temporary project root → imported. The project root has a
 * package.json (name "shop"), so the qualified names are predictable: a module written at
 * `src/shop/cart.ts` has functions named "src/shop/cart.ts:Cart.total" etc.
 *
 * Import the runtime before calling this (any test that imports "diagnose" does), or the module
 * registers with the inline bootstrap and is adopted when the runtime loads.
 *
 * Built with deferred copies (site ABI 4) unless `deferCopies` says otherwise; left out, it
 * follows `DIAGNOSE_DEFER_COPIES` as the Node loader does, so `DIAGNOSE_DEFER_COPIES=0 npm test` runs
 * the runtime's tests on inline copies (ABI 3). The output then imports a module that adds its copy
 * text to the copy store of whichever realm loads it (the main thread or a worker).
 */
import { transformSync } from "@swc/core";
import { mkdirSync, writeFileSync } from "node:fs";
import { makeTempFolder } from "./temp.js";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { flagName } from "../../abi/index.js";
import { copyTextHash, instrument } from "../../transformer/index.js";
import { deferCopiesRequested } from "../../integrations/node/transform.js";

/** The runtime's copy store module, as a module of the build imports it. */
const COPIES_URL = new URL("../../runtime/registry/copies.js", import.meta.url).href;

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
  /** With deferred copies: the copy text, types stripped (the output adds it to the copy store). */
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
    deferCopies: options.deferCopies ?? deferCopiesRequested(),
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
  let js = transformSync(code, {
    filename: sourceFile,
    jsc: { parser: { syntax: "typescript" }, target: "es2022" },
    module: { type: "es6" },
    sourceMaps: false,
  }).code;
  const outputFile = join(root, "out", modulePath.replace(/\.[cm]?tsx?$/, ".mjs"));
  mkdirSync(dirname(outputFile), { recursive: true });
  if (copies !== undefined) {
    // Every realm that imports the module needs the text in its own copy store (a worker has its
    // own), before the module registers: a module it imports first puts it there, as a build
    // tool's runtime entry would. On line 1, so the output's line numbers stay.
    const copiesFile = outputFile.replace(/\.mjs$/, ".copies.mjs");
    writeFileSync(
      copiesFile,
      `import { addCopies } from ${JSON.stringify(COPIES_URL)};\naddCopies(${JSON.stringify(copies)});\n`,
    );
    js = `import ${JSON.stringify(`./${basename(copiesFile)}`)}; ${js}`;
  }
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
