/** Inputs: non-ASCII text, BOM, hashbang, comments, ignore comments, options and errors. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TransformOptionsError, InstrumentSyntaxError, instrument } from "../../transformer/index.js";
import { globToRegExp, matchesAny } from "../../transformer/glob.js";
import { analyze, isSkipped } from "../../transformer/analyze.js";
import { ROOT, compile, importTemp, instrumentChecked } from "./harness.js";

const file = (name: string) => `${ROOT}/src/${name}`;

test("non-ASCII text before functions: byte spans become UTF-16 positions", async () => {
  const source = [
    `// é 中文 😀 comment`,
    `const s = "é中文😀";`,
    `export function f(a: string) {`,
    `  const t = "😀" + a; /* 中文 */ return t + s;`,
    `}`,
    `export const g = () => "é" + f("中");`,
  ].join("\n");
  const result = instrumentChecked(source, file("unicode.ts"));
  const [f, g] = result.sites!.functions;
  assert.deepEqual([f!.line, f!.column], [3, 7]);
  const ret = f!.sites.find((s) => s.kind === "return")!;
  assert.deepEqual([ret.line, ret.column], [4, 31], "😀 counts 2 UTF-16 units, 中文 one each");
  assert.deepEqual(ret.locals, ["a", "t"]);
  assert.deepEqual([g!.line, g!.column], [6, 17]);
  const mod = await importTemp<{ g(): string }>("u.mjs", compile(result.code, "u.ts", "es6"));
  assert.equal(mod.g(), "é😀中é中文😀");
});

test("BOM, hashbang and leading comments: marker and header placement", () => {
  const bom = instrumentChecked("\uFEFF// c\nexport function f() { return 1; }", file("bom.ts"));
  assert.ok(bom.code.startsWith("\uFEFF/*diagnose:instrumented*/// c\n"));
  const noBom = instrumentChecked("// c\nexport function f() { return 1; }", file("bom.ts"));
  assert.equal(
    bom.sites?.hash,
    noBom.sites?.hash,
    "the hash ignores a BOM (tsc strips it before plugins see the text)",
  );
  assert.deepEqual([bom.sites!.functions[0]!.line, bom.sites!.functions[0]!.column], [2, 7]);

  const bang = instrumentChecked(
    "#!/usr/bin/env node\n/** @license x */\nfunction main() {}\nmain();\n",
    file("cli.js"),
  );
  assert.ok(
    bang.code.startsWith("#!/usr/bin/env node\n/*diagnose:instrumented*//** @license x */\nvar $dg_"),
    bang.code,
  );
  // An outlined function's copy follows the module (`main` is outlined, and calls its copy
  // directly: it reads no `this`): the source's lines keep their numbers.
  const lines = bang.code.split("\n");
  assert.ok(
    lines[2]!.endsWith(
      "function main() {if ($dg_" + bang.sites!.hash + "_3) return $dg_" + bang.sites!.hash + "O0(this); }",
    ),
    bang.code,
  );
  assert.deepEqual(lines.slice(3, 5), ["main();", ""], bang.code);
  assert.match(
    lines[5]!,
    /^var (\$dg_\w+)O0; function \1B\(\$dg_e, \$dg_l, \$dg_x, \$dg_t\) \{ .* \1O0 = \{ "main"\(\$dg_s\) \{var \$dgf.* \}\["main"\]; \}$/,
    "the binder, with the copy, on the line after the module",
  );
  assert.equal(lines.length, 6);
  assert.equal(
    instrumentChecked("#!/usr/bin/env node\nfunction main() {}\n", file("cli.js"), { outline: false }).code.split("\n")
      .length,
    3,
    "without outlining no line is added",
  );

  const directive = instrumentChecked(
    `"use client"\nimport x from "y";\nexport function f() { return x; }\n`,
    file("dir.ts"),
  );
  assert.match(directive.code, /^\/\*diagnose:instrumented\*\/"use client";import "data:text\/javascript,/);
});

test("the ESM flag definer is a properly encoded data: URL", async () => {
  const result = instrumentChecked(`import { x } from "./x.js";\nexport function f() { return 1; }\n`, file("esm.ts"));
  const url = /import "(data:text\/javascript,[^"]*)"/.exec(result.code)![1]!;
  assert.ok(
    !/[\s"%]{1}(?![0-9A-F]{2})/.test(url.slice("data:text/javascript,".length).replace(/%[0-9A-F]{2}/g, "")),
    "encoded",
  );
  const g = globalThis as unknown as Record<string, unknown>;
  const name = `$dg_${result.sites!.hash}_1`;
  g[name] = true; // already defined: left alone
  try {
    await import(url);
    assert.equal(g[name], true);
    assert.equal(g[`$dg_${result.sites!.hash}_0`], false);
    assert.equal(Object.getOwnPropertyDescriptor(globalThis, `$dg_${result.sites!.hash}_0`)!.enumerable, false);
  } finally {
    for (let i = 0; i < 3; i++) delete g[`$dg_${result.sites!.hash}_${i}`];
  }
});

test("diagnose-ignore-next skips a function and everything inside; diagnose-ignore-file skips the file", () => {
  const source = `
