/**
 * Outlined functions (transformer/outline.ts): which functions get an instrumented copy, and that
 * the copy behaves like the function it replaces while probes are on — driven by the real
 * runtime registry, executing the output.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { SourceMap, createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import { analyze, isSkipped } from "../../transformer/analyze.js";
import { watch } from "../../runtime/registry/index.js";
import { kinds, recorder } from "../runtime/registry-helpers.js";
import { ROOT, compile, instrumentChecked, recordAll, writeTemp } from "./harness.js";

const require = createRequire(import.meta.url);

/** Qualified path → outlined, for every function of `source`. */
function outlined(source: string, filename = "src/o.ts"): Record<string, boolean> {
  const analysis = analyze(source, `${ROOT}/${filename}`, { root: ROOT });
  assert.ok(!isSkipped(analysis));
  return Object.fromEntries(analysis.functions.map((fn) => [fn.path, fn.outline !== null]));
}

test("small module-level functions are outlined, with the functions they define; anything a module-level copy could not reproduce is not", () => {
  const source = [
    "export function add(a: number, b = 1, ...rest: number[]) { return a + b + rest.length; }",
    "export const double = (x: number) => x * 2;",
    "export class Vec {",
    "  constructor(public x: number) {}",
    "  get len() { return Math.abs(this.x); }",
    "  set len(v) { this.x = v; }",
    "  static of(x: number) { return new Vec(x); }",
    "  scaled(k: number) { return new Vec(this.x * k); }",
    "  viaSuper() { return super.toString(); }",
    "  #hidden = 1;",
    "  peek() { return this.#hidden; }",
    "  field = () => 1;",
    "  *gen() { yield 1; }",
    "  async later() { return 1; }",
    "}",
    "export const api = { get(k: string) { return k; }, arrowThis: () => this };",
    "export function withClosure() { return [1].map((v) => v + 1); }",
    "export function lazy() { return { get v() { return 1; }, m() { return 2; } }; }",
    "export function ownArgs() { return function () { return arguments.length; }; }",
    "export function sharedArgs() { return () => arguments.length; }",
    "export function waits() { return async () => { await null; return 1; }; }",
    "export const arrowThis = () => () => this;",
    "export function classy() { return class { #p = 1; get p() { return this.#p; } }; }",
    "export function args() { return arguments.length; }",
    "export function evaluates(code: string) { return eval(code); }",
    "export function target() { return new.target; }",
    "export function destructured({ a }: { a: number }) { return a; }",
    "export const named = function self(n: number): number { return n > 0 ? self(n - 1) : 0; };",
    "export const anon = function (n: number) { return n; };",
    "if (Math.random() > 2) { function inBlock() { return 1; } }",
    "for (const i of [1]) { const f = () => i; }",
    "export const Expr = class Inner { m() { return Inner; } };",
    "export namespace NS { export function f() { return 1; } }",
    `export function long() { return "${"x".repeat(1300)}"; }`,
  ].join("\n");
  assert.deepEqual(outlined(source), {
    add: true,
    double: true,
    "Vec.constructor": false,
    "Vec.len@get": true,
    "Vec.len@set": true,
    "Vec.of": true,
    "Vec.scaled": true,
    "Vec.viaSuper": false,
    "Vec.peek": false,
    "Vec.field": false,
    "Vec.gen": false,
    "Vec.later": false,
    "api.get": true,
    "api.arrowThis": false,
    withClosure: true,
    "withClosure.map()": false,
    lazy: true,
    "lazy.v@get": false,
    "lazy.m": false,
    ownArgs: true,
    "ownArgs.<anonymous>": false,
    sharedArgs: false,
    "sharedArgs.<anonymous>": false,
    waits: true,
    "waits.<anonymous>": false,
    arrowThis: false,
    "arrowThis.<anonymous>": false,
    classy: false,
    "classy.<anonymous>.p@get": false,
    args: false,
    evaluates: false,
    target: false,
    destructured: false,
    self: false,
    anon: true,
    inBlock: false,
    f: false,
    "Inner.m": false,
    "NS.f": false,
    long: false,
  });
  const off = analyze(source, `${ROOT}/src/o.ts`, { root: ROOT, outline: false });
  assert.ok(!isSkipped(off) && off.functions.every((fn) => fn.outline === null), "outline: false");
});

