/**
 * Probes on real instrumented modules: attaching, lifecycle, pending targets, event names and
 * order, and every calling shape the hook sites must see (aliases, bound, callbacks, classes,
 * accessors, recursion, async, generators).
 */
import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";
import {
  Instrument,
  LogInstrument,
  ProbeExistsError,
  ProbeTestInstrument,
  TargetNotFoundError,
  InvalidTargetError,
  probes,
  type EventNamespace,
} from "../../runtime/index.js";
import { Probe } from "../../runtime/probes/probe.js";
import { loadInstrumented } from "../helpers/instrumented.js";

let n = 0;
/** A fresh module path per test, so module versions never mix. */
function path(name = "cart"): string {
  return `src/probes${++n}/${name}.ts`;
}

const attached: string[] = [];
function attach(target: string): Probe {
  attached.push(target);
  return probes.attachTo(target);
}
afterEach(() => {
  for (const t of attached.splice(0)) probes.remove(t);
});

/** A custom instrument that records the namespace objects it gets. */
class Spy extends Instrument {
  readonly seen: Record<string, unknown>[] = [];
  constructor(
    name: string,
    event: "call" | "return" | "end" | `line:${number}` = "return",
    private readonly pick?: (ns: EventNamespace) => Record<string, unknown>,
  ) {
    // Reads start/now/end/elapsed itself (through toObject or pick): declares it wants timing.
    super(name, "undefined", { event, timing: true });
  }
  override fire(ns: EventNamespace): void {
    this.seen.push(this.pick ? this.pick(ns) : ns.toObject());
  }
}

const CART = `export class Cart {
  items: number[] = [];
  total(arg: number, discount = 0, ...extra: number[]) {
    let sum = arg;
    for (const x of extra) sum += x;
    const out = sum - discount;
    return out;
  }
  static make(n: number) { const c = new Cart(); c.items.push(n); return c; }
  get size() { return this.items.length; }
  set size(v: number) { this.items.length = v; }
}
export function add13(arg: number) { return arg + 13; }
`;

