/**
 * Calls that no instrument of a probe takes (each one's call filter said no, e.g. a scoped
 * instrument outside its scope) are decided once, at entry (runtime/probes/dispatch.ts): the
 * frame gets the probe's one shared "refused" state and the call's lines and exits return at the
 * first test. Calls that are taken keep all their data; a partial refusal, a change of
 * instruments during a refused call and a call filter that re-enters the function keep the
 * behaviour they had.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { after, afterEach, test } from "node:test";
import { Instrument, probes, scope, scoped, type EventNamespace, type Probe } from "../../runtime/index.js";
import { watch, type CallFrame, type Watch } from "../../runtime/registry/index.js";
import { loadInstrumented, type InstrumentedModule } from "../helpers/instrumented.js";

const SRC = `export function add(a: number, b: number) {
  const s = a + b;
  return s * 2;
}
export async function later(a: number) {
  const s = a + 1;
  return s;
}
`;

interface Mod {
  add(a: number, b: number): number;
  later(a: number): Promise<number>;
}

let n = 0;
const roots: string[] = [];
const attached: string[] = [];
const watches: Watch[] = [];
async function load(): Promise<InstrumentedModule<Mod>> {
  const m = await loadInstrumented<Mod>(SRC, `src/refused${++n}/mod.ts`);
  roots.push(m.root);
  return m;
}
function attach(target: string): Probe {
  attached.push(target);
  return probes.attachTo(target);
}
afterEach(() => {
  for (const t of attached.splice(0)) probes.remove(t);
  for (const w of watches.splice(0)) w.close();
});
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** Counts every instrument method the dispatcher may call, and keeps what each event saw. */
class Counting extends Instrument {
  checks = 0;
  fires = 0;
  finishes = 0;
  /** The value expression's result at each fire. */
  readonly seen: unknown[] = [];
  override fire(ns: EventNamespace): void {
    this.fires++;
    this.seen.push(this.evaluate(ns));
  }
  override finish(): void {
    this.finishes++;
  }
}

/** `scoped(inst, "tenant")`, counting how often the probe asks its call filter. */
function tenantOnly(inst: Counting): Counting {
  const filter = scoped(inst, "tenant").checkCall;
  inst.checkCall = function (probe: Probe, args: readonly unknown[]): boolean {
    inst.checks++;
    return filter.call(this, probe, args);
  };
  return inst;
}

/** A raw watcher beside the probe, attached first: it sees every frame at entry and exit. */
function frames(target: string): { entered: CallFrame[]; exited: (CallFrame | undefined)[] } {
  const entered: CallFrame[] = [];
  const exited: (CallFrame | undefined)[] = [];
  const w = watch(target, {
    onEntry: (f) => void entered.push(f),
    onReturn: (f) => void exited.push(f),
  });
  assert.equal(w.state, "active");
  watches.push(w);
  return { entered, exited };
}

function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

test("a refused call is decided at entry: no instrument method runs after the filter, every refused call shares one state", async () => {
  const m = await load();
  const target = m.qualified("add");
  const seen = frames(target);
  const ret = tenantOnly(new Counting("ret", "a", { event: "return" }));
  const call = tenantOnly(new Counting("call", "a", { event: "call" }));
  const p = attach(target);
  p.instruments.set("ret", ret);
  p.instruments.set("call", call);
  p.start();

  const refs: WeakRef<CallFrame>[] = [];
  const N = 100_000;
  let sum = 0;
  for (let i = 0; i < N; i++) {
    sum += m.exports.add(i, 1);
    if (i % 1000 === 0) refs.push(new WeakRef(seen.entered[seen.entered.length - 1]!));
    if (seen.entered.length > 1000) seen.entered.length = seen.exited.length = 0;
  }
  assert.equal(sum, N * (N - 1) + 2 * N, "the function's results are unchanged");
  // Each filter was asked once per call (at entry), nothing else ran.
  assert.equal(ret.checks, N);
  assert.equal(call.checks, N);
  for (const inst of [ret, call]) {
    assert.equal(inst.fires, 0);
    assert.equal(inst.finishes, 0);
    assert.equal(inst.hits, 0);
    assert.equal(inst.errorCount, 0);
  }
  // One state for all refused calls of this snapshot: nothing is stored per call.
  const marks = new Set(seen.entered.map((f) => f.mark));
  assert.equal(marks.size, 1);
  assert.notEqual([...marks][0], undefined, "the refusal is on the frame");
  seen.entered.length = seen.exited.length = 0;
  collectGarbage();
  await new Promise((r) => setImmediate(r));
  collectGarbage();
  assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0, "no frame of a refused call is kept");
});