const dir = mkdtempSync(join(tmpdir(), "diagnose-outline-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** Instruments `source` (checked by the harness), strips types, writes it and imports it. */
async function load<T>(source: string): Promise<{
  module: T;
  hash: string;
  code: string;
  map: import("../../transformer/index.js").SourceMapV3;
  modulePath: string;
}> {
  const modulePath = `src/outline${counter++}.ts`;
  const result = instrumentChecked(source, `${ROOT}/${modulePath}`);
  const file = join(dir, `${modulePath.replace(/\W/g, "_")}.mjs`);
  writeFileSync(file, compile(result.code, "o.ts", "es6"));
  return {
    module: (await import(pathToFileURL(file).href)) as T,
    hash: result.sites!.hash,
    code: result.code,
    map: result.map!,
    modulePath,
  };
}

const SHOP = `export class Cart {
  items: number[] = [];
  static count = 0;
  get size(): number { return this.items.length; }
  add(price: number, qty = 1, ...tags: string[]): this {
    const line = price * qty;
    this.items.push(line + tags.length);
    return this;
  }
  static make(): Cart { Cart.count++; return new Cart(); }
}
export const halve = (x: number) => x / 2;
export function fail(message: string): never {
  throw new Error(message);
}
export const obj = { base: 10, plus(n: number) { return this.base + n; } };
`;

interface Shop {
  Cart: {
    new (): { items: number[]; size: number; add(price: number, qty?: number, ...tags: string[]): unknown };
    make(): { items: number[] };
    count: number;
  };
  halve(x: number): number;
  fail(message: string): never;
  obj: { base: number; plus(n: number): number };
}

test("an outlined function behaves the same off, on (its copy runs, with `this`, defaults and rest) and off again", async () => {
  const { module: shop, modulePath } = await load<Shop>(SHOP);
  const run = () => {
    const cart = shop.Cart.make();
    const c = cart as unknown as {
      add(price: number, qty?: number, ...tags: string[]): unknown;
      size: number;
      items: number[];
    };
    const same = c.add(3) === c && c.add(2, 5, "a", "b") === c;
    return [same, c.items, c.size, shop.halve(9), shop.obj.plus(5)];
  };
  const expected = run();
  assert.deepEqual(expected, [true, [3, 12], 2, 4.5, 15]);

  const watches = ["Cart.add", "Cart.size@get", "Cart.make", "halve", "obj.plus"].map((path) => {
    const r = recorder();
    return { path, r, w: watch(`${modulePath}:${path}`, r, { lines: "all" }) };
  });
  assert.ok(watches.every(({ w }) => w.state === "active"));
  assert.deepEqual(run(), expected);
  const byPath = Object.fromEntries(watches.map(({ path, r }) => [path, r.events]));
  assert.deepEqual(kinds(byPath["Cart.add"]!), [
    "entry",
    "line:6",
    "line:7",
    "line:8",
    "return",
    "entry",
    "line:6",
    "line:7",
    "line:8",
    "return",
  ]);
  const adds = byPath["Cart.add"]!.filter((e) => e.kind === "entry");
  assert.deepEqual(
    adds.map((e) => e.args),
    [
      [3, 1, []],
      [2, 5, ["a", "b"]],
    ],
    "the copy gets the defaulted and rest arguments",
  );
  assert.ok(
    adds.every((e) => e.self instanceof (shop.Cart as unknown as new () => object)),
    "and `this`",
  );
  const lineLocals = byPath["Cart.add"]!.filter((e) => e.kind === "line" && e.site.line === 7);
  assert.deepEqual(
    lineLocals.map((e) => (e as { locals: unknown[] }).locals),
    [
      [3, 1, [], 3],
      [2, 5, ["a", "b"], 10],
    ],
  );
  assert.deepEqual(kinds(byPath["Cart.size@get"]!), ["entry", "line:4", "return"]);
  assert.deepEqual(kinds(byPath["Cart.make"]!), ["entry", "line:10", "return"]);
  assert.deepEqual(kinds(byPath["halve"]!), ["entry", "return"]);
  assert.equal((byPath["halve"]![1] as { value: unknown }).value, 4.5);
  assert.deepEqual(kinds(byPath["obj.plus"]!), ["entry", "line:16", "return"]);
  assert.equal((byPath["obj.plus"]![0] as { self: unknown }).self, shop.obj);

  for (const { w } of watches) w.close();
  const before = watches.map(({ r }) => r.events.length);
  assert.deepEqual(run(), expected);
  assert.deepEqual(
    watches.map(({ r }) => r.events.length),
    before,
    "off again: no hook runs",
  );
});

test("a line probe alone switches the outlined function to its copy", async () => {
  const { module: shop, modulePath } = await load<Shop>(SHOP);
  const r = recorder();
  const w = watch(`${modulePath}:Cart.add`, r, { lines: [7] });
  const cart = new shop.Cart();
  cart.add(4, 2);
  assert.deepEqual(kinds(r.events), ["entry", "line:7", "return"]);
  w.close();
});

test("an error thrown in the copy is the same error, reported at the throw site, and maps to its source line", async () => {
  const { module: shop, modulePath, map, code } = await load<Shop>(SHOP);
  const r = recorder();
  const w = watch(`${modulePath}:fail`, r);
  let caught: Error | undefined;
  try {
    shop.fail("boom");
  } catch (error) {
    caught = error as Error;
  }
  w.close();
  assert.equal(caught?.message, "boom");
  const thrown = r.events.find((e) => e.kind === "throw") as { error: unknown } | undefined;
  assert.equal(thrown?.error, caught, "the throw site saw the error that reached the caller");
  // The `throw` of the copy, found in the output, maps back to line 14 of the source.
  const sourceMap = new SourceMap(map as never);
  const lines = code.split("\n");
  const copyLine = lines.findIndex((l, i) => i > 16 && l.includes("throw new Error(message)"));
  assert.ok(copyLine > 16, "the copy follows the module");
  const entry = sourceMap.findEntry(copyLine, lines[copyLine]!.indexOf("throw new Error"));
  assert.ok("originalLine" in entry, "mapped");
  assert.equal(entry.originalLine + 1, 14);
});

test("a function defined inside an outlined one is in both bodies: its probes fire whichever body made it", async () => {
  const source = `export function pricer(rate: number) {
  const apply = (v: number) => {
    const out = v * rate;
    return out;
  };
  return [1, 2].map(apply);
}
`;
  const { module, modulePath, code } = await load<{ pricer(rate: number): number[] }>(source);
  assert.equal(
    (code.match(/\$dgO0\b/g) ?? []).length,
    3,
    "pricer is outlined: its guard, the binding of its copy and the copy",
  );
  const inner = recorder();
  const w = watch(`${modulePath}:pricer.apply`, inner, { lines: "all" });
  assert.deepEqual(module.pricer(3), [3, 6], "plain body of pricer, instrumented `apply`");
  assert.deepEqual(kinds(inner.events), ["entry", "line:3", "line:4", "return", "entry", "line:3", "line:4", "return"]);
  const outer = recorder();
  const w2 = watch(`${modulePath}:pricer`, outer);
  inner.events.length = 0;
  assert.deepEqual(module.pricer(2), [2, 4], "the copy, with its own instrumented `apply`");
  assert.deepEqual(kinds(outer.events), ["entry", "return"]);
  assert.equal(kinds(inner.events).filter((k) => k === "entry").length, 2);
  assert.deepEqual((inner.events.find((e) => e.kind === "return") as { locals: unknown[] }).locals, [1, 2]);
  w.close();
  w2.close();
  inner.events.length = 0;
  assert.deepEqual(module.pricer(5), [5, 10]);
  assert.deepEqual(inner.events, []);
});

test("a copy whose body starts inside a line maps to the body's columns; many copies map each to its own line", () => {
  let source = "";
  for (let k = 0; k < 50; k++)
    source += `export const f${k} = (a) => { if (a) throw new Error("f${k}"); return ${k}; };\n`;
  const result = instrumentChecked(source, `${ROOT}/src/oneline.js`);
  const sourceMap = new SourceMap(result.map as never);
  const lines = result.code.split("\n");
  const sourceLines = source.split("\n");
  for (const k of [0, 17, 49]) {
    const needle = `throw new Error("f${k}")`;
    // The copy is after the module's own lines.
    const outLine = lines.findIndex((l, i) => i >= sourceLines.length - 1 && l.includes(needle));
    assert.ok(outLine >= sourceLines.length - 1, `copy of f${k} found`);
    const entry = sourceMap.findEntry(outLine, lines[outLine]!.indexOf(needle));
    assert.ok("originalLine" in entry, "mapped");
    assert.equal(entry.originalLine, k, `f${k}: line`);
    assert.equal(entry.originalColumn, sourceLines[k]!.indexOf(needle), `f${k}: column`);
  }
});

test("a copy exists while the module body runs: a top-level call whose probe is already on runs the copy (ESM and CommonJS)", async () => {
  // Flags can be on from the header's registration on (a probe set up before the module loads),
  // so the module's own top-level code may reach a copy long before the module's end: the copy
  // must not wait for evaluation to reach it (it is a hoisted declaration).
  const body = `function total(a) {
  return a * 2;
}
const first = total(21);
`;
  const cases: [string, string, () => Promise<{ first: number; total(a: number): number }>][] = [
    ["early.cjs", `${body}module.exports = { first, total };\n`, async () => require(file!)],
    ["early.mjs", `${body}export { first, total };\n`, async () => import(pathToFileURL(file!).href)],
  ];
  let file: string | undefined;
  for (const [name, source, load] of cases) {
    const result = instrumentChecked(source, `${ROOT}/src/early/${name}`);
    assert.match(result.code, /\$dgO\d+/, `${name}: total is outlined`);
    const rec = recordAll(result);
    try {
      file = writeTemp(name, result.code);
      const mod = await load();
      assert.equal(mod.first, 42, name);
      assert.deepEqual(
        rec.events.filter((e) => e.hook === "e").map((e) => e.args),
        [[21]],
        `${name}: the top-level call ran the copy`,
      );
      assert.equal(mod.total(1), 2);
    } finally {
      rec.dispose();
    }
  }
});

test("the copies see the module's own bindings, whatever their names (the binder's parameters are reserved names)", async () => {
  // The copies are created inside the binder, so a binder parameter named like a module binding
  // (`e`, `l`, `x`, `t`: the hooks' letters) would hide it from them.
  const source = `const e = 1, l = 2, x = 3, t = 4;
export function sum(): number { return e + l + x + t; }
`;
  const { module, modulePath, code } = await load<{ sum(): number }>(source);
  assert.match(code, /\$dgO0 = \{ "sum"\(\$dg_s\) /, "sum is outlined");
  const r = recorder();
  const w = watch(`${modulePath}:sum`, r);
  assert.equal(module.sum(), 10, "the copy reads the module's e, l, x and t");
  assert.deepEqual(kinds(r.events), ["entry", "return"]);
  w.close();
});

test("a sloppy-mode function with a repeated parameter name is not outlined (a method may not repeat one) and still runs", async () => {
  assert.deepEqual(outlined("function dup(a, a) { return a; }\nfunction once(a, b) { return a; }\n", "src/o.cjs"), {
    dup: false,
    once: true,
  });
  const source =
    "function dup(a, a) { return a; }\nfunction once(a, b) { return a + b; }\nmodule.exports = { dup, once };\n";
  const result = instrumentChecked(source, `${ROOT}/src/dup.cjs`);
  const rec = recordAll(result);
  try {
    const mod = require(writeTemp("dup.cjs", result.code)) as {
      dup(a: number, b: number): number;
      once(a: number, b: number): number;
    };
    assert.equal(mod.dup(1, 2), 2);
    assert.equal(mod.once(1, 2), 3);
    assert.equal(rec.events.filter((e) => e.hook === "e").length, 2, "both ran instrumented");
  } finally {
    rec.dispose();
  }
});

test("a copy is a method-keyed function named like the original: no statement renames it", () => {
  const source = `export class Cart {
  get size() { return 1; }
  total(a, b) { return a + b; }
}
export const half = (v) => v / 2;
export default function (a) { return a; }
`;
  const result = instrumentChecked(source, `${ROOT}/src/names.js`);
  const trailer = result.code.slice(result.code.lastIndexOf("\nvar $dgO") + 1);
  assert.match(trailer, /^var \$dgO0, \$dgO1, \$dgO2, \$dgO3; function \$dgB\(\$dg_e, \$dg_l, \$dg_x, \$dg_t\) \{ /);
  assert.deepEqual(
    [...trailer.matchAll(/(\$dgO\d+) = \{ ("[^"]*")\(.*\}\[("[^"]*")\];/g)].map((m) => [m[1], m[2], m[3]]),
    [
      ["$dgO0", '"get size"', '"get size"'],
      ["$dgO1", '"total"', '"total"'],
      ["$dgO2", '"half"', '"half"'],
      ["$dgO3", '"default"', '"default"'],
    ],
  );
  assert.doesNotMatch(result.code, /defineProperty\(\$dgO/);
});

test("a copy is only ever called, in its module's mode: `new` on an outlined function and a call without `this` behave the same on", async () => {
  // A method cannot be constructed and has no `prototype`; the guard never constructs the copy,
  // it calls it with the `this` that `new` (or the caller) gave the original.
  const body = `function Point(x) { this.x = x; }
function who() { return this === undefined ? "undefined" : this === globalThis ? "global" : typeof this; }
`;
  // [file, source, `this` of a plain call, of a call with a string as `this`]
  const cases: [string, string, string, string][] = [
    ["modes.cjs", `${body}module.exports = { Point, who };\n`, "global", "object"],
    ["modes.mjs", `${body}export { Point, who };\n`, "undefined", "string"],
  ];
  for (const [name, source, plainThis, stringThis] of cases) {
    const result = instrumentChecked(source, `${ROOT}/src/modes/${name}`);
    assert.match(result.code, /\$dgO0 = \{ "Point"\(x\) /, `${name}: Point is outlined`);
    assert.match(result.code, /\$dgO1 = \{ "who"\(\) /, `${name}: who is outlined`);
    const rec = recordAll(result);
    try {
      const file = writeTemp(name, result.code);
      type Modes = { Point: new (x: number) => { x: number }; who(): string };
      const mod = (name.endsWith(".cjs") ? require(file) : await import(pathToFileURL(file).href)) as Modes;
      const p = new mod.Point(2);
      assert.equal(p.x, 2, `${name}: the copy set the new object's field`);
      assert.ok(p instanceof mod.Point, `${name}: new returned the object it made`);
      const { who } = mod;
      assert.equal(who(), plainThis, `${name}: no \`this\` is ${plainThis}, as in the plain function`);
      assert.equal(
        mod.who.call("s" as never),
        stringThis,
        `${name}: a primitive \`this\` is boxed in sloppy mode only`,
      );
      assert.equal(rec.events.filter((e) => e.hook === "e").length, 3, `${name}: every call ran the copy`);
    } finally {
      rec.dispose();
    }
  }
});

test("a function whose body never reads `this` calls its copy directly, with `this` as an argument for the probes; one that reads it (itself, through a nested arrow or a member's computed key), and a member, pass it as the receiver", async () => {
  const body = `function add(a, b) { return a + b; }
function getX(dx) { return this.x + dx; }
function viaArrow() { return [1].map(() => this.x)[0]; }
function keyed() { return Object.keys({ [this.k]() { return 1; } })[0]; }
function ownThis() { return function () { return typeof this; }.call("s"); }
function make(x) { return { x, get() { return this.x; } }; }
const tools = { twice(n) { return n * 2; } };
`;
  const names = "add, getX, viaArrow, keyed, ownThis, make, tools";
  // Function → the guard's call of its copy.
  const guards: Record<string, string> = {
    add: "(this, a, b)",
    ownThis: "(this)",
    make: "(this, x)",
    getX: ".call(this, dx)",
    viaArrow: ".call(this)",
    keyed: ".call(this)",
  };
  type Mod = {
    add(a: number, b: number): number;
    getX(dx: number): number;
    viaArrow(): number;
    keyed(): string;
    ownThis(): string;
    make(x: number): { get(): number };
    tools: { twice(n: number): number };
  };
  const receiver = { x: 5, k: "key" };
  const run = (mod: Mod) => {
    const obj = { ...receiver, ...mod };
    return [
      obj.add(2, 3),
      obj.getX(1),
      obj.viaArrow(),
      obj.keyed(),
      obj.ownThis(),
      obj.make(7).get(),
      obj.tools.twice(4),
    ];
  };
  // [file, source, what a nested function sees as its `this` when called with a string]
  const cases: [string, string, string][] = [
    ["direct.cjs", `${body}module.exports = { ${names} };\n`, "object"],
    ["direct.mjs", `${body}export { ${names} };\n`, "string"],
  ];
  for (const [name, source, boxed] of cases) {
    const result = instrumentChecked(source, `${ROOT}/src/direct/${name}`);
    for (const [fn, call] of Object.entries(guards)) {
      const guard = new RegExp(`function ${fn}\\(.*?\\{if \\(\\S+\\) return \\$dgO\\d+(\\S*?\\(.*?\\));`).exec(
        result.code,
      );
      assert.equal(guard?.[1], call, `${name}: ${fn}'s guard`);
    }
    assert.match(result.code, /\$dgO0 = \{ "add"\(\$dg_s, a, b\) /, `${name}: add's copy takes \`this\` first`);
    // A member keeps `.call`, so that its copy's frame is named after the receiver's class, as the original's.
    assert.match(result.code, /twice\(n\) \{if \(\S+\) return \$dgO\d+\.call\(this, n\);/, `${name}: a member`);
    const expected = [5, 6, 5, "key", boxed, 7, 8];
    const load = async (file: string) =>
      (name.endsWith(".cjs") ? require(file) : await import(pathToFileURL(file).href)) as Mod;
    assert.deepEqual(run(await load(writeTemp(`off-${name}`, result.code))), expected, `${name}: off`);
    const rec = recordAll(result);
    try {
      const on = await load(writeTemp(`on-${name}`, result.code));
      const obj = { ...receiver, ...on };
      assert.deepEqual(run(on), expected, `${name}: on, every call in its copy`);
      const functions = result.sites!.functions;
      const entriesOf = (path: string) => {
        const site = functions.find((f) => f.path === path)!.sites.find((s) => s.kind === "entry")!.id;
        return rec.events.filter((e) => e.hook === "e" && e.site === site) as { self: unknown; args: unknown[] }[];
      };
      rec.events.length = 0;
      assert.equal(obj.add(2, 3), 5);
      assert.equal(obj.getX(1), 6);
      assert.deepEqual(
        [...entriesOf("add"), ...entriesOf("getX")].map((e) => [e.self === obj, e.args]),
        [
          [true, [2, 3]],
          [true, [1]],
        ],
        `${name}: the probes see the caller's \`this\` and the arguments, either way`,
      );
      const returns = rec.events.filter((e) => e.hook === "x") as { value: unknown }[];
      assert.deepEqual(
        returns.map((e) => e.value),
        [5, 6],
        `${name}: and the results`,
      );
    } finally {
      rec.dispose();
    }
  }
});
