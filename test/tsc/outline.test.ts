/**
 * Outlined functions (transformer/outline.ts) built with the real tspc: the fixture's small
 * module-level functions (a getter, a method, a function with a default and a rest parameter, an
 * expression-bodied arrow, a throwing function, a function in a .cts file) keep their plain bodies
 * behind a guard, and their sites run in copies appended to the module; `counter` (returning a
 * closure) and `lazy` (returning an object literal with a getter) are outlined with the functions
 * they define, which are instrumented in both bodies.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import type * as TS from "typescript";
import type { FunctionEntry, ModuleTable } from "../../abi/index.js";
import { watch } from "../../runtime/registry/index.js";
import { instrument } from "../../transformer/index.js";
import { functionNameOf } from "../../transformer/naming.js";
import { synthesizeModule } from "../../transformer/tsc/synthesize.js";
import {
  REGISTRY_URL,
  TS_DIR,
  TS_PATCH_VERSION,
  TS_VERSION,
  assertGuards,
  build,
  filesBelow,
  node,
  pluginOptions,
  project,
  registeredTable,
  type Project,
} from "./helpers.js";

const ts = createRequire(join(TS_DIR, "noop.js"))("typescript") as typeof TS;

function outputOf(source: string): string {
  return source
    .replace(/^src\//, "dist/")
    .replace(/\.ts$/, ".js")
    .replace(/\.cts$/, ".cjs");
}

/** The outlined functions of a table: `[path, copy name]`, in function order. */
function outlinedOf(table: ModuleTable): [string, string][] {
  const entries = JSON.parse(table.f) as FunctionEntry[];
  return entries.flatMap((e, id) => (e[6] !== undefined ? [[e[0], `$dgO${id}`] as [string, string]] : []));
}

/**
 * `code`'s statements, each printed on one line by TypeScript's printer from synthesized nodes
 * (so the layout of the text they came from is gone), without comments and empty statements: the
 * SWC path's `; }` before a catch is an empty statement tsc's adapter does not build.
 */
function statementsOf(code: string): string[] {
  const printer = ts.createPrinter({ removeComments: true });
  const file = ts.createSourceFile("out.js", "", ts.ScriptTarget.ESNext, false, ts.ScriptKind.JS);
  const dropEmpty: TS.TransformerFactory<TS.Node> = (context) => (root) => {
    const visit = (node: TS.Node): TS.Node => {
      const visited = ts.visitEachChild(node, visit, context);
      return ts.isBlock(visited)
        ? context.factory.updateBlock(
            visited,
            visited.statements.filter((s) => !ts.isEmptyStatement(s)),
          )
        : visited;
    };
    return visit(root);
  };
  return synthesizeModule(ts, code)
    .filter((s) => !ts.isEmptyStatement(s))
    .map((s) => printer.printNode(ts.EmitHint.Unspecified, ts.transform(s, [dropEmpty]).transformed[0]!, file));
}

/** The statements after the header's `register(…)` call: the module's own code, then the copies. */
function bodyStatements(code: string): string[] {
  const statements = statementsOf(code);
  const register = statements.findIndex((s) => s.includes(".register({"));
  assert.ok(register >= 0, "the module registers its table");
  return statements.slice(register + 1);
}

