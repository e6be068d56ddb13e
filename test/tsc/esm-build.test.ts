/**
 * The ESM fixture (module NodeNext, a .cts file among ES modules, JSX, classes, async, generators,
 * namespaces, enums, an import cycle) built with the real tspc and with plain tsc.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { ABI_VERSION, INSTRUMENTED_MARKER, REGISTRY_KEY, type ModuleTable } from "../../abi/index.js";
import { listFunctions, watch } from "../../runtime/registry/index.js";
import { instrument } from "../../transformer/index.js";
import { readManifest } from "../../abi/manifest.js";
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
} from "./helpers.js";

const OUTPUT_EXTENSION: Record<string, string> = { ".ts": ".js", ".tsx": ".js", ".cts": ".cjs", ".mts": ".mjs" };

function outputOf(source: string): string {
  const ext = /\.[cm]?tsx?$/.exec(source)![0];
  return source.replace(/^src\//, "dist/").slice(0, -ext.length) + OUTPUT_EXTENSION[ext];
}

describe(`tspc (TypeScript ${TS_VERSION}, ts-patch ${TS_PATCH_VERSION}): ESM fixture`, () => {
  let p: Project;
  let sources: string[];
  before(() => {
    p = project("esm");
    sources = filesBelow(join(p.dir, "src")).map((f) => `src/${f}`);
    const instrumented = build(p.dir, "tspc");
    assert.equal(instrumented.status, 0, `tspc failed:\n${instrumented.stdout}${instrumented.stderr}`);
    assert.equal(instrumented.stdout, "", "no diagnostics");
    const plain = build(p.dir, "tsc", ["--outDir", "dist-plain"]);
    assert.equal(plain.status, 0, `tsc failed:\n${plain.stdout}${plain.stderr}`);
  });
  after(() => p?.remove());

  test("every module registers the table instrument() produces for the same source", () => {
    assert.ok(sources.length >= 8);
    for (const source of sources) {
      const text = readFileSync(join(p.dir, source), "utf8");
      const expected = instrument(text, join(p.dir, source), pluginOptions(p.dir));
      assert.equal(expected.skipped, undefined, source);
      const js = readFileSync(join(p.dir, outputOf(source)), "utf8");
      const table = registeredTable(js);
      assert.deepEqual(table, registeredTable(expected.code), `${source}: same table as the SWC path`);
      assert.equal(table.m, source);
      assert.equal(table.p, "tsc-esm-fixture");
      assertGuards(js, table, source, expected.code);
      assert.ok(js.startsWith(INSTRUMENTED_MARKER + "\n"), `${source}: the marker is the first line`);
    }
  });

  test("ES module output imports the flag definer first; CommonJS output registers before any require", () => {
    for (const source of sources) {
      const js = readFileSync(join(p.dir, outputOf(source)), "utf8");
      const table = registeredTable(js);
      const header = headerOffset(js);
      assert.ok(header > 0, source);
      if (source.endsWith(".cts")) {
        assert.ok(!js.includes("data:text/javascript"), `${source}: no data: import in CommonJS`);
        const firstRequire = js.indexOf("require(");
        if (firstRequire >= 0) assert.ok(header < firstRequire, `${source}: header before the first require`);
        assertCommonJsPreamble(js.slice(0, header), source);
        continue;
      }
      const imports = [...js.matchAll(/^import [^\n]*$/gm)];
      if (table.n > 0) {
        assert.match(
          imports[0]![0],
          /^import "data:text\/javascript,/,
          `${source}: the flag definer is the first import`,
        );
        assert.ok(imports[0]!.index < header, source);
      }
    }
  });

  test("the tspc build behaves like the plain tsc build, with every site off and with every site on", () => {
    const plain = node(["run.mjs", "dist-plain"], p.dir);
    assert.equal(plain.status, 0, plain.stderr);
    const off = node(["run.mjs", "dist"], p.dir);
    assert.equal(off.status, 0, off.stderr);
    assert.deepEqual(JSON.parse(off.stdout), JSON.parse(plain.stdout));
    const on = node(["run.mjs", "dist", "all-on", REGISTRY_URL], p.dir);
    assert.equal(on.status, 0, on.stderr);
    const result = JSON.parse(on.stdout) as { hookCalls: number; result: unknown };
    assert.deepEqual(result.result, JSON.parse(plain.stdout));
    assert.ok(result.hookCalls > 100, `hooks ran (${result.hookCalls})`);
  });

  test("a probe on a tspc-built function observes arguments and result, and can replace them", async () => {
    const entries: unknown[][] = [];
    const results: unknown[] = [];
    const w = watch("src/math.ts:add", {
      onEntry(frame) {
        entries.push([...frame.args]);
        return frame.args[0] === 100 ? { args: [1, 1] } : undefined;
      },
      onReturn(_frame, _site, value) {
        results.push(value);
        return value === 7 ? { value: 70 } : undefined;
      },
    });
    try {
      const math = (await import(pathToFileURL(join(p.dir, "dist", "math.js")).href)) as {
        add(a: number, b: number): number;
      };
      assert.equal(w.state, "active");
      assert.equal(math.add(2, 3), 5);
      assert.equal(math.add(3, 4), 70, "result replaced");
      assert.equal(math.add(100, 5), 2, "arguments replaced");
      assert.deepEqual(entries, [
        [2, 3],
        [3, 4],
        [100, 5],
      ]);
      assert.deepEqual(results, [5, 7, 2]);
      const fn = listFunctions().find((f) => f.qualifiedName === "src/math.ts:add")!;
      assert.deepEqual(fn.params, ["a", "b"]);
      const slot = (globalThis as Record<symbol, { abi: number }>)[Symbol.for(REGISTRY_KEY)];
      assert.equal(slot?.abi, ABI_VERSION);
    } finally {
      w.close();
    }
  });

  test("tsc's source maps point a thrown error's stack at the original .ts line and column", () => {
    const script = `import { boom, boomDeep } from "./dist/boom.js";
for (const f of [() => boom("x"), () => boomDeep({})]) { try { f(); } catch (e) { console.log(e.stack.split("\\n")[1].trim()); } }`;
    for (const dist of ["dist", "dist-plain"]) {
      const r = node(
        ["--enable-source-maps", "--input-type=module", "-e", script.replace("./dist/", `./${dist}/`)],
        p.dir,
      );
      assert.equal(r.status, 0, r.stderr);
      const [first, second] = r.stdout.trim().split("\n");
      assert.equal(first, `at boom (${join(p.dir, "src", "boom.ts")}:7:9)`, dist);
      assert.equal(second, `at boomDeep (${join(p.dir, "src", "boom.ts")}:11:72)`, dist);
    }
  });

  test("the site manifest lists every module as instrument() describes it", () => {
    const manifest = readManifest(join(p.dir, "diagnose-sites.json"));
    assert.ok(manifest);
    assert.deepEqual(
      manifest.modules.map((m) => m.module),
      [...sources].sort(),
    );
    for (const m of manifest.modules) {
      const expected = instrument(
        readFileSync(join(p.dir, m.module), "utf8"),
        join(p.dir, m.module),
        pluginOptions(p.dir),
      ).sites;
      assert.deepEqual(m, expected, m.module);
    }
  });

  test("the tables of ES modules are the same whether read from text or from the registry", async () => {
    await import(pathToFileURL(join(p.dir, "dist", "constructs.js")).href);
    const registered = listFunctions().filter((f) => f.module === "src/constructs.ts");
    const table: ModuleTable = registeredTable(readFileSync(join(p.dir, "dist", "constructs.js"), "utf8"));
    assert.deepEqual(
      registered.map((f) => f.path),
      functionPaths(table),
    );
  });
});
