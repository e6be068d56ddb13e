/**
 * apply() on real instrumented code: every reconcile path (attach, unchanged, update in place,
 * replace, move, remove, expire, refuse), ownership (probes and instruments of others are never
 * touched), selectors and serialised applies.
 */
import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";
import {
  InstrumentManager,
  LogInstrument,
  ProbeTestInstrument,
  memoryStore,
  probes,
  type SpecSnapshot,
  type SpecStore,
} from "../../../runtime/index.js";
import { loadInstrumented } from "../../helpers/instrumented.js";
import { raw, sleep, specDoc, stopManagers, testManager } from "./helpers.js";

const SOURCE = `export class Cart {
  total(n: number) { return n * 2; }
}
export function add(a: number, b: number) { return a + b; }
export function other(x: number) { return x; }
`;

let n = 0;
async function load() {
  const m = await loadInstrumented<{
    Cart: new () => { total(n: number): number };
    add(a: number, b: number): number;
    other(x: number): number;
  }>(SOURCE, `src/reconcile${++n}/cart.ts`);
  return m;
}

function inst(target: string, id: string): ProbeTestInstrument {
  const i = probes.get(target)?.instruments.get(id);
  assert.ok(i instanceof ProbeTestInstrument, `no test instrument ${id} on ${target}`);
  return i;
}

afterEach(stopManagers);
after(stopManagers);

