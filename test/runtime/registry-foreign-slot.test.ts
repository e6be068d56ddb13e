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
import { loadFlagRanges } from "../../abi/index.js";
import { instrument } from "../../transformer/index.js";

const RUNTIME = new URL("../../runtime/index.js", import.meta.url).href;

// Outlined, with enough sites (entry, seven lines, exits) that their flags are left to the registry
// (table \`l\`).
const SOURCE = `export function twice(a: number) {
  const b = a * 2;
  const c = b + 0;
  const d = c * 1;
  const e = d - 0;
  const f = e + 0;
  return f;
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
const files: Record<"esm" | "cjs", { file: string; hash: string; atLoad: number[]; lazy: number }> = {} as never;

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
    // The flags the module reads at load (table `l`); the others wait for the registry.
    const flags = Number(/,n:(\d+),/.exec(result.code)![1]);
    const l = /,l:"([-,0-9]*)"/.exec(result.code)?.[1];
    const ranges = l === undefined ? [[0, flags - 1] as const] : loadFlagRanges(l, flags)!;
    const atLoad = ranges.flatMap(([a, z]) => Array.from({ length: z - a + 1 }, (_, i) => a + i));
    files[format] = { file, hash: result.sites!.hash, atLoad, lazy: flags - atLoad.length };
  }
});
after(() => rmSync(root, { recursive: true, force: true }));

function run(
  format: "esm" | "cjs",
  slot: string,
): { status: number | null; out: Record<string, unknown>; stderr: string } {
  const { file, hash, atLoad } = files[format];
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
      out.flagsDefined = ${JSON.stringify(atLoad)}.every((i) => globalThis["$dg_${hash}_" + i] === false);
      out.lazyDefined = Object.keys(Object.getOwnPropertyDescriptors(globalThis)).filter((k) => k.startsWith("$dg_${hash}_")).length - ${atLoad.length};
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
        const { lazy } = files[format];
        assert.equal(status, 0, stderr);
        assert.equal(out["loadError"], undefined, String(out["loadError"]));
        assert.equal(out["atLoad"], 300);
        assert.equal(out["call"], 42);
        assert.equal(out["flagsDefined"], true, "every flag the module reads at load defined (false)");
        assert.ok(lazy > 0, "the fixture has flags its code does not read at load");
        assert.equal(out["lazyDefined"], 0, "the others not defined before a probe needs them");
        assert.equal(out["runtimeError"], undefined, String(out["runtimeError"]));
        assert.equal(out["after"], 10);
      });
    }
  });
}