test("taken calls keep their data: result, elapsed and arguments at return; call and finish pair up", async () => {
  const m = await load();
  const target = m.qualified("add");
  const result = tenantOnly(new Counting("result", "result", { event: "return" }));
  const elapsed = tenantOnly(new Counting("elapsed", "elapsed", { event: "return" }));
  const arg = tenantOnly(new Counting("arg", "b", { event: "return" }));
  const call = tenantOnly(new Counting("call", "a", { event: "call" }));
  const p = attach(target);
  for (const inst of [result, elapsed, arg, call]) p.instruments.set(inst.name, inst);
  p.start();
  m.exports.add(1, 2); // refused
  const r = scope.run("tenant", () => m.exports.add(3, 4));
  m.exports.add(5, 6); // refused
  assert.equal(r, 14);
  assert.deepEqual(call.seen, [3]);
  assert.deepEqual(result.seen, [14]);
  assert.deepEqual(arg.seen, [4]);
  assert.equal(elapsed.seen.length, 1);
  assert.equal(typeof elapsed.seen[0], "number");
  assert.ok((elapsed.seen[0] as number) >= 0);
  for (const inst of [result, elapsed, arg, call]) {
    assert.equal(inst.finishes, 1, inst.name);
    assert.equal(inst.checks, 3, inst.name);
  }
});

test("a partial refusal: the unscoped instrument fires for every call, the scoped one only inside its scope", async () => {
  const m = await load();
  const target = m.qualified("add");
  const scopedRet = tenantOnly(new Counting("s", "result", { event: "return" }));
  const plainRet = new Counting("p", "result", { event: "return" });
  const p = attach(target);
  p.instruments.set("s", scopedRet);
  p.instruments.set("p", plainRet);
  p.start();
  m.exports.add(1, 1);
  scope.run("tenant", () => m.exports.add(2, 2));
  assert.deepEqual(plainRet.seen, [4, 8]);
  assert.deepEqual(scopedRet.seen, [8]);
});

test("an async refused call: the caller gets the function's own promise, nothing fires when it settles", async () => {
  const m = await load();
  const target = m.qualified("later");
  const ret = tenantOnly(new Counting("ret", "result", { event: "return" }));
  const p = attach(target);
  p.instruments.set("ret", ret);
  p.start();
  assert.equal(await m.exports.later(1), 2);
  assert.equal(await scope.run("tenant", () => m.exports.later(2)), 3);
  assert.deepEqual(ret.seen, [3]);
  assert.equal(ret.checks, 2);
});

test("an instrument added while a refused call runs fires at that call's return, as before", async () => {
  const m = await load();
  const target = m.qualified("add");
  const scopedRet = tenantOnly(new Counting("s", "result", { event: "return" }));
  const added = new Counting("added", "result", { event: "return" });
  // The call filter of the first instrument adds the second during the call's entry.
  const p = attach(target);
  const filter = scopedRet.checkCall;
  scopedRet.checkCall = function (probe, args) {
    if (!p.instruments.has("added")) p.instruments.set("added", added);
    return filter.call(this, probe, args);
  };
  p.instruments.set("s", scopedRet);
  p.start();
  assert.equal(m.exports.add(1, 1), 4);
  assert.deepEqual(added.seen, [4]);
  assert.equal(scopedRet.fires, 0);
});

test("a call filter that calls the probed function again: each call keeps its own decision", async () => {
  const m = await load();
  const target = m.qualified("add");
  const outerOnly = new Counting("outer", "result", { event: "return" });
  const innerOnly = new Counting("inner", "result", { event: "return" });
  let depth = 0;
  // `outer` refuses the inner call, `inner` refuses the outer one; the inner call happens inside
  // the outer call's filter loop.
  outerOnly.checkCall = () => {
    if (depth === 0) {
      depth++;
      m.exports.add(10, 10);
      depth--;
      return true;
    }
    return false;
  };
  innerOnly.checkCall = () => depth > 0;
  const p = attach(target);
  p.instruments.set("outer", outerOnly);
  p.instruments.set("inner", innerOnly);
  p.start();
  assert.equal(m.exports.add(1, 2), 6);
  assert.deepEqual(outerOnly.seen, [6]);
  assert.deepEqual(innerOnly.seen, [40]);
});

test("when another watcher holds the frame's mark, refusals and taken calls behave the same", async () => {
  const m = await load();
  const target = m.qualified("add");
  const foreign = { owner: "someone else" };
  const w = watch(target, {
    onEntry: (f) => {
      f.mark = foreign;
    },
  });
  watches.push(w);
  const ret = tenantOnly(new Counting("ret", "result", { event: "return" }));
  const p = attach(target);
  p.instruments.set("ret", ret);
  p.start();
  m.exports.add(1, 1);
  scope.run("tenant", () => m.exports.add(2, 2));
  m.exports.add(3, 3);
  assert.deepEqual(ret.seen, [8]);
  assert.equal(ret.finishes, 1);
});