describe(`tspc (TypeScript ${TS_VERSION}, ts-patch ${TS_PATCH_VERSION}): outlined functions`, () => {
  let p: Project;
  let sources: string[];
  before(() => {
    p = project("outline");
    sources = filesBelow(join(p.dir, "src")).map((f) => `src/${f}`);
    const instrumented = build(p.dir, "tspc");
    assert.equal(instrumented.status, 0, `tspc failed:\n${instrumented.stdout}${instrumented.stderr}`);
    assert.equal(instrumented.stdout + instrumented.stderr, "", "no diagnostics");
    const plain = build(p.dir, "tsc", ["--outDir", "dist-plain"]);
    assert.equal(plain.status, 0, `tsc failed:\n${plain.stdout}${plain.stderr}`);
  });
  after(() => p?.remove());

  test("every module registers instrument()'s table; the copies follow the module's statements, in function order", () => {
    const outlined: string[] = [];
    for (const source of sources) {
      const expected = instrument(readFileSync(join(p.dir, source), "utf8"), join(p.dir, source), pluginOptions(p.dir));
      const js = readFileSync(join(p.dir, outputOf(source)), "utf8");
      const table = registeredTable(js);
      assert.deepEqual(table, registeredTable(expected.code), `${source}: same table as the SWC path`);
      assertGuards(js, table, source, expected.code);
      const copies = outlinedOf(table);
      assert.equal(table.o, copies.length, `${source}: o counts the outlined functions`);
      // The module ends with the copies' bindings and the binder that creates the copies
      // (header.ts binderOpenCode): method-keyed functions, named by their keys, not renamed.
      assert.doesNotMatch(js, /defineProperty\(\$dgO/, `${source}: no copy is renamed`);
      const all = bodyStatements(js);
      if (copies.length === 0) {
        assert.ok(!all.some((s) => /^function \$dgB\b/.test(s)), `${source}: no binder declaration`);
        continue;
      }
      assert.match(js, /\.register\(\{[\s\S]*\}, \$dgB\);/, `${source}: the header registers the binder`);
      const [bindings, binder] = all.slice(-2);
      assert.equal(bindings, `var ${copies.map(([, name]) => name).join(", ")};`, `${source}: the copies' bindings`);
      assert.match(
        binder!,
        /^function \$dgB\(\$dg_e, \$dg_l, \$dg_x, \$dg_t\) \{\s*\$dgE = \$dg_e;\s*\$dgL = \$dg_l;\s*\$dgX = \$dg_x;\s*\$dgT = \$dg_t;/,
      );
      assert.deepEqual(
        [...binder!.matchAll(/(\$dgO\d+) = \{ "([^"]*)"\(/g)].map((m) => [m[1], m[2]]),
        copies.map(([path, name]) => [name, functionNameOf(path)]),
        `${source}: one copy each, in function order, keyed by the original's name`,
      );
      assert.equal(all.filter((s) => /^function \$dgB\b/.test(s)).length, 1, `${source}: one binder`);
      outlined.push(...copies.map(([path]) => `${source}:${path}`));
    }
    assert.deepEqual(outlined.sort(), [
      "src/base.cts:prefix",
      "src/main.ts:run",
      "src/shapes.ts:Meter.doubled@get",
      "src/shapes.ts:Meter.offset",
      "src/shapes.ts:counter",
      "src/shapes.ts:fail",
      "src/shapes.ts:half",
      "src/shapes.ts:lazy",
      "src/shapes.ts:scaled",
      "src/shapes.ts:scaler",
      "src/shapes.ts:total",
      "src/units.cts:label",
    ]);
    const shapes = readFileSync(join(p.dir, "dist", "shapes.js"), "utf8");
    assert.match(
      shapes,
      /^\s*\$dgO\d+ = \{ "total"\(\$dg_s, first, step, \.\.\.more\) \{$/m,
      "a rest parameter stays one; defaults are evaluated by the plain code",
    );
    assert.match(
      shapes,
      /^export const half = \(n\) => \(\$dg_\w+ \? \$dgO\d+\(n\) : \(n \/ 2\)\);$/m,
      "an arrow calls its copy directly",
    );
    // A body that never reads `this` calls its copy directly, `this` its first argument; one that
    // reads it (itself, or through an arrow it defines) passes it as the receiver.
    assert.match(shapes, /if \(\$dg_\w+\) return \$dgO\d+\(this, first, step, \.\.\.more\);/);
    assert.match(shapes, /if \(\$dg_\w+\) return \$dgO\d+\.call\(this, by\);/, "Meter.offset");
    assert.match(shapes, /if \(\$dg_\w+\) return \$dgO\d+\.call\(this, x\);/, "scaled");
    assert.match(shapes, /if \(\$dg_\w+\) return \$dgO\d+\.call\(this\);/, "scaler");
  });

  test("the output equals instrument()'s compiled by tsc, modulo formatting", () => {
    for (const source of sources) {
      const path = join(p.dir, source);
      const swc = instrument(readFileSync(path, "utf8"), path, pluginOptions(p.dir)).code;
      // The fixture's options; transpileModule has no package.json, so the format is spelled out.
      const module = source.endsWith(".cts") ? ts.ModuleKind.CommonJS : ts.ModuleKind.ESNext;
      const compiled = ts.transpileModule(swc, {
        fileName: path,
        compilerOptions: { target: ts.ScriptTarget.ES2022, module, strict: true },
      }).outputText;
      assert.deepEqual(
        bodyStatements(readFileSync(join(p.dir, outputOf(source)), "utf8")),
        bodyStatements(compiled),
        source,
      );
    }
  });

  test("off, and with every function watched, it behaves like the plain tsc build; every function's hooks fire", () => {
    const plain = node(["run.mjs", "dist-plain"], p.dir);
    assert.equal(plain.status, 0, plain.stderr);
    const expected = JSON.parse(plain.stdout) as unknown;
    const off = node(["run.mjs", "dist"], p.dir);
    assert.equal(off.status, 0, off.stderr);
    assert.deepEqual(JSON.parse(off.stdout), expected);
    const on = node(["run.mjs", "dist", "on", REGISTRY_URL], p.dir);
    assert.equal(on.status, 0, on.stderr);
    const result = JSON.parse(on.stdout) as {
      on: unknown;
      off: unknown;
      events: Record<string, Record<string, number>>;
    };
    assert.deepEqual(result.on, expected, "while watched (outlined functions run their copies)");
    assert.deepEqual(result.off, expected, "after the watches closed");
    const { events } = result;
    assert.deepEqual(events["src/shapes.ts:total"], { entry: 3, line: 9, return: 3 });
    assert.deepEqual(events["src/shapes.ts:Meter.offset"], { entry: 1, line: 3, return: 1 });
    assert.deepEqual(events["src/shapes.ts:Meter.doubled@get"], { entry: 1, line: 1, return: 1 });
    assert.deepEqual(events["src/shapes.ts:half"], { entry: 1, return: 1 });
    assert.deepEqual(events["src/shapes.ts:fail"], { entry: 1, line: 1, throw: 1 });
    assert.deepEqual(events["src/units.cts:label"], { entry: 1, line: 2, return: 1 });
    assert.deepEqual(events["src/shapes.ts:counter"], { entry: 1, line: 2, return: 1 });
    assert.deepEqual(events["src/shapes.ts:counter.<anonymous>"], { entry: 2, return: 2 });
    assert.deepEqual(events["src/shapes.ts:lazy"], { entry: 1, line: 1, return: 1 });
    assert.deepEqual(events["src/shapes.ts:lazy.value@get"], { entry: 1, line: 1, return: 1 });
    assert.deepEqual(events["src/shapes.ts:scaled"], { entry: 1, line: 1, return: 1 });
    assert.deepEqual(events["src/shapes.ts:scaler"], { entry: 1, line: 1, return: 1 });
  });

  test("a probe on an outlined function sees its arguments, locals and result in the copy, and can replace them", async () => {
    const seen: unknown[] = [];
    const w = watch(
      "src/shapes.ts:total",
      {
        onEntry(frame) {
          seen.push(["entry", [...frame.args]]);
          return frame.args[0] === 100 ? { args: [1, 2, [3]] } : undefined;
        },
        onLine: (_frame, site, locals) => void seen.push([site.line, [...locals]]),
        onReturn(_frame, _site, value) {
          seen.push(["return", value]);
          return value === 15 ? { value: 150 } : undefined;
        },
      },
      { lines: "all" },
    );
    try {
      const shapes = (await import(pathToFileURL(join(p.dir, "dist", "shapes.js")).href)) as {
        total(first: number, step?: number, ...more: number[]): number;
      };
      assert.equal(w.state, "active");
      assert.equal(shapes.total(1, 2, 3), 6);
      assert.equal(shapes.total(5), 150, "result replaced");
      assert.equal(shapes.total(100, 1), 6, "arguments replaced, rest included");
      // Line 20 is served by the entry site (before `sum` exists); the replaced arguments are the copy's parameters.
      assert.deepEqual(seen, [
        ["entry", [1, 2, [3]]],
        [20, [1, 2, [3]]],
        [21, [1, 2, [3], 3]],
        [22, [1, 2, [3], 6]],
        ["return", 6],
        ["entry", [5, 10, []]],
        [20, [5, 10, []]],
        [21, [5, 10, [], 15]],
        [22, [5, 10, [], 15]],
        ["return", 15],
        ["entry", [100, 1, []]],
        [20, [1, 2, [3]]],
        [21, [1, 2, [3], 3]],
        [22, [1, 2, [3], 6]],
        ["return", 6],
      ]);
    } finally {
      w.close();
    }
  });

  test("tsc's source maps point a throw in an outlined copy at the original .ts line and column", () => {
    const script = `const { watch } = await import(${JSON.stringify(REGISTRY_URL)});
const { fail } = await import("./dist/shapes.js");
if (process.argv[1] === "on") watch("src/shapes.ts:fail", { onThrow() {} });
try { fail("x"); } catch (e) { console.log(e.stack.split("\\n").slice(1, 3).join("\\n")); }`;
    const file = join(p.dir, "src", "shapes.ts");
    const off = node(["--enable-source-maps", "--input-type=module", "-e", script, "off"], p.dir);
    assert.equal(off.status, 0, off.stderr);
    assert.match(off.stdout, new RegExp(`^\\s*at fail \\(${file}:29:9\\)\\n`));
    const on = node(["--enable-source-maps", "--input-type=module", "-e", script, "on"], p.dir);
    assert.equal(on.status, 0, on.stderr);
    const [copy, original] = on.stdout
      .trim()
      .split("\n")
      .map((l) => l.trim());
    assert.match(
      copy!,
      new RegExp(`^at fail \\(${file}:29:9\\)$`),
      "the copy's frame: the original throw, under the original's name",
    );
    // The guard is synthesized (unmapped): the caller's frame maps to the line the function starts on.
    assert.match(original!, new RegExp(`^at fail \\(${file}:28:\\d+\\)$`));
  });
});