describe("attachTo and lifecycle", () => {
  test("same Probe for the same target; a second Probe object is refused", () => {
    const t = `${path()}:Cart.total`;
    const p = attach(t);
    assert.equal(probes.attachTo(t), p);
    assert.throws(() => new Probe(t), ProbeExistsError);
    assert.throws(() => probes.attachTo("no-colon"), InvalidTargetError);
    assert.equal(p.status, "stopped");
  });

  test("the README example: Probe (foo) = 5", async () => {
    const m = await loadInstrumented<{ Cart: new () => { total(a: number): number } }>(CART, path());
    const lines: string[] = [];
    const p = attach(m.qualified("Cart.total"));
    p.instruments.set("foo", new LogInstrument("foo", "arg", { event: "call", sink: (l) => lines.push(l) }));
    p.start();
    assert.equal(new m.exports.Cart().total(5), 5);
    assert.deepEqual(lines, ["Probe (foo) = 5"]);
  });

  test("attachTo creates nothing in the registry until start(); start/stop are idempotent", async () => {
    const m = await loadInstrumented<{ add13(a: number): number }>(CART, path());
    const p = attach(m.qualified("add13"));
    const rec = new ProbeTestInstrument("r", "result");
    p.instruments.set("r", rec);
    assert.deepEqual(m.sitesOn(), []);
    m.exports.add13(1);
    assert.deepEqual(rec.results, []);
    p.start();
    p.start();
    assert.equal(p.status, "active");
    assert.notDeepEqual(m.sitesOn(), []);
    m.exports.add13(1);
    p.stop();
    p.stop();
    assert.equal(p.status, "stopped");
    assert.deepEqual(m.sitesOn(), []);
    m.exports.add13(2);
    assert.deepEqual(rec.results, [14]);
    p.start();
    m.exports.add13(3);
    assert.deepEqual(rec.results, [14, 16]);
  });

  test("a started probe without live instruments is idle and switches nothing on", async () => {
    const m = await loadInstrumented(CART, path());
    const p = attach(m.qualified("add13"));
    p.start();
    assert.equal(p.status, "idle");
    assert.deepEqual(m.sitesOn(), []);
  });

  test("'call'-only instruments switch on the entry site only", async () => {
    const m = await loadInstrumented<{ add13(a: number): number }>(CART, path());
    const p = attach(m.qualified("add13"));
    p.instruments.set("c", new ProbeTestInstrument("c", "arg", { event: "call" }));
    p.start();
    assert.equal(m.sitesOn().length, 1);
    p.instruments.set("r", new ProbeTestInstrument("r", "result"));
    assert.ok(m.sitesOn().length > 1, "exits on for a return instrument");
    p.instruments.delete("r");
    assert.equal(m.sitesOn().length, 1);
    p.instruments.delete("c");
    assert.deepEqual(m.sitesOn(), []);
    assert.equal(p.status, "idle");
  });

  test("a missing target in a loaded module: start() throws with the nearest names, status shows it", async () => {
    const m = await loadInstrumented(CART, path());
    const p = attach(m.qualified("Cart.totl"));
    p.instruments.set("r", new ProbeTestInstrument("r", "result"));
    assert.throws(
      () => p.start(),
      (err: unknown) => {
        assert.ok(err instanceof TargetNotFoundError);
        assert.match((err as Error).message, /Cart\.total/);
        return true;
      },
    );
    assert.equal(p.status, "failed");
    assert.match(p.error!.message, /Cart\.totl/);
    const listed = probes.list().find((s) => s.target === p.target)!;
    assert.equal(listed.status, "failed");
  });

  test("a missing target is reported on start() even without instruments", async () => {
    const m = await loadInstrumented(CART, path());
    const p = attach(m.qualified("nothing"));
    assert.throws(() => p.start(), TargetNotFoundError);
    assert.equal(p.status, "failed");
  });

  test("a target whose module has not loaded is pending and attaches when it registers", async () => {
    const mp = path();
    const p = attach(`${mp}:add13`);
    const rec = new ProbeTestInstrument("r", "result");
    p.instruments.set("r", rec);
    p.start();
    assert.equal(p.status, "pending");
    const m = await loadInstrumented<{ add13(a: number): number }>(CART, mp);
    assert.equal(p.status, "active");
    m.exports.add13(1);
    assert.deepEqual(rec.results, [14]);
  });

  test("probes.list() shows probes, their state and their instruments", async () => {
    const m = await loadInstrumented(CART, path());
    const p = attach(m.qualified("add13"));
    p.instruments.set("k", new LogInstrument("name", "arg", { event: "call" }));
    p.start();
    const s = probes.list().find((x) => x.target === p.target)!;
    assert.equal(s.status, "active");
    assert.deepEqual(
      s.instruments.map((i) => [i.key, i.type, i.name, i.value, i.event, i.status, i.errorCount]),
      [["k", "LogInstrument", "name", "arg", "call", "live", 0]],
    );
  });

  test("p.instruments is a real Map: replacing a key, clear()", async () => {
    const m = await loadInstrumented<{ add13(a: number): number }>(CART, path());
    const p = attach(m.qualified("add13"));
    const a = new ProbeTestInstrument("a", "result");
    const b = new ProbeTestInstrument("b", "arg");
    p.instruments.set("x", a).set("y", b);
    p.start();
    m.exports.add13(1);
    p.instruments.set("x", new ProbeTestInstrument("c", "result"));
    m.exports.add13(2);
    assert.deepEqual(a.results, [14]);
    assert.deepEqual(b.results, [1, 2]);
    assert.ok(p.instruments instanceof Map);
    p.instruments.clear();
    assert.deepEqual(m.sitesOn(), []);
    assert.throws(() => p.instruments.set("z", {} as Instrument), /needs an Instrument/);
  });
});