// diagnose-ignore-next
function skipped() { return () => 1; }
function kept() {
  // diagnose-ignore-next
  const cb = () => 2;
  /* diagnose-ignore-next */ doWork();
  return cb;
}
const o = {
  // diagnose-ignore-next
  m() {},
  n() {},
};
`;
  const result = instrumentChecked(source, file("ignore.ts"));
  assert.deepEqual(
    result.sites!.functions.map((f) => f.path),
    ["kept", "o.n"],
  );
  const kept = result.sites!.functions[0]!;
  assert.deepEqual(
    kept.sites.filter((s) => s.kind === "line").map((s) => s.line),
    [8],
    "ignored statements get no line site",
  );
  const file2 = instrument(`/* header */\n// diagnose-ignore-file\nexport function f() {}`, file("ign.ts"), {
    root: ROOT,
  });
  assert.equal(file2.skipped, "diagnose-ignore-file comment");
  assert.equal(file2.sites, null);
});

test("skipped inputs: .d.ts, excluded, not included, unsupported extension", () => {
  assert.equal(instrument("declare function f(): void;", file("x.d.ts"), { root: ROOT }).skipped, "declaration file");
  assert.equal(
    instrument("function f() {}", file("a.test.ts"), { root: ROOT, exclude: ["*.test.ts"] }).skipped,
    "matched by exclude",
  );
  assert.equal(
    instrument("function f() {}", file("a.ts"), { root: ROOT, include: ["lib/**"] }).skipped,
    "not matched by include",
  );
  assert.equal(
    instrument("function f() {}", file("a.ts"), { root: ROOT, include: ["src/**/*.ts"] }).skipped,
    undefined,
  );
  assert.equal(instrument("x", file("a.vue"), { root: ROOT }).skipped, "unsupported file extension");
});

test("glob matcher: **, *, ?", () => {
  assert.ok(matchesAny("src/a/b/c.ts", ["src/**/*.ts"]));
  assert.ok(matchesAny("src/c.ts", ["src/**/*.ts"]));
  assert.ok(!matchesAny("lib/c.ts", ["src/**"]));
  assert.ok(matchesAny("deep/x.test.ts", ["*.test.ts"]), "a pattern without / matches in any folder");
  assert.ok(matchesAny("src/a1.ts", ["src/a?.ts"]));
  assert.ok(!matchesAny("src/a/1.ts", ["src/a?.ts"]));
  assert.equal(globToRegExp("a.b(c)").test("a.b(c)"), true);
});

test("bad options throw TransformOptionsError naming the option", () => {
  const bad: [object, string][] = [
    [{ module: "amd" }, "module"],
    [{ sourceMap: "yes" }, "sourceMap"],
    [{ include: "src/**" }, "include"],
    [{ rot: "/x" }, "rot"],
    [{ inputSourceMap: "{not json" }, "inputSourceMap"],
    [{ inputSourceMap: { version: 3 } }, "inputSourceMap"],
  ];
  for (const [options, name] of bad) {
    assert.throws(
      () => instrument("function f() {}", file("a.ts"), options as never),
      (e: unknown) => e instanceof TransformOptionsError && e.option === name && e.message.includes(name),
    );
  }
});

test("syntax errors carry file:line:col, also after non-ASCII text", () => {
  assert.throws(
    () => instrument(`const é = "中文";\nfunction f() {\n  let a = ;\n}`, file("bad.ts"), { root: ROOT }),
    (e: unknown) =>
      e instanceof InstrumentSyntaxError &&
      e.line === 3 &&
      e.column === 11 &&
      e.code === "DIAGNOSE_INSTRUMENT_SYNTAX" &&
      e.message.startsWith(`${file("bad.ts")}:3:11: Expression expected`),
  );
});

