/**
 * The CommonJS fixture (legacy decorators with metadata, parameter properties, enums, namespaces,
 * useDefineForClassFields false, a require cycle, an excluded file, a function the instrumenter
 * must leave alone) built with the real tspc and with plain tsc.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { INSTRUMENTED_MARKER } from "../../abi/index.js";
import { watch } from "../../runtime/registry/index.js";
import { instrument } from "../../transformer/index.js";
import { MANIFEST_VERSION, readManifest } from "../../abi/manifest.js";
import {
  REGISTRY_URL,
  TS_PATCH_VERSION,
  TS_VERSION,
  assertGuards,
  build,
  filesBelow,
  node,
  project,
  registeredTable,
  headerOffset,
  functionPaths,
  assertCommonJsPreamble,
  pluginOptions,
  type Project,
  type RunResult,
} from "./helpers.js";

describe(`tspc (TypeScript ${TS_VERSION}, ts-patch ${TS_PATCH_VERSION}): CommonJS fixture`, () => {
  let p: Project;
  let sources: string[];
  let instrumented: RunResult;
  before(() => {
    p = project("cjs");
    sources = filesBelow(join(p.dir, "src")).map((f) => `src/${f}`);
    instrumented = build(p.dir, "tspc");
    const plain = build(p.dir, "tsc", ["--outDir", "dist-plain"]);
    assert.equal(plain.status, 0, `tsc failed:\n${plain.stdout}${plain.stderr}`);
  });
  after(() => p?.remove());

  test("a function left uninstrumented is reported as a warning at its position; the build is emitted", () => {
    const lines = instrumented.stderr.trim().split("\n");
    assert.deepEqual(lines.length, 1, instrumented.stderr);
    assert.match(
      lines[0]!,
      /^src\/warned\.ts\(3,8\): warning TS99004: diagnose\/transformer: src\/warned\.ts:collides left uninstrumented: the nested function declaration `a` has the name of a parameter/,
    );
    // Warnings are printed on stderr, not reported as diagnostics: tsc would exit with 2 for them.
    assert.equal(instrumented.stdout.trim(), "");
    assert.equal(instrumented.status, 0);
    const js = readFileSync(join(p.dir, "dist", "warned.js"), "utf8");
    const table = registeredTable(js);
    assert.deepEqual(
      functionPaths(table),
      ["collides.a", "fine"],
      "collides itself is left alone, the function inside it is not",
    );
  });

  test("every module registers the table instrument() produces; excluded files stay plain", () => {
    for (const source of sources) {
      const out = join(p.dir, source.replace(/^src\//, "dist/").replace(/\.ts$/, ".js"));
      const js = readFileSync(out, "utf8");
      if (source === "src/excluded.ts") {
        assert.equal(js, readFileSync(out.replace("/dist/", "/dist-plain/"), "utf8"));
        assert.ok(!js.includes(INSTRUMENTED_MARKER));
        continue;
      }
      const expected = instrument(readFileSync(join(p.dir, source), "utf8"), join(p.dir, source), pluginOptions(p.dir));
      const table = registeredTable(js);
      assert.deepEqual(table, registeredTable(expected.code), source);
      assertGuards(js, table, source, expected.code);
      // The header is the first statement after tsc's CommonJS preamble, before any require.
      const header = headerOffset(js);
      assertCommonJsPreamble(js.slice(0, header), source);
      const firstRequire = js.indexOf("require(");
      if (firstRequire >= 0) assert.ok(header < firstRequire, `${source}: header before the first require`);
      assert.ok(!js.includes("data:text/javascript"), `${source}: no data: import in CommonJS`);
    }
  });

  test("the tspc build behaves like the plain tsc build, with every site off and with every site on", () => {
    const plain = node(["run.cjs", "dist-plain"], p.dir);
    assert.equal(plain.status, 0, plain.stderr);
    const off = node(["run.cjs", "dist"], p.dir);
    assert.equal(off.status, 0, off.stderr);
    assert.deepEqual(JSON.parse(off.stdout), JSON.parse(plain.stdout));
    const on = node(["run.cjs", "dist", "all-on", REGISTRY_URL], p.dir);
    assert.equal(on.status, 0, on.stderr);
    const result = JSON.parse(on.stdout) as { hookCalls: number; result: unknown };
    assert.deepEqual(result.result, JSON.parse(plain.stdout));
    assert.ok(result.hookCalls > 20, `hooks ran (${result.hookCalls})`);
  });

  test("site code names the function's own locals, never the module bindings tsc rewrites", () => {
    const seen: unknown[] = [];
    const w = watch(
      "src/shadow.ts:shadow",
      {
        onLine: (_frame, site, locals) => void seen.push([site.line, [...locals]]),
        onReturn: (_frame, site, value, locals) => void seen.push(["return", site.line, value, [...locals]]),
      },
      { lines: "all" },
    );
    try {
      const mod = createRequire(import.meta.url)(join(p.dir, "dist", "shadow.js")) as {
        shadow(n: number): number;
        fromImport: number;
        counter: number;
      };
      assert.equal(mod.fromImport, 7);
      assert.equal(mod.shadow(1), 3);
      assert.deepEqual(seen, [
        [8, [1]],
        [9, [1, 2]],
        [10, [1, 3]],
        ["return", 10, 3, [1, 3]],
      ]);
    } finally {
      w.close();
    }
  });

  test("the manifest goes where the option says (relative to the tsconfig) and merges per module", () => {
    const file = join(p.dir, "out", "sites.json");
    const manifest = readManifest(file);
    assert.ok(manifest);
    assert.deepEqual(
      manifest.modules.map((m) => m.module),
      sources.filter((s) => s !== "src/excluded.ts"),
    );
    // Another build's module stays; this project's modules are replaced, not duplicated.
    const other = { module: "other/x.ts", package: "other", hash: "00000000", functions: [] };
    writeFileSync(file, JSON.stringify({ version: MANIFEST_VERSION, modules: [...manifest.modules, other] }));
    const again = build(p.dir, "tspc");
    assert.equal(again.status, 0, again.stdout + again.stderr);
    const merged = readManifest(file)!;
    assert.deepEqual(merged.modules, [other, ...manifest.modules], "sorted by module path");
    assert.ok(!existsSync(join(p.dir, "diagnose-sites.json")));
  });
});