describe("lifespans", () => {
  test("an expired instrument never fires, and the probe turns off by itself (unref'd timer)", async () => {
    const m = await loadInstrumented<{ add13(a: number): number }>(CART, path());
    const p = attach(m.qualified("add13"));
    const rec = new ProbeTestInstrument("r", "result", { expires: new Date(Date.now() + 40) });
    p.instruments.set("r", rec);
    p.start();
    m.exports.add13(1);
    assert.equal(p.status, "active");
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(m.sitesOn(), [], "flags off without any call");
    assert.equal(p.status, "idle");
    assert.equal(rec.status, "expired");
    m.exports.add13(2);
    assert.deepEqual(rec.results, [14]);
  });

  test("an instrument already expired when attached never fires; setting expires applies at once", async () => {
    const m = await loadInstrumented<{ add13(a: number): number }>(CART, path());
    const p = attach(m.qualified("add13"));
    const old = new ProbeTestInstrument("old", "result", { expires: new Date(Date.now() - 1) });
    const live = new ProbeTestInstrument("live", "result");
    p.instruments.set("old", old).set("live", live);
    p.start();
    m.exports.add13(1);
    assert.deepEqual(old.results, []);
    live.expires = new Date(Date.now() - 1);
    assert.deepEqual(m.sitesOn(), []);
    m.exports.add13(2);
    assert.deepEqual(live.results, [14]);
  });

  test("expiry is checked on every fire, even before the timer runs", async () => {
    const m = await loadInstrumented<{ add13(a: number): number }>(CART, path());
    const p = attach(m.qualified("add13"));
    const rec = new ProbeTestInstrument("r", "result", { expires: new Date(Date.now() + 30) });
    p.instruments.set("r", rec);
    p.start();
    const until = Date.now() + 60;
    while (Date.now() < until) m.exports.add13(1); // busy: the timer cannot run
    assert.ok(rec.results.length > 0);
    const count = rec.results.length;
    m.exports.add13(1);
    assert.equal(rec.results.length, count);
  });
});

describe("event names", () => {
  test("call: parameters by name (defaults applied, rest as array), args, this, now, start", async () => {
    const m = await loadInstrumented<{ Cart: new () => { total(a: number, d?: number, ...e: number[]): number } }>(
      CART,
      path(),
    );
    const p = attach(m.qualified("Cart.total"));
    const spy = new Spy("s", "call", (ns) => ({
      arg: (ns as unknown as Record<string, unknown>)["arg"],
      discount: (ns as unknown as Record<string, unknown>)["discount"],
      extra: (ns as unknown as Record<string, unknown>)["extra"],
      args: ns.args,
      self: ns.this,
      now: ns.now instanceof Date,
      start: typeof ns.start,
    }));
    const viaExpr = new ProbeTestInstrument("e", "[arg, discount, extra.length, args.length, this.items.length]", {
      event: "call",
    });
    p.instruments.set("s", spy).set("e", viaExpr);
    p.start();
    const cart = new m.exports.Cart();
    assert.equal(cart.total(10), 10);
    assert.equal(cart.total(10, 1, 2, 3), 14);
    assert.deepEqual(spy.seen[0], {
      arg: 10,
      discount: 0,
      extra: [],
      args: [10, 0],
      self: cart,
      now: true,
      start: "number",
    });
    assert.deepEqual(spy.seen[1]!["args"], [10, 1, 2, 3]);
    assert.deepEqual(viaExpr.results, [
      [10, 0, 0, 2, 0],
      [10, 1, 2, 4, 0],
    ]);
  });

  test("return: result, error, threw, end, elapsed; a thrown error still reaches the caller unchanged", async () => {
    const src = `export function risky(x: number) { if (x < 0) throw new RangeError("neg"); return x * 2; }`;
    const m = await loadInstrumented<{ risky(x: number): number }>(src, path());
    const p = attach(m.qualified("risky"));
    const spy = new Spy("s");
    p.instruments.set("s", spy);
    p.start();
    assert.equal(m.exports.risky(2), 4);
    let caught: unknown;
    try {
      m.exports.risky(-1);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof RangeError);
    assert.match((caught as Error).stack!, /neg/);
    const [ok, bad] = spy.seen;
    assert.equal(ok!["result"], 4);
    assert.equal(ok!["threw"], false);
    assert.equal(ok!["error"], undefined);
    assert.equal(typeof ok!["elapsed"], "number");
    assert.ok((ok!["elapsed"] as number) >= 0);
    assert.equal(ok!["end"], (ok!["start"] as number) + (ok!["elapsed"] as number));
    assert.equal(bad!["result"], caught, "the same object");
    assert.equal(bad!["error"], caught);
    assert.equal(bad!["threw"], true);
  });

  test("end: the function's locals at the exit, and result", async () => {
    const src = `export function f(a: number) {
  let b = a + 1;
  if (a > 5) { const big = true; return b * 10; }
  return b;
}`;
    const m = await loadInstrumented<{ f(a: number): number }>(src, path());
    const p = attach(m.qualified("f"));
    const rec = new ProbeTestInstrument("r", "[a, b, result, typeof big === 'undefined' ? null : big]", {
      event: "end",
    });
    p.instruments.set("r", rec);
    p.start();
    assert.equal(m.exports.f(1), 2);
    assert.equal(m.exports.f(7), 80);
    assert.deepEqual(rec.results, [
      [1, 2, 2, null],
      [7, 8, 80, true],
    ]);
  });

  test("line:N: the locals in scope before that line", async () => {
    const src = `export function f(a: number) {
  let b = a * 2;
  const c = b + 1;
  return c;
}`;
    const m = await loadInstrumented<{ f(a: number): number }>(src, path());
    const p = attach(m.qualified("f"));
    const rec = new ProbeTestInstrument("r", "a + b", { event: "line:3" });
    p.instruments.set("r", rec);
    p.start();
    assert.equal(m.exports.f(4), 9);
    assert.deepEqual(rec.results, [12]);
  });

  test("order of events within a call: call → line… → end → return", async () => {
    const src = `export function f(a: number) {
  let b = a;
  b++;
  return b;
}`;
    const m = await loadInstrumented<{ f(a: number): number }>(src, path());
    const p = attach(m.qualified("f"));
    const order: string[] = [];
    const mk = (key: string, event: "call" | "return" | "end" | `line:${number}`) =>
      p.instruments.set(
        key,
        new (class extends Instrument {
          override fire(): void {
            order.push(key);
          }
        })(key, "undefined", { event }),
      );
    mk("return", "return");
    mk("end", "end");
    mk("line3", "line:3");
    mk("line2", "line:2");
    mk("call", "call");
    p.start();
    m.exports.f(1);
    assert.deepEqual(order, ["call", "line2", "line3", "end", "return"]);
  });

  test("`this` in expressions, and own names shadow event names", async () => {
    const src = `export class Acc {
  base = 100;
  add(result: number) { return this.base + result; }
}`;
    const m = await loadInstrumented<{ Acc: new () => { add(r: number): number } }>(src, path());
    const p = attach(m.qualified("Acc.add"));
    const rec = new ProbeTestInstrument("r", "[this.base, result]");
    p.instruments.set("r", rec);
    p.start();
    assert.equal(new m.exports.Acc().add(1), 101);
    assert.deepEqual(rec.results, [[100, 1]], "the parameter named result wins");
  });

  test("global namespace names: mag, math, datetime, time", async () => {
    const m = await loadInstrumented<{ add13(a: number): number }>(CART, path());
    const p = attach(m.qualified("add13"));
    const rec = new ProbeTestInstrument("r", "[mag(result), math.max(1, 2), typeof datetime.now(), typeof time.now()]");
    p.instruments.set("r", rec);
    p.start();
    m.exports.add13(987);
    assert.deepEqual(rec.results, [[3, 2, "number", "number"]]);
  });
});