describe("apply: reconcile paths", () => {
  test("attach: a new spec attaches its instrument under the spec id, and the status reaches the spec", async () => {
    const m = await load();
    const { mgr } = testManager();
    const total = m.qualified("Cart.total");
    mgr.specs.set("s1", specDoc(total, { value: "result" }));
    const report = await mgr.apply();
    assert.deepEqual(report.attached, ["s1"]);
    assert.deepEqual(report.refused, []);
    assert.equal(new m.exports.Cart().total(21), 42);
    assert.deepEqual(inst(total, "s1").results, [42]);
    assert.equal(mgr.status()["s1"]?.state, "emitting");
    assert.equal(mgr.status()["s1"]?.hits, 1);
    const applied = mgr.specs.get("s1")!.applied[mgr.processId];
    assert.equal(applied?.state, "applied");
    assert.equal(applied?.err, null);
    assert.ok(applied?.lm instanceof Date);
  });

  test("unchanged: a second apply touches nothing and keeps the same instrument", async () => {
    const m = await load();
    const { mgr } = testManager();
    const target = m.qualified("add");
    mgr.specs.set("s1", specDoc(target));
    await mgr.apply();
    const first = inst(target, "s1");
    const report = await mgr.apply();
    assert.equal(report.unchanged, 1);
    assert.deepEqual([...report.attached, ...report.updated, ...report.replaced], []);
    assert.equal(inst(target, "s1"), first);
  });

  test("update in place: a changed value reconfigures the same instrument (hits kept)", async () => {
    const m = await load();
    const { mgr } = testManager();
    const target = m.qualified("add");
    mgr.specs.set("s1", specDoc(target, { value: "result" }));
    await mgr.apply();
    const first = inst(target, "s1");
    m.exports.add(1, 2);
    mgr.specs.set("s1", specDoc(target, { value: "a * 100", event: "call" }));
    const report = await mgr.apply();
    assert.deepEqual(report.updated, ["s1"]);
    assert.equal(inst(target, "s1"), first);
    m.exports.add(5, 6);
    assert.deepEqual(first.results, [3, 500]);
    assert.equal(first.value, "a * 100");
    assert.equal(first.event, "call");
    assert.equal(mgr.status()["s1"]?.hits, 2);
  });

  test("update in place: a document edited in place (no Map write) is applied on the next apply, every time", async () => {
    const m = await load();
    const { mgr } = testManager();
    const target = m.qualified("add");
    const d = specDoc(target, { value: "result" }) as unknown as {
      instrument: Record<string, unknown>;
      lastmodified: Date;
    };
    mgr.specs.set("s1", d as never);
    await mgr.apply();
    assert.equal((await mgr.apply()).unchanged, 1);
    const first = inst(target, "s1");
    d.instrument["value"] = "a * 10";
    assert.deepEqual((await mgr.apply()).updated, ["s1"]);
    m.exports.add(1, 2);
    d.instrument["value"] = "b * 10";
    assert.deepEqual((await mgr.apply()).updated, ["s1"], "a second edit of the same object is seen too");
    m.exports.add(1, 2);
    assert.equal((await mgr.apply()).unchanged, 1);
    assert.deepEqual(first.results, [10, 20]);
    // A bad edit in place is validated again and refused; fixing it applies again.
    d.instrument["value"] = "a +";
    const bad = await mgr.apply();
    assert.deepEqual(
      bad.refused.map((r) => r.id),
      ["s1"],
    );
    d.instrument["value"] = "a + b";
    assert.deepEqual((await mgr.apply()).attached, ["s1"]);
    m.exports.add(2, 3);
    assert.deepEqual(inst(target, "s1").results, [5]);
  });

  test("replace: a changed type recreates the instrument on the same key", async () => {
    const m = await load();
    const { mgr } = testManager();
    const target = m.qualified("add");
    mgr.specs.set("s1", specDoc(target));
    await mgr.apply();
    const first = inst(target, "s1");
    const lines: string[] = [];
    const saved = LogInstrument.defaultSink;
    LogInstrument.defaultSink = (line: string) => lines.push(line);
    try {
      mgr.specs.set("s1", specDoc(target, { type: "log", name: "sum" }));
      const report = await mgr.apply();
      assert.deepEqual(report.replaced, ["s1"]);
      const now = probes.get(target)!.instruments.get("s1");
      assert.ok(now instanceof LogInstrument);
      assert.equal(first.observers.size, 0, "the old instrument is no longer held by the probe");
      m.exports.add(2, 3);
      assert.deepEqual(lines, ["Probe (sum) = 5"]);
    } finally {
      LogInstrument.defaultSink = saved;
    }
  });

  test("move: a changed target moves the instrument; the old probe it created is removed and its sites are off", async () => {
    const m = await load();
    const { mgr } = testManager();
    const from = m.qualified("add");
    const to = m.qualified("other");
    mgr.specs.set("s1", specDoc(from));
    await mgr.apply();
    const first = inst(from, "s1");
    mgr.specs.set("s1", specDoc(to));
    const report = await mgr.apply();
    assert.deepEqual(report.moved, ["s1"]);
    assert.equal(probes.get(from), undefined);
    assert.equal(inst(to, "s1"), first);
    m.exports.add(1, 1);
    m.exports.other(7);
    assert.deepEqual(first.results, [7]);
  });

  test("move with a new type: a new instrument on the new target, the old one gone with its probe", async () => {
    const m = await load();
    const { mgr } = testManager();
    const from = m.qualified("add");
    const to = m.qualified("other");
    mgr.specs.set("s1", specDoc(from, { type: "log" }));
    const saved = LogInstrument.defaultSink;
    LogInstrument.defaultSink = () => undefined;
    try {
      await mgr.apply();
      mgr.specs.set("s1", specDoc(to));
      assert.deepEqual((await mgr.apply()).moved, ["s1"]);
      assert.equal(probes.get(from), undefined);
      m.exports.other(9);
      assert.deepEqual(inst(to, "s1").results, [9]);
    } finally {
      LogInstrument.defaultSink = saved;
    }
  });

  test("remove: a deleted spec removes its instrument and the probe; every site is off again", async () => {
    const m = await load();
    const { mgr } = testManager();
    const target = m.qualified("add");
    mgr.specs.set("s1", specDoc(target));
    await mgr.apply();
    assert.notDeepEqual(m.sitesOn(), []);
    mgr.specs.delete("s1");
    const report = await mgr.apply();
    assert.deepEqual(report.removed, ["s1"]);
    assert.equal(probes.get(target), undefined);
    assert.deepEqual(m.sitesOn(), []);
    assert.deepEqual(mgr.status(), {});
  });

  test("ownership: a probe and instruments created in code survive the manager's removals untouched", async () => {
    const m = await load();
    const { mgr } = testManager();
    const target = m.qualified("add");
    const mine = new ProbeTestInstrument("mine", "result");
    const probe = probes.attachTo(target);
    probe.instruments.set("mine", mine);
    probe.start();
    try {
      mgr.specs.set("s1", specDoc(target));
      mgr.specs.set("mine", specDoc(target));
      const report = await mgr.apply();
      assert.deepEqual(report.attached, ["s1"]);
      assert.equal(report.refused[0]?.id, "mine", "a key taken by someone else is refused, not overwritten");
      assert.match(report.refused[0]!.err, /already has an instrument under the key "mine"/);
      mgr.specs.clear();
      await mgr.apply();
      assert.equal(probes.get(target), probe);
      assert.equal(probe.started, true);
      assert.deepEqual([...probe.instruments.keys()], ["mine"]);
      m.exports.add(1, 2);
      assert.deepEqual(mine.results, [3]);
    } finally {
      probes.remove(target);
    }
  });

  test("two managers keep apart: one's apply never removes the other's instruments", async () => {
    const m = await load();
    const a = testManager().mgr;
    const b = testManager().mgr;
    const target = m.qualified("add");
    a.specs.set("a1", specDoc(target));
    b.specs.set("b1", specDoc(target));
    await a.apply();
    await b.apply();
    b.specs.clear();
    await b.apply();
    m.exports.add(1, 1);
    assert.deepEqual(inst(target, "a1").results, [2]);
    await a.stop();
    assert.equal(probes.get(target), undefined);
  });

  test("one bad spec never stops the others", async () => {
    const m = await load();
    const { mgr } = testManager();
    const target = m.qualified("add");
    mgr.specs.set("bad1", specDoc(target, { type: "nope" }));
    mgr.specs.set("good", specDoc(target));
    mgr.specs.set("bad2", raw({ target: 42 }));
    mgr.specs.set("bad3", specDoc(m.qualified("ad")));
    const report = await mgr.apply();
    assert.deepEqual(report.attached, ["good"]);
    const errs = Object.fromEntries(report.refused.map((r) => [r.id, r.err]));
    assert.match(errs["bad1"]!, /Unknown instrument type "nope": use one of log, hist, incr, test/);
    assert.match(errs["bad2"]!, /`target` must be a string/);
    assert.match(errs["bad3"]!, /add/, "a target typo names the nearest functions");
    const status = mgr.status();
    assert.equal(status["bad3"]?.state, "error");
    assert.equal(status["bad3"]?.err, errs["bad3"]);
    assert.equal(mgr.specs.get("bad1")!.applied[mgr.processId]?.state, "error");
    m.exports.add(2, 2);
    assert.deepEqual(inst(target, "good").results, [4]);
  });

  test("many specs on one target in one apply: all attach and fire, updates and removals take effect, the probe goes with the last", async () => {
    const m = await load();
    const { mgr } = testManager();
    const target = m.qualified("add");
    const missing = m.qualified("nothere");
    const count = 120;
    for (let i = 0; i < count; i++)
      mgr.specs.set(
        `s${i}`,
        specDoc(target, { value: i % 2 === 0 ? "result" : "a", event: i % 2 === 0 ? "return" : "call" }),
      );
    mgr.specs.set("bad-line", specDoc(target, { value: "a", event: "line:999" }));
    mgr.specs.set("gone1", specDoc(missing));
    mgr.specs.set("gone2", specDoc(missing));
    const first = await mgr.apply();
    assert.equal(first.attached.filter((id) => id.startsWith("s")).length, count);
    assert.deepEqual(
      first.refused.map((r) => r.id).filter((id) => id.startsWith("gone")),
      ["gone1", "gone2"],
    );
    assert.equal(mgr.status()["bad-line"]?.state, "error", "a line the function lacks is an error, not a silent no-op");
    m.exports.add(3, 4);
    for (let i = 0; i < count; i++) assert.deepEqual(inst(target, `s${i}`).results, [i % 2 === 0 ? 7 : 3], `s${i}`);

    // Update half in place, remove the other half, in one apply.
    for (let i = 0; i < count; i++) {
      if (i % 2 === 0) mgr.specs.set(`s${i}`, specDoc(target, { value: "b", event: "call" }));
      else mgr.specs.delete(`s${i}`);
    }
    const second = await mgr.apply();
    assert.equal(second.updated.length, count / 2);
    assert.equal(second.removed.length, count / 2);
    const kept = inst(target, "s0");
    m.exports.add(5, 6);
    assert.deepEqual(kept.results, [7, 6]);
    for (let i = 1; i < count; i += 2) assert.equal(probes.get(target)?.instruments.get(`s${i}`), undefined);
    assert.notEqual(probes.get(target)?.status, "failed");

    mgr.specs.clear();
    const third = await mgr.apply();
    assert.equal(third.removed.filter((id) => id.startsWith("s")).length, count / 2);
    assert.equal(probes.get(target), undefined, "the probe this manager created is removed with its last instrument");
    m.exports.add(1, 1);
    assert.deepEqual(kept.results, [7, 6], "a removed instrument no longer fires");
  });

  test("stop() with many specs on one target removes them all and the probe", async () => {
    const m = await load();
    const { mgr } = testManager();
    const target = m.qualified("add");
    for (let i = 0; i < 50; i++) mgr.specs.set(`s${i}`, specDoc(target));
    await mgr.apply();
    const one = inst(target, "s7");
    await mgr.stop();
    assert.equal(probes.get(target), undefined);
    m.exports.add(1, 1);
    assert.deepEqual(one.results, []);
  });

  test("a refused spec that is fixed is applied", async () => {
    const m = await load();
    const { mgr } = testManager();
    const target = m.qualified("add");
    mgr.specs.set("s1", specDoc(target, { event: "sometimes" }));
    assert.equal((await mgr.apply()).refused.length, 1);
    mgr.specs.set("s1", specDoc(target));
    assert.deepEqual((await mgr.apply()).attached, ["s1"]);
  });
});

