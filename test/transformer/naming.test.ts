/** Qualified names (docs/qualified-names.md): one example per rule. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ROOT, instrumentChecked } from "./harness.js";

function names(source: string, file = "src/names.ts"): string[] {
  return instrumentChecked(source, `${ROOT}/${file}`).sites!.functions.map((f) => f.name);
}

test("declarations, classes, members, accessors, computed keys", () => {
  const source = `
function f() { function inner() {} }
class Cart {
  onClick = () => {};
  static create() {}
  #secret() {}
  get total() { return 1; }
  set total(v) {}
  constructor() { this.x = () => {}; }
  ["literal"]() {}
  [42]() {}
  [Symbol.iterator]() {}
  [key]() {}
  static { function helper() {} }
}
`;
  assert.deepEqual(names(source), [
    "src/names.ts:f",
    "src/names.ts:f.inner",
    "src/names.ts:Cart.onClick",
    "src/names.ts:Cart.create",
    "src/names.ts:Cart.#secret",
    "src/names.ts:Cart.total@get",
    "src/names.ts:Cart.total@set",
    "src/names.ts:Cart.constructor",
    "src/names.ts:Cart.x",
    "src/names.ts:Cart.literal",
    "src/names.ts:Cart.42",
    "src/names.ts:Cart[Symbol.iterator]",
    "src/names.ts:Cart.[computed]",
    "src/names.ts:Cart.helper",
  ]);
});

test("variables, objects, assignments, exports", () => {
  const source = `
const handler = () => {};
const api = { get() {}, a: { b() {} }, c: function () {} };
obj.handler = function () {};
exports.foo = function () {};
module.exports.bar = () => {};
Foo.prototype.baz = function () {};
const named = function realName() {};
let pick = cond ? () => 1 : () => 2;
export default function () {}
`;
  assert.deepEqual(names(source), [
    "src/names.ts:handler",
    "src/names.ts:api.get",
    "src/names.ts:api.a.b",
    "src/names.ts:api.c",
    "src/names.ts:handler~2",
    "src/names.ts:foo",
    "src/names.ts:bar",
    "src/names.ts:Foo.baz",
    "src/names.ts:realName",
    "src/names.ts:pick",
    "src/names.ts:pick~2",
    "src/names.ts:default",
  ]);
});

test("anonymous functions: callbacks by callee, others <anonymous>; collisions in source order", () => {
  const source = `
function process(items) {
  items.map((x) => x);
  return () => {};
}
setTimeout(() => {});
(function () {})();
const Anon = class { m() {} };
const c = new (class { m() {} })();
export default class { run() {} }
if (a) { function dup() {} } else { function dup() {} }
`;
  assert.deepEqual(names(source), [
    "src/names.ts:process",
    "src/names.ts:process.map()",
    "src/names.ts:process.<anonymous>",
    "src/names.ts:setTimeout()",
    "src/names.ts:<anonymous>",
    "src/names.ts:Anon.m",
    "src/names.ts:<anonymous>.m",
    "src/names.ts:default.run",
    "src/names.ts:dup",
    "src/names.ts:dup~2",
  ]);
});

test("names are stable when unrelated code changes; only earlier same-named functions shift suffixes", () => {
  const before = names(`function a() {}\nfunction b() { const h = () => 1; }\n`);
  const after = names(`function z() {}\nfunction a() { return 1; }\nfunction b() { const h = () => 1; }\n`);
  assert.deepEqual(after.slice(1), before);
});

test("the module part is the path relative to the root with its extension", () => {
  assert.deepEqual(names("export function f() {}", "lib/deep/x.mts"), ["lib/deep/x.mts:f"]);
});

test("namespaces and JSX attributes", () => {
  const source = `namespace NS { export function f() {} }\nexport const V = () => <i onClick={() => 1} />;\n`;
  assert.deepEqual(names(source, "src/v.tsx"), ["src/v.tsx:NS.f", "src/v.tsx:V", "src/v.tsx:V.onClick"]);
});