describe("calling shapes (the site is inside the body, so every reference sees the probe)", () => {
  const SHAPES = `export class Cart {
  items: number[] = [];
  add(n: number) { this.items.push(n); return this.items.length; }
  static create(...ns: number[]) { const c = new Cart(); for (const n of ns) c.add(n); return c; }
  get count() { return this.items.length; }
  set count(v: number) { this.items.length = v; }
}
export function each(xs: number[], cb: (x: number) => number) { return xs.map(cb); }
export const double = (x: number) => x * 2;
export const api = { double };
`;
  test("aliases, bound functions, callbacks and destructured references", async () => {
    type M = {
      Cart: new () => { add(n: number): number };
      double(x: number): number;
      each(xs: number[], cb: (x: number) => number): number[];
      api: { double(x: number): number };
    };
    const m = await loadInstrumented<M>(SHAPES, path());
    const pAdd = attach(m.qualified("Cart.add"));
    const pDouble = attach(m.qualified("double"));
    const adds = new ProbeTestInstrument("a", "n", { event: "call" });
    const doubles = new ProbeTestInstrument("d", "result");
    pAdd.instruments.set("a", adds);
    pDouble.instruments.set("d", doubles);
    pAdd.start();
    pDouble.start();
    const cart = new m.exports.Cart();
    const alias = cart.add;
    alias.call(cart, 1);
    cart.add.bind(cart)(2);
    const { add } = cart;
    add.call(cart, 3);
    [4].forEach((x) => cart.add(x));
    assert.deepEqual(adds.results, [1, 2, 3, 4]);
    m.exports.each([1, 2], m.exports.double);
    const { double } = m.exports.api;
    double(5);
    assert.deepEqual(doubles.results, [2, 4, 10]);
  });

  test("static members, getters and setters (named Class.prop@get / @set)", async () => {
    type C = { create(...ns: number[]): { count: number } };
    const m = await loadInstrumented<{ Cart: C }>(SHAPES, path());
    const pc = attach(m.qualified("Cart.create"));
    const pget = attach(m.qualified("Cart.count@get"));
    const pset = attach(m.qualified("Cart.count@set"));
    const created = new ProbeTestInstrument("c", "ns", { event: "call" });
    const got = new ProbeTestInstrument("g", "[result, this.items.length]");
    const set = new ProbeTestInstrument("s", "v", { event: "call" });
    pc.instruments.set("c", created);
    pget.instruments.set("g", got);
    pset.instruments.set("s", set);
    pc.start();
    pget.start();
    pset.start();
    const c = m.exports.Cart.create(1, 2, 3);
    assert.equal(c.count, 3);
    c.count = 1;
    assert.equal(c.count, 1);
    assert.deepEqual(created.results, [[1, 2, 3]]);
    assert.deepEqual(got.results, [
      [3, 3],
      [1, 1],
    ]);
    assert.deepEqual(set.results, [1]);
  });

  test("recursion: every call is paired with its own entry", async () => {
    const src = `export function fact(n: number): number { return n <= 1 ? 1 : n * fact(n - 1); }`;
    const m = await loadInstrumented<{ fact(n: number): number }>(src, path());
    const p = attach(m.qualified("fact"));
    const rec = new ProbeTestInstrument("r", "[n, result, args[0]]");
    p.instruments.set("r", rec);
    p.start();
    assert.equal(m.exports.fact(4), 24);
    assert.deepEqual(rec.results, [
      [1, 1, 1],
      [2, 2, 2],
      [3, 6, 3],
      [4, 24, 4],
    ]);
  });

  test("async functions: 'return' fires when the promise settles, with the settled value; interleaved calls pair", async () => {
    const src = `export async function load(id: number, ms: number) {
  await new Promise((r) => setTimeout(r, ms));
  if (id < 0) throw new Error("bad id " + id);
  return { id };
}
export async function passThrough(p: Promise<number>) { return p; }`;
    type M = {
      load(id: number, ms: number): Promise<{ id: number }>;
      passThrough(p: Promise<number>): Promise<number>;
    };
    const m = await loadInstrumented<M>(src, path());
    const p = attach(m.qualified("load"));
    const rec = new ProbeTestInstrument("r", "[id, result, threw, elapsed >= ms - 1]");
    p.instruments.set("r", rec);
    p.start();
    const [a, b] = await Promise.all([m.exports.load(1, 30), m.exports.load(2, 5)]);
    assert.deepEqual([a, b], [{ id: 1 }, { id: 2 }]);
    await assert.rejects(m.exports.load(-1, 1), /bad id -1/);
    assert.deepEqual(rec.results, [
      [2, { id: 2 }, false, true],
      [1, { id: 1 }, false, true],
      [-1, new Error("bad id -1"), true, true],
    ]);

    const pp = attach(m.qualified("passThrough"));
    const rec2 = new ProbeTestInstrument("r", "[result, threw]");
    pp.instruments.set("r", rec2);
    pp.start();
    assert.equal(await m.exports.passThrough(Promise.resolve(7)), 7);
    const rejected = Promise.reject(new Error("nope"));
    await assert.rejects(m.exports.passThrough(rejected), /nope/);
    assert.deepEqual(rec2.results, [
      [7, false],
      [new Error("nope"), true],
    ]);
  });

  test("an async function returning a foreign thenable: its then runs once, the caller sees the same value", async () => {
    const src = `export async function q(t: PromiseLike<number>) { return t; }`;
    const m = await loadInstrumented<{ q(t: PromiseLike<number>): Promise<number> }>(src, path());
    const p = attach(m.qualified("q"));
    const rec = new ProbeTestInstrument("r", "result");
    p.instruments.set("r", rec);
    p.start();
    let thens = 0;
    const thenable = {
      then(ok: (v: number) => void) {
        thens++;
        ok(42);
      },
    } as unknown as PromiseLike<number>;
    assert.equal(await m.exports.q(thenable), 42);
    assert.equal(thens, 1);
    assert.deepEqual(rec.results, [42]);
  });

  test("generators and async generators: 'return' fires when they finish", async () => {
    const src = `export function* count(n: number) { for (let i = 0; i < n; i++) yield i; return "done"; }
export async function* ticks(n: number) { for (let i = 0; i < n; i++) { await null; yield i; } return "end"; }`;
    type M = { count(n: number): Generator<number, string>; ticks(n: number): AsyncGenerator<number, string> };
    const m = await loadInstrumented<M>(src, path());
    const pc = attach(m.qualified("count"));
    const pt = attach(m.qualified("ticks"));
    const rc = new ProbeTestInstrument("c", "[n, result]");
    const rt = new ProbeTestInstrument("t", "[n, result]");
    const calls = new ProbeTestInstrument("k", "n", { event: "call" });
    pc.instruments.set("c", rc).set("k", calls);
    pt.instruments.set("t", rt);
    pc.start();
    pt.start();
    const g = m.exports.count(3);
    assert.deepEqual(calls.results, [], "entry runs at the first next()");
    assert.deepEqual([...g], [0, 1, 2]);
    assert.deepEqual(calls.results, [3]);
    assert.deepEqual(rc.results, [[3, "done"]]);
    const got: number[] = [];
    for await (const x of m.exports.ticks(2)) got.push(x);
    assert.deepEqual(got, [0, 1]);
    assert.deepEqual(rt.results, [[2, "end"]]);
  });

  test("many probes at once", async () => {
    const fns = Array.from({ length: 30 }, (_, i) => `export function f${i}(x: number) { return x + ${i}; }`).join(
      "\n",
    );
    const m = await loadInstrumented<Record<string, (x: number) => number>>(fns, path());
    const recs = Array.from({ length: 30 }, (_, i) => {
      const p = attach(m.qualified(`f${i}`));
      const r = new ProbeTestInstrument(`r${i}`, "result");
      p.instruments.set("r", r);
      p.start();
      return r;
    });
    for (let i = 0; i < 30; i++) m.exports[`f${i}`]!(1);
    recs.forEach((r, i) => assert.deepEqual(r.results, [1 + i]));
  });
});