test("defaults: root and package from the nearest package.json, format from syntax", () => {
  const a = analyze(
    "export function f() {}",
    new URL("../../../test/fixtures/transformer/sub/x.ts", import.meta.url).pathname,
  );
  assert.ok(!isSkipped(a));
  assert.equal(a.package, "diagnose");
  assert.equal(a.module, "test/fixtures/transformer/sub/x.ts");
  assert.equal(a.format, "esm");
  const s = analyze("function f() {}", "/nowhere/x.ts", { root: "/nowhere", packageName: "" });
  assert.ok(!isSkipped(s));
  assert.equal(s.format, "script");
  const c = analyze("export function f() {}", "/nowhere/x.cts", { root: "/nowhere" });
  assert.ok(!isSkipped(c) && c.format === "cjs");
});

test("the module hash is 8 base-36 characters, stable, and depends on package, path and text", () => {
  const h = (code: string, name: string, pkg: string) =>
    instrument(code, file(name), { root: ROOT, packageName: pkg }).sites!.hash;
  const base = h("function f() {}", "a.ts", "p");
  assert.match(base, /^[0-9a-z]{8}$/);
  assert.equal(h("function f() {}", "a.ts", "p"), base);
  assert.notEqual(h("function f() { }", "a.ts", "p"), base);
  assert.notEqual(h("function f() {}", "b.ts", "p"), base);
  assert.notEqual(h("function f() {}", "a.ts", "q"), base);
});

test("a construct that cannot be wrapped safely stays uninstrumented with a warning", async () => {
  const source = `export function clash(x: number) {\n  var helper = 1;\n  function helper() {}\n  return helper + x;\n}\nexport function fine() { return 2; }\n`;
  const result = instrumentChecked(source, file("clash.ts"));
  assert.deepEqual(
    result.sites!.functions.map((f) => f.path),
    ["clash.helper", "fine"],
    "only the unsafe function itself is left out",
  );
  assert.equal(result.warnings.length, 1);
  const w = result.warnings[0]!;
  assert.equal(w.code, "function-declaration-collision");
  assert.equal(w.function, "src/clash.ts:clash");
  assert.match(w.message, /clash\.ts:1:8: src\/clash\.ts:clash left uninstrumented: .*`helper`/);
  const mod = await importTemp<{ clash(x: number): number }>("c.mjs", compile(result.code, "c.ts", "es6"));
  assert.equal(mod.clash(1), 2);
});

test("sources using the reserved $dg prefix are skipped", () => {
  assert.match(instrument("const $dgf = 1;", file("r.ts"), { root: ROOT }).skipped!, /reserved/);
  // The bare `$dg` is the module handle of ESM/CJS output; `$dgx` is another name.
  assert.match(instrument("export const $dg = 1;", file("r.ts"), { root: ROOT }).skipped!, /reserved/);
  assert.equal(instrument("export const $dgx = () => 1;", file("r.ts"), { root: ROOT }).skipped, undefined);
  // The hook bindings `$dgE`…, the identity `$dgI` and outlined copies `$dgO1`: any capital after `$dg`.
  for (const name of ["$dgE", "$dgT", "$dgI", "$dgO1"]) {
    assert.match(instrument(`export function ${name}() {}`, file("r.ts"), { root: ROOT }).skipped!, /reserved/, name);
  }
});

test("InstrumentResult.header is the range of the header statement(s) in the output", () => {
  for (const [source, module] of [
    ['"use client"\nexport const f = () => 1;\n', "esm"],
    ["#!/usr/bin/env node\n// licence\nconst g = function () { return 2; };\n", "cjs"],
    ["function h() {}\n", "script"],
  ] as const) {
    const result = instrument(source, file("h.ts"), { root: ROOT, module });
    const { start, end } = result.header!;
    const header = result.code.slice(start, end);
    assert.match(
      header,
      module === "esm"
        ? /^import "data:text\/javascript,[^"]*";var \$dgE, \$dgL, \$dgX, \$dgT; function \$dgI\(v\) \{ return v; \} try \{ globalThis/
        : /^var (\$dg\w*)E, \1L, \1X, \1T; function \1I\(v\) \{ return v; \} for\(let i=0;i<\d+;i\+\+\)\{.*?\} try \{ \(globalThis/,
      header,
    );
    // With outlined functions the header registers the binder declared at the module's end.
    assert.match(header, /(?:\}|, \$dg\w*B)\); \} catch \(e\) \{\}$/, header);
    assert.equal(result.code.slice(0, start) + result.code.slice(end), result.code.replace(header, ""));
  }
  assert.equal(instrument("const $dgf = 1;", file("r.ts"), { root: ROOT }).header, null);
});