describe("apply: expiry", () => {
  test("a spec past lastmodified + lifespan is expired: not attached, reported expired", async () => {
    const m = await load();
    const { mgr } = testManager();
    const target = m.qualified("add");
    mgr.specs.set("old", specDoc(target, {}, { lifespan: 1, lastmodified: new Date(Date.now() - 120_000) }));
    mgr.specs.set(
      "iso",
      specDoc(target, {}, { lifespan: 5, lastmodified: new Date(Date.now() - 60_000).toISOString() }),
    );
    const report = await mgr.apply();
    assert.deepEqual(report.expired, ["old"]);
    assert.deepEqual(report.attached, ["iso"], "ISO strings are dates too");
    assert.equal(mgr.status()["old"]?.state, "expired");
    assert.equal(mgr.specs.get("old")!.applied[mgr.processId]?.state, "expired");
  });

  test("an applied spec expires by itself: its instrument and probe go, the status says expired", async () => {
    const m = await load();
    const { mgr } = testManager();
    const target = m.qualified("add");
    mgr.specs.set("s1", specDoc(target, {}, { lifespan: 0.3 / 60 })); // 300 ms
    assert.deepEqual((await mgr.apply()).attached, ["s1"]);
    await sleep(450);
    assert.equal(probes.get(target), undefined);
    assert.deepEqual(m.sitesOn(), []);
    assert.equal(mgr.status()["s1"]?.state, "expired");
    assert.equal((await mgr.apply()).unchanged, 1);
  });

  test("defaultLifespan applies to a spec without one; maxLifespan caps every spec", async () => {
    const m = await load();
    const target = m.qualified("add");
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    const d = testManager({ defaultLifespan: 1 }).mgr;
    d.specs.set("none", specDoc(target, {}, { lastmodified: twoMinutesAgo }));
    d.specs.set("own", specDoc(target, {}, { lastmodified: twoMinutesAgo, lifespan: 10 }));
    const r1 = await d.apply();
    assert.deepEqual(r1.expired, ["none"]);
    assert.deepEqual(r1.attached, ["own"]);
    const c = testManager({ maxLifespan: 1 }).mgr;
    c.specs.set("long", specDoc(target, {}, { lastmodified: twoMinutesAgo, lifespan: 1000 }));
    c.specs.set("forever", specDoc(target, {}, { lastmodified: twoMinutesAgo }));
    assert.deepEqual((await c.apply()).expired, ["long", "forever"]);
  });
});