describe("attaching and detaching while calls are in flight", () => {
  test("instruments added and removed by a firing instrument, and during async calls", async () => {
    const src = `export async function slow(x: number) { await new Promise((r) => setTimeout(r, 20)); return x; }
export function fast(x: number) { return x; }`;
    const m = await loadInstrumented<{ slow(x: number): Promise<number>; fast(x: number): number }>(src, path());
    const p = attach(m.qualified("slow"));
    const first = new ProbeTestInstrument("first", "x", { event: "call" });
    p.instruments.set("first", first);
    p.start();
    const inFlight = m.exports.slow(1);
    // While the call is in flight: add a return instrument, then remove the call one.
    const ret = new ProbeTestInstrument("ret", "result");
    p.instruments.set("ret", ret);
    p.instruments.delete("first");
    assert.equal(await inFlight, 1);
    assert.deepEqual(first.results, [1]);
    assert.deepEqual(ret.results, [1], "the in-flight call had a frame: its return is seen");

    // Mutations from inside fire(): the loop over a snapshot is not disturbed.
    const pf = attach(m.qualified("fast"));
    const later = new ProbeTestInstrument("later", "x", { event: "call" });
    const mutator = new (class extends Instrument {
      override fire(): void {
        pf.instruments.delete("self");
        pf.instruments.set("later", later);
      }
    })("mut", "undefined", { event: "call" });
    const other = new ProbeTestInstrument("other", "x", { event: "call" });
    pf.instruments.set("self", mutator).set("other", other);
    pf.start();
    assert.equal(m.exports.fast(5), 5);
    assert.equal(m.exports.fast(6), 6);
    assert.deepEqual(other.results, [5, 6]);
    assert.deepEqual(later.results, [6]);
  });

  test("a probe stopped while an async call is in flight: the call completes normally", async () => {
    const src = `export async function slow(x: number) { await new Promise((r) => setTimeout(r, 10)); return x * 3; }`;
    const m = await loadInstrumented<{ slow(x: number): Promise<number> }>(src, path());
    const p = attach(m.qualified("slow"));
    const ret = new ProbeTestInstrument("ret", "result");
    p.instruments.set("ret", ret);
    p.start();
    const pending = m.exports.slow(2);
    p.stop();
    assert.equal(await pending, 6);
    assert.deepEqual(ret.results, []);
  });
});

after(() => {
  for (const t of attached.splice(0)) probes.remove(t);
});
