/**
 * Sources that try to reach into the site code: `with` bodies, Unicode-escaped identifiers that
 * spell our names, our prefix in strings and property names (issue 10, items 3 and 4).
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { ROOT, instrumentChecked, recordAll, writeTemp } from "./harness.js";

const require = createRequire(import.meta.url);
let unique = 0;
const modulePath = (name: string) => `${ROOT}/src/hostile${unique++}/${name}`;

/** A `with` object that claims every name, as template engines' scope proxies do. */
function scopeProxy(values: Record<string, unknown>): { proxy: object; target: Record<string, unknown> } {
  const target: Record<string, unknown> = { ...values };
  const proxy = new Proxy(target, { has: () => true, get: (t, key) => (typeof key === "string" ? t[key] : undefined) });
  return { proxy, target };
}

const WITH_SOURCE = `
function times3(o) {
  with (o) {
    return x * 3;
  }
}
function nested(o) {
  with (o) {
    const h = function () { return x + 1; };
    return h();
  }
}
function plain(a) {
  return a + 1;
}
module.exports = { times3, nested, plain };
`;

type WithModule = { times3(o: object): unknown; nested(o: object): unknown; plain(a: number): number };

test("code inside a with statement is left uninstrumented, with a warning, and behaves the same off and on", () => {
  const off = instrumentChecked(WITH_SOURCE, modulePath("with.cjs"));
  assert.deepEqual(
    off.sites!.functions.map((f) => f.path),
    ["plain"],
  );
  assert.deepEqual(
    off.warnings.map((w) => [w.code, w.function]),
    [
      ["with-statement", "src/hostile0/with.cjs:times3"],
      ["with-statement", "src/hostile0/with.cjs:nested"],
      ["with-statement", "src/hostile0/with.cjs:nested.h"],
    ],
  );
  const offModule = require(writeTemp("off.cjs", off.code)) as WithModule;
  const a = scopeProxy({ x: 100 });
  assert.equal(offModule.times3(a.proxy), 300);
  assert.equal(offModule.nested(a.proxy), 101);

  const on = instrumentChecked(WITH_SOURCE, modulePath("with.cjs"));
  const rec = recordAll(on);
  try {
    const onModule = require(writeTemp("on.cjs", on.code)) as WithModule;
    const b = scopeProxy({ x: 100 });
    assert.equal(onModule.times3(b.proxy), 300);
    assert.equal(onModule.nested(b.proxy), 101);
    assert.equal(onModule.plain(1), 2);
    assert.deepEqual(Object.keys(b.target), ["x"], "nothing of ours was written into the with object");
    assert.ok(
      rec.events.some((e) => e.hook === "e"),
      "the function outside the with statement still fires",
    );
  } finally {
    rec.dispose();
  }
});

test("a Unicode-escaped identifier that spells a reserved name skips the file with a warning, and it runs as written", () => {
  const source = `function f() {\n  const \\u0024dgr = 6;\n  return \\u0024dgr * 7;\n}\nmodule.exports = { f };\n`;
  const result = instrumentChecked(source, modulePath("escaped.cjs"));
  assert.equal(result.code, source, "left unchanged");
  assert.match(result.skipped ?? "", /reserved identifier \$dgr/);
  assert.deepEqual(
    result.warnings.map((w) => [w.code, w.line, w.column]),
    [["reserved-identifier", 2, 8]],
  );
  assert.match(result.warnings[0]!.message, /escaped\.cjs:2:9: .*\$dgr.*rename it/);
  assert.equal((require(writeTemp("escaped.cjs", result.code)) as { f(): number }).f(), 42);
});

test("our prefix in strings, comments, property names and longer names does not skip the file", () => {
  const source = [
    "// $dg in a comment, $dgr too",
    "function f(o) {",
    '  const label = "$dg and $dgf";',
    "  o.$dgr = 1;",
    "  const my$dgf = 2;",
    "  const $dgx = 3;",
    "  return { $dge: label, n: o.$dgr + my$dgf + $dgx };",
    "}",
    "module.exports = { f };",
    "",
  ].join("\n");
  const result = instrumentChecked(source, modulePath("strings.cjs"));
  assert.equal(result.skipped, undefined);
  assert.deepEqual(
    result.sites!.functions.map((f) => f.path),
    ["f"],
  );
  const rec = recordAll(result);
  try {
    const mod = require(writeTemp("strings.cjs", result.code)) as { f(o: object): unknown };
    assert.deepEqual(mod.f({}), { $dge: "$dg and $dgf", n: 6 });
    assert.ok(rec.events.some((e) => e.hook === "e"));
  } finally {
    rec.dispose();
  }
});
