/**
 * Issue 10 item 2: whatever another copy (or anyone) left in `globalThis[Symbol.for("diagnose.registry")]`,
 * an instrumented module loads, its flags are defined and its functions work — ESM and CommonJS.
 * Each case runs in a fresh process (the slot is realm-wide): the slot is filled first, then the
 * module is loaded, its function called at load time and after, and then the runtime is loaded
 * (it must leave a foreign slot alone and not throw either).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { transformSync } from "@swc/core";
import { instrument } from "../../transformer/index.js";

const RUNTIME = new URL("../../runtime/index.js", import.meta.url).href;

const SOURCE = `export function twice(a: number) {
  const b = a * 2;
  return b;
}
export const atLoad = twice(150);
`;

/** What each case puts in the slot (JavaScript source, evaluated in the child). */
const SLOTS: Record<string, string> = {
  "an ABI-2 object (no register)": `({ abi: 2, queue: [], watch() {}, listFunctions() { return []; } })`,
  "a string": `"occupied"`,
  "a compatible ABI whose register throws": `({ abi: 3, protocol: 3, register() { throw new Error("register exploded"); }, watch() {}, listFunctions() { return []; } })`,
  "a well-behaved registry of another copy that defines no flags": `({ abi: 4, protocol: 1, register(t) { return t; }, watch() {}, listFunctions() { return []; } })`,
  "an object whose register is a throwing getter": `({ abi: 3, get register() { throw new Error("getter"); } })`,
};

let root: string;
const files: Record<"esm" | "cjs", { file: string; hash: string; flags: number }> = {} as never;

before(() => {
  root = mkdtempSync(join(tmpdir(), "diagnose-foreign-slot-"));
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "shop" }));
  mkdirSync(join(root, "src"), { recursive: true });
  const sourceFile = join(root, "src", "twice.ts");
  writeFileSync(sourceFile, SOURCE);
  for (const format of ["esm", "cjs"] as const) {
    const result = instrument(SOURCE, sourceFile, { root, module: format, sourceMap: false });
    const js = transformSync(result.code, {
      filename: sourceFile,
      jsc: { parser: { syntax: "typescript" }, target: "es2022" },
      module: { type: format === "esm" ? "es6" : "commonjs" },
      sourceMaps: false,
    }).code;
    // The module imports nothing, so SWC's CJS output needs no header move (integrations/shared/header.ts).
    const file = join(root, `twice.${format === "esm" ? "mjs" : "cjs"}`);
    writeFileSync(file, js);
    files[format] = {
      file,
      hash: result.sites!.hash,
      flags: result.sites!.functions.reduce((k, f) => k + f.sites.length, 0),
    };
  }
});
after(() => rmSync(root, { recursive: true, force: true }));

function run(
  format: "esm" | "cjs",
  slot: string,
): { status: number | null; out: Record<string, unknown>; stderr: string } {
  const { file, hash, flags } = files[format];
  const load =
    format === "esm" ? `await import(${JSON.stringify(pathToFileURL(file).href)})` : `require(${JSON.stringify(file)})`;
  const script = `
    const { createRequire } = await import("node:module");
    const require = createRequire(${JSON.stringify(pathToFileURL(file).href)});
    globalThis[Symbol.for("diagnose.registry")] = ${slot};
    const out = {};
    try {
      const m = ${load};
      out.atLoad = m.atLoad;
      out.call = m.twice(21);
      out.flagsDefined = Array.from({ length: ${flags} }, (_, i) => globalThis["$dg_${hash}_" + i]).every((v) => v === false);
    } catch (e) {
      out.loadError = String(e);
    }
    try {
      const rt = await import(${JSON.stringify(RUNTIME)});
      const p = rt.probes.attachTo("src/twice.ts:twice");
      p.instruments.set("r", new rt.ProbeTestInstrument("r", "result"));
      try { p.start(); } catch (e) { out.startError = e.code ?? String(e); }
      out.after = (${load}).twice(5);
    } catch (e) {
      out.runtimeError = String(e);
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 30_000,
  });
  let out: Record<string, unknown> = {};
  try {
    out = JSON.parse(child.stdout) as Record<string, unknown>;
  } catch {
    out = { unparsed: child.stdout };
  }
  return { status: child.status, out, stderr: child.stderr };
}

for (const format of ["esm", "cjs"] as const) {
  describe(`${format}: a module loads whatever the slot holds`, () => {
    for (const [name, slot] of Object.entries(SLOTS)) {
      test(name, () => {
        const { status, out, stderr } = run(format, slot);
        assert.equal(status, 0, stderr);
        assert.equal(out["loadError"], undefined, String(out["loadError"]));
        assert.equal(out["atLoad"], 300);
        assert.equal(out["call"], 42);
        assert.equal(out["flagsDefined"], true, "every flag defined (false)");
        assert.equal(out["runtimeError"], undefined, String(out["runtimeError"]));
        assert.equal(out["after"], 10);
      });
    }
  });
}
