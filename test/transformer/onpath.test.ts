/**
 * The on-path, driven exactly as the runtime will drive it (flags are globals, register() returns
 * the table with hooks e/l/x/t): arguments, `this`, locals, replaced arguments and return values,
 * thrown errors, pauses in async code, fault injection and generator entry.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SITE_STRIDE, decodeLocals, decodeSites, siteCount } from "../../abi/index.js";
import type { InstrumentResult } from "../../transformer/index.js";
import { ROOT, compile, importTemp, instrumentChecked, recordAll, type Recorder } from "./harness.js";

let unique = 0;

async function load<T>(source: string): Promise<{
  mod: T;
  rec: Recorder;
  result: InstrumentResult;
  site(path: string, kind: string, nth?: number): number;
}> {
  const result = instrumentChecked(source, `${ROOT}/src/onpath/${unique++}.ts`, { replaceArguments: true });
  const rec = recordAll(result);
  const mod = await importTemp<T>("on.mjs", compile(result.code, "on.ts", "es6"));
  const site = (path: string, kind: string, nth = 0) => {
    const fn = result.sites!.functions.find((f) => f.path === path);
    assert.ok(fn, `function ${path}`);
    const s = fn.sites.filter((x) => x.kind === kind)[nth];
    assert.ok(s, `${kind} site #${nth} of ${path}`);
    return s.id;
  };
  return { mod, rec, result, site };
}

const SOURCE = `
export class K {
  constructor(public base: number) {}
  add(a: number, b = 1, ...rest: number[]) {
    const sum = a + b + rest.length;
    return sum + this.base;
  }
}
export class D extends K {
  constructor() {
    super(100);
  }
}
export const arrow = (x: number) => x * 2;
export function thrower(e: unknown) {
  const local = "L";
  throw e;
}
export function shape({ x, y }: { x: number; y: number }, [z]: number[]) {
  return x + y + z;
}
`;

test("entry gets this and the arguments; frame.a replaces plain, default and rest parameters", async () => {
  const { mod, rec, site } = await load<{
    K: new (n: number) => { add(a: number, b?: number, ...r: number[]): number };
    D: new () => unknown;
  }>(SOURCE);
  try {
    const addEntry = site("K.add", "entry");
    rec.onEntry = (s) => (s === addEntry ? { a: [10, 20, [1, 2, 3]] } : {});
    const k = new mod.K(5);
    assert.equal(k.add(1), 38, "10 + 20 + 3 + base 5");
    const entry = rec.events.find((e) => e.site === addEntry)!;
    assert.equal(entry.self, k);
    assert.deepEqual(entry.args, [1, 1, []], "defaults are applied before the body runs");
    const ret = rec.events.find((e) => e.site === site("K.add", "return"))!;
    assert.deepEqual(ret.locals, [10, 20, [1, 2, 3], 33], "locals a, b, rest, sum after replacement");
    assert.equal(ret.value, 38);
    const table = rec.table();
    assert.deepEqual(decodeLocals(table.v)[decodeSites(table.s, siteCount(table))![ret.site * SITE_STRIDE + 4]!], [
      "a",
      "b",
      "rest",
      "sum",
    ]);
    // Derived constructor starting with `super(…)`: the call stays before the site code, so the
    // base constructor is entered first and the derived one's entry gets `this`.
    const d = new mod.D();
    const dEntry = rec.events.findIndex((e) => e.site === site("D.constructor", "entry"));
    const kEntry = rec.events.findLastIndex((e) => e.site === site("K.constructor", "entry"));
    assert.equal(rec.events[dEntry]!.self, d);
    assert.equal(rec.events[kEntry]!.self, d);
    assert.ok(kEntry < dEntry, "the base constructor's entry comes first");
  } finally {
    rec.dispose();
  }
});

test("x replaces the returned value; arrows pass undefined as this", async () => {
  const { mod, rec, site } = await load<{ arrow(x: number): number }>(SOURCE);
  try {
    const ret = site("arrow", "return");
    rec.onReturn = (s, value) => (s === ret ? (value as number) + 1 : value);
    assert.equal(mod.arrow(2), 5);
    assert.equal(rec.events.find((e) => e.site === site("arrow", "entry"))!.self, undefined);
    assert.deepEqual(rec.events.find((e) => e.site === ret)!.locals, [2]);
  } finally {
    rec.dispose();
  }
});

test("the throw site sees the same error object, which is rethrown unchanged", async () => {
  const { mod, rec, site } = await load<{ thrower(e: unknown): never; shape(a: object, b: number[]): number }>(SOURCE);
  try {
    const error = new TypeError("mine");
    assert.throws(
      () => mod.thrower(error),
      (e) => e === error,
    );
    const t = rec.events.find((e) => e.hook === "t")!;
    assert.equal(t.site, site("thrower", "throw"));
    assert.equal(t.error, error);
    assert.deepEqual(t.locals, [], "throw sites pass no locals (the frame has the arguments)");
    // Destructured parameters arrive as objects of their bound names and are not replaced.
    rec.onEntry = () => ({ a: [{ x: 0, y: 0 }, [0]] });
    assert.equal(mod.shape({ x: 1, y: 2 }, [3]), 6);
    assert.deepEqual(rec.events.find((e) => e.site === site("shape", "entry"))!.args, [{ x: 1, y: 2 }, { z: 3 }]);
  } finally {
    rec.dispose();
  }
});

test("a hook may throw into the function (fault injection); the throw site reports it", async () => {
  const { mod, rec, site } = await load<{ K: new (n: number) => { add(a: number): number } }>(SOURCE);
  try {
    const injected = new Error("injected");
    const line = site("K.add", "line", 1); // the first one is served by the entry site (no code)
    rec.onLine = (s) => {
      if (s === line) throw injected;
      return undefined;
    };
    const k = new mod.K(1);
    assert.throws(
      () => k.add(1),
      (e) => e === injected,
    );
    assert.equal(rec.events.find((e) => e.hook === "t")!.error, injected);
  } finally {
    rec.dispose();
  }
});

test("async functions wait for frame.w at entry and for a promise returned by a line hook", async () => {
  const source = `
export async function slow(x: number) {
  const y = x + 1;
  return y;
}
export async function* stream() {
  yield 1;
  yield 2;
}`;
  const { mod, rec, site } = await load<{ slow(x: number): Promise<number>; stream(): AsyncGenerator<number> }>(source);
  try {
    let release!: () => void;
    rec.onEntry = () => ({ w: new Promise<void>((r) => (release = r)) });
    let done: number | undefined;
    const p = mod.slow(1).then((v) => (done = v));
    await new Promise((r) => setImmediate(r));
    assert.equal(done, undefined, "paused at entry");
    assert.ok(!rec.events.some((e) => e.hook === "l"), "no line ran while paused");
    release();
    await p;
    assert.equal(done, 2);

    rec.onEntry = () => ({});
    let releaseLine!: () => void;
    const returnLine = site("slow", "line", 1);
    rec.onLine = (s) => (s === returnLine ? new Promise<void>((r) => (releaseLine = r)) : undefined);
    done = undefined;
    const q = mod.slow(5).then((v) => (done = v));
    await new Promise((r) => setImmediate(r));
    assert.equal(done, undefined, "paused at the line of `return y`");
    releaseLine();
    await q;
    assert.equal(done, 6);

    delete rec.onLine;
    const seen: number[] = [];
    for await (const v of mod.stream()) seen.push(v);
    assert.deepEqual(seen, [1, 2]);
    assert.equal(rec.events.filter((e) => e.site === site("stream", "end")).length, 1);
  } finally {
    rec.dispose();
  }
});

test("a generator's entry runs at the first next(), its exit when it finishes", async () => {
  const source = `export function* count(n: number) {\n  for (let i = 0; i < n; i++) yield i;\n  return "done";\n}`;
  const { mod, rec, site } = await load<{ count(n: number): Generator<number, string> }>(source);
  try {
    const it = mod.count(2);
    assert.equal(rec.events.length, 0, "nothing runs before next()");
    it.next();
    assert.equal(rec.events[0]!.site, site("count", "entry"));
    assert.deepEqual(rec.events[0]!.args, [2]);
    it.next();
    assert.deepEqual(it.next(), { value: "done", done: true });
    const exit = rec.events.find((e) => e.hook === "x")!;
    assert.equal(exit.site, site("count", "return"));
    assert.equal(exit.value, "done");
  } finally {
    rec.dispose();
  }
});

test("a call already running when its probe is switched on passes an undefined frame", async () => {
  const source = `export function mid(turnOn: () => void) {\n  turnOn();\n  return 1;\n}`;
  const result = instrumentChecked(source, `${ROOT}/src/onpath/${unique++}.ts`, { replaceArguments: true });
  const rec = recordAll(result);
  const g = globalThis as unknown as Record<string, boolean>;
  const entry = result.sites!.functions[0]!.sites[0]!.id;
  g[`$dg_${result.sites!.hash}_${entry}`] = false;
  try {
    const mod = await importTemp<{ mid(f: () => void): number }>("mid.mjs", compile(result.code, "mid.ts", "es6"));
    assert.equal(
      mod.mid(() => (g[`$dg_${result.sites!.hash}_${entry}`] = true)),
      1,
    );
    const exit = rec.events.find((e) => e.hook === "x")!;
    assert.equal(exit.frame, undefined);
  } finally {
    rec.dispose();
  }
});
