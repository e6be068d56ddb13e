/** Units shared by the integrations: globs, configuration, TS resolution, header placement, errors. */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { matchesGlob } from "../../transformer/glob.js";
import { DiagnoseConfigError, isIncluded, loadConfig, moduleFormatOf } from "../../integrations/shared/config.js";
import { afterPrologue, blankOut, findHeader } from "../../integrations/shared/header.js";
import { DiagnoseError } from "../../errors/index.js";
import { InstrumentSyntaxError } from "../../transformer/index.js";
import { DiagnoseSyntaxError, parseSwcDiagnostic, toSyntaxError } from "../../integrations/shared/errors.js";
import { asSpecifier, typeScriptCandidates } from "../../integrations/node/resolve.js";
import { compilerOptionsFor, stripJsonComments } from "../../integrations/shared/tsconfig.js";
import { tempDir } from "./helpers.js";

describe("glob", () => {
  it("matches *, **, ?, {a,b} and character classes", () => {
    assert.ok(matchesGlob("src/a.ts", "src/*.ts"));
    assert.ok(!matchesGlob("src/x/a.ts", "src/*.ts"));
    assert.ok(matchesGlob("src/x/y/a.ts", "src/**/*.ts"));
    assert.ok(matchesGlob("src/a.ts", "src/**/*.ts"));
    assert.ok(matchesGlob("src", "src/**"));
    assert.ok(matchesGlob("src/deep/file", "src/"));
    assert.ok(matchesGlob("a.mts", "*.{ts,mts}"));
    assert.ok(matchesGlob("b1.ts", "b[0-9].ts"));
    assert.ok(matchesGlob("ab.ts", "a?.ts"));
    assert.ok(!matchesGlob("a/.ts", "a?.ts"));
  });
});

describe("config", () => {
  function project(pkg: object): { dir: string; remove(): void } {
    const t = tempDir("config");
    writeFileSync(join(t.dir, "package.json"), JSON.stringify(pkg));
    return t;
  }

  it("includes TypeScript by default, never node_modules or .d.ts, JavaScript only when included", () => {
    const t = project({ name: "p" });
    try {
      const c = loadConfig(t.dir, {});
      assert.equal(c.packageName, "p");
      assert.ok(isIncluded(c, join(t.dir, "src/a.ts")));
      assert.ok(isIncluded(c, join(t.dir, "src/a.cts")));
      assert.ok(!isIncluded(c, join(t.dir, "src/a.js")));
      assert.ok(!isIncluded(c, join(t.dir, "src/a.d.ts")));
      assert.ok(!isIncluded(c, join(t.dir, "node_modules/x/a.ts")));
      assert.ok(!isIncluded(c, join(t.dir, "..", "outside.ts")));
      const withJs = loadConfig(t.dir, { DIAGNOSE_INCLUDE: "src/**" });
      assert.ok(isIncluded(withJs, join(t.dir, "src/a.js")));
      assert.ok(!isIncluded(withJs, join(t.dir, "test/a.ts")));
    } finally {
      t.remove();
    }
  });

  it('reads package.json "diagnose" and lets the environment override it', () => {
    const t = project({ name: "p", diagnose: { include: ["src/**"], exclude: ["*.test.ts"], manifest: "out/m.json" } });
    try {
      const c = loadConfig(t.dir, {});
      assert.deepEqual(c.include, ["src/**"]);
      assert.equal(c.manifest, join(t.dir, "out/m.json"));
      assert.ok(!isIncluded(c, join(t.dir, "src/deep/a.test.ts")), "a glob without / matches the name anywhere");
      assert.ok(isIncluded(c, join(t.dir, "src/deep/a.ts")));
      const e = loadConfig(t.dir, { DIAGNOSE_INCLUDE: " lib/** , src/x.ts ", DIAGNOSE_EXCLUDE: "lib/gen/**" });
      assert.deepEqual(e.include, ["lib/**", "src/x.ts"]);
      assert.deepEqual(e.exclude, ["lib/gen/**"]);
    } finally {
      t.remove();
    }
  });

  it("rejects bad options with a message naming the option", () => {
    for (const diagnose of [{ include: 3 }, { includes: ["x"] }, "src/**", { manifest: true }]) {
      const t = project({ name: "p", diagnose });
      try {
        assert.throws(
          () => loadConfig(t.dir, {}),
          (e: unknown) => e instanceof DiagnoseConfigError && /diagnose/.test(e.message),
        );
      } finally {
        t.remove();
      }
    }
  });

  it("gives the module format as Node does", () => {
    const t = project({ name: "p", type: "module" });
    try {
      mkdirSync(join(t.dir, "legacy"));
      writeFileSync(join(t.dir, "legacy", "package.json"), "{}");
      assert.equal(moduleFormatOf(join(t.dir, "a.ts")), "module");
      assert.equal(moduleFormatOf(join(t.dir, "a.cts")), "commonjs");
      assert.equal(moduleFormatOf(join(t.dir, "legacy", "a.ts")), "commonjs");
      assert.equal(moduleFormatOf(join(t.dir, "legacy", "a.mts")), "module");
    } finally {
      t.remove();
    }
  });
});