describe("apply: selectors and labels", () => {
  test("a spec applies only where its selector's labels all match; others are not reported", async () => {
    const m = await load();
    const target = m.qualified("add");
    const { mgr } = testManager({ labels: { app: "shop", zone: "eu" } });
    mgr.specs.set("match", specDoc(target, {}, { selector: { app: "shop" } }));
    mgr.specs.set("both", specDoc(target, {}, { selector: { app: "shop", zone: "eu" } }));
    mgr.specs.set("miss", specDoc(target, {}, { selector: { app: "billing" } }));
    mgr.specs.set("unlabelled", specDoc(target, {}, { selector: { team: "x" } }));
    const report = await mgr.apply();
    assert.deepEqual(report.attached.sort(), ["both", "match"]);
    assert.deepEqual(Object.keys(mgr.status()).sort(), ["both", "match"]);
    assert.equal(mgr.specs.get("miss")!.applied[mgr.processId], undefined);
    // A selector changed to exclude this process removes the instrument.
    mgr.specs.set("match", specDoc(target, {}, { selector: { app: "billing" } }));
    assert.deepEqual((await mgr.apply()).removed, ["match"]);
  });
});

describe("apply: serialised", () => {
  test("applies never overlap; calls during an apply share one more run", async () => {
    const inner = memoryStore();
    let active = 0;
    let maxActive = 0;
    let lists = 0;
    const store: SpecStore = {
      description: "counting memory",
      list: async (): Promise<SpecSnapshot> => {
        active++;
        lists++;
        maxActive = Math.max(maxActive, active);
        await sleep(30);
        active--;
        return inner.list();
      },
      put: (id, doc, o) => inner.put(id, doc, o),
      remove: (id, o) => inner.remove(id, o),
      reportStatus: (r) => inner.reportStatus(r),
      listStatus: () => inner.listStatus(),
      close: () => inner.close(),
    };
    const mgr = new InstrumentManager({ store, processId: "p" });
    const reports = await Promise.all([mgr.apply(), mgr.apply(), mgr.apply(), mgr.apply()]);
    assert.equal(maxActive, 1);
    assert.equal(lists, 2);
    assert.equal(reports[1], reports[3], "the queued calls share one run");
    await mgr.stop();
  });

  test("a store that cannot be read leaves the applied specs in force and says why", async () => {
    const m = await load();
    const target = m.qualified("add");
    const inner = memoryStore();
    let fail = false;
    const store: SpecStore = {
      description: "flaky memory",
      list: () => (fail ? Promise.reject(new Error("backend down")) : inner.list()),
      put: (id, doc, o) => inner.put(id, doc, o),
      remove: (id, o) => inner.remove(id, o),
      reportStatus: (r) => inner.reportStatus(r),
      listStatus: () => inner.listStatus(),
      close: () => inner.close(),
    };
    const { mgr, lines } = testManager({ store });
    inner.specs.set("s1", specDoc(target));
    await mgr.apply();
    fail = true;
    const report = await mgr.apply();
    assert.match(report.error!, /Could not read the specs from flaky memory .*backend down/);
    assert.ok(lines.some((l) => /backend down/.test(l)));
    m.exports.add(1, 1);
    assert.deepEqual(inst(target, "s1").results, [2]);
  });
});

describe("apply: expressions of store specs", () => {
  test("are compiled in the safe language: code is refused with the construct named; allowCode: true trusts the store", async () => {
    const m = await load();
    const target = m.qualified("add");
    const safe = testManager().mgr;
    safe.specs.set("code", specDoc(target, { value: "process.exit(1)" }));
    safe.specs.set("method", specDoc(target, { value: "a.toFixed(1)" }));
    safe.specs.set("plain", specDoc(target, { value: "a + b" }));
    const report = await safe.apply();
    assert.deepEqual(report.attached, ["plain"]);
    const errs = new Map(report.refused.map((r) => [r.id, r.err]));
    assert.match(errs.get("code")!, /process/);
    assert.match(errs.get("method")!, /toFixed|call/);
    const trusting = testManager({ allowCode: true }).mgr;
    trusting.specs.set("method", specDoc(target, { value: "a.toFixed(1)" }));
    assert.deepEqual((await trusting.apply()).attached, ["method"]);
    m.exports.add(2, 1);
    assert.deepEqual(inst(target, "method").results, ["2.0"]);
    assert.deepEqual(inst(target, "plain").results, [3]);
  });
});