describe("tsconfig", () => {
  it("reads JSONC with extends", () => {
    const t = tempDir("tsconfig");
    try {
      writeFileSync(join(t.dir, "base.json"), '{ /* c */ "compilerOptions": { "experimentalDecorators": true, } }');
      mkdirSync(join(t.dir, "app"));
      writeFileSync(
        join(t.dir, "app", "tsconfig.json"),
        '{ "extends": "../base.json", // x\n "compilerOptions": { "jsx": "react-jsx" } }',
      );
      const o = compilerOptionsFor(join(t.dir, "app"));
      assert.equal(o.experimentalDecorators, true);
      assert.equal(o.jsx, "react-jsx");
      assert.equal(stripJsonComments('{"a": "//not a comment",}'), '{"a": "//not a comment"}');
    } finally {
      t.remove();
    }
  });
});

describe("TypeScript resolution", () => {
  it("maps output names and extensionless paths to TypeScript candidates", () => {
    assert.deepEqual(typeScriptCandidates("/p/cart.js"), ["/p/cart.ts", "/p/cart.tsx"]);
    assert.deepEqual(typeScriptCandidates("/p/lib.cjs"), ["/p/lib.cts"]);
    assert.deepEqual(typeScriptCandidates("/p/lib.mjs"), ["/p/lib.mts"]);
    assert.deepEqual(typeScriptCandidates("/p/cart.ts"), []);
    assert.deepEqual(typeScriptCandidates("/p/shop").slice(0, 2), ["/p/shop.ts", "/p/shop.tsx"]);
    assert.ok(typeScriptCandidates("/p/shop").includes("/p/shop/index.ts"));
  });

  it("writes a found file as a specifier both resolvers accept", () => {
    assert.equal(asSpecifier("file:///p/src/a.ts", "./a.js", "file:///p/src/b.ts"), "./a.ts");
    assert.equal(asSpecifier("file:///p/a.ts", "../a.js", "file:///p/src/b.ts"), "../a.ts");
    assert.equal(asSpecifier("file:///p/a.ts", "file:///p/a.js", "file:///p/b.ts"), "file:///p/a.ts");
  });
});

describe("CommonJS header placement", () => {
  const header =
    'const $dg_abc = (globalThis[Symbol.for("diagnose.registry")] ??= { r(t) { return t; } }).register({ m: "a;b" });';

  it("finds the header statement, strings and nesting included", () => {
    const code = `/*diagnose:instrumented*/\n"use strict";\n${header}\nimport x from "y";\n`;
    const span = findHeader(code, "abc");
    assert.ok(span);
    assert.equal(code.slice(span[0], span[1]), header);
    const blank = blankOut(code, span);
    assert.equal(blank.length, code.length);
    assert.equal(blank.split("\n").length, code.split("\n").length);
    assert.equal(findHeader(code, "zzz"), undefined);
  });

  it("goes after the hashbang and the directive prologue", () => {
    const js = '#!/usr/bin/env node\n/* c */ "use strict";\n"use client";\nconst a = require("a");\n';
    assert.equal(js.slice(afterPrologue(js)), '\nconst a = require("a");\n');
    assert.equal(afterPrologue("const a = 1;"), 0);
    assert.equal(afterPrologue('"a" + b;'), 0);
  });
});

describe("syntax errors", () => {
  it("reads the location from SWC's diagnostic", () => {
    const text =
      "  x Expected ',', got 'ident'\n   ,-[/t.ts:3:1]\n 2 | const b = 2;\n 3 | foo(a b);\n   :       ^\n   `----\n";
    assert.deepEqual(parseSwcDiagnostic(text), { line: 3, column: 7, reason: "Expected ',', got 'ident'" });
  });

  it("turns located errors into DiagnoseSyntaxError with file:line:col and the line", () => {
    const fromTransformer = new InstrumentSyntaxError("/p/a.ts", 2, 5, "Expression expected");
    const e = toSyntaxError(fromTransformer, "/p/a.ts", "one\nlet = = 2;\n");
    assert.ok(e instanceof DiagnoseSyntaxError);
    assert.ok(e instanceof DiagnoseError);
    assert.equal(e.code, "DIAGNOSE_SYNTAX");
    assert.equal(e.name, "SyntaxError");
    assert.equal(e.message, "/p/a.ts:2:5: Expression expected");
    assert.ok(e.stack?.startsWith("/p/a.ts:2\nlet = = 2;\n    ^\n"));
    const other = new TypeError("unrelated");
    assert.equal(toSyntaxError(other, "/p/a.ts", ""), other);
  });
});

describe("compile pipeline", () => {
  it("puts the ABI header before the requires SWC hoists, and caches by content", async () => {
    const { compileModule } = await import("../../integrations/shared/compile.js");
    const t = tempDir("compile");
    try {
      writeFileSync(join(t.dir, "package.json"), JSON.stringify({ name: "c" }));
      const filename = join(t.dir, "a.ts");
      const source = 'import { x } from "./b.js";\nexport function f(n: number): number {\n  return n + x;\n}\n';
      const request = { filename, format: "commonjs" as const, instrument: true, config: loadConfig(t.dir, {}) };
      const out = compileModule(source, request);
      const header = out.code.search(/var \$dgE, /);
      assert.ok(header > 0, out.code);
      assert.ok(header < out.code.indexOf("require("), out.code);
      assert.ok(out.code.indexOf('"use strict"') < header);
      assert.match(out.code, /\n\/\/# sourceMappingURL=data:application\/json;charset=utf-8;base64,/);
      assert.equal(out.sites?.module, "a.ts");
      assert.equal(compileModule(source, request), out, "same content: cached result");
      assert.notEqual(compileModule(source + "\n", request), out);
    } finally {
      t.remove();
    }
  });
});
