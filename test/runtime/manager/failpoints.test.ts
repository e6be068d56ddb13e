/**
 * Failpoint specs (pause, error, delay) through a real manager on real instrumented modules:
 * refused unless the manager has `failpoints: true`, bounded, refused on synchronous targets for
 * pause/delay, and every held call let go when its spec is removed, expires, or its time is up.
 */
import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";
import {
  FAILPOINT_LIMITS,
  InjectedFailpointError,
  InstrumentManager,
  defaultInstrumentClasses,
  memoryStore,
} from "../../../runtime/index.js";
import { loadInstrumented } from "../../helpers/instrumented.js";
import { specDoc, stopManagers, testManager, until } from "./helpers.js";

const SOURCE = `export async function fetchUser(id: number) { return { id }; }
export function total(n: number) { return n * 2; }
`;

interface Mod {
  fetchUser(id: number): Promise<{ id: number }>;
  total(n: number): number;
}

let n = 0;
const load = () => loadInstrumented<Mod>(SOURCE, `src/failpoints${++n}/users.ts`);

/** A failpoint spec: `custom` holds its fields. */
const failpoint = (target: string, type: string, custom: Record<string, unknown>, event?: string) =>
  specDoc(target, { type, name: `fp-${type}`, value: "1", custom, ...(event === undefined ? {} : { event }) });

/** Whether `p` is still pending after the event loop went round (a plain call would have settled). */
async function pending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return !settled;
}

afterEach(stopManagers);
after(stopManagers);

describe("failpoints: off by default", () => {
  test("a failpoint spec is refused with FailpointsOffError in its status, and calls run untouched", async () => {
    const m = await load();
    const { mgr } = testManager();
    assert.equal(mgr.failpoints, false);
    mgr.specs.set("e1", failpoint(m.qualified("total"), "error", { message: "boom" }));
    mgr.specs.set("p1", failpoint(m.qualified("fetchUser"), "pause", { ms: 1000 }));
    const report = await mgr.apply();
    assert.deepEqual(
      report.refused.map((r) => r.id),
      ["e1", "p1"],
    );
    const status = mgr.status();
    assert.equal(status["e1"]?.state, "error");
    assert.match(
      status["e1"]?.err ?? "",
      /^FailpointsOffError: failpoints are off in this process; start the manager with failpoints: true/,
    );
    assert.match(status["p1"]?.err ?? "", /failpoints are off/);
    assert.equal(m.exports.total(2), 4);
    assert.deepEqual(await m.exports.fetchUser(7), { id: 7 });
  });

  test("the default instrument table has no failpoint types; a failpoints manager's table has them", async () => {
    const defaults = defaultInstrumentClasses();
    for (const type of ["pause", "error", "delay"]) assert.equal(Object.hasOwn(defaults, type), false, type);
    for (const type of ["log", "hist", "incr", "test"]) assert.equal(typeof defaults[type], "function", type);
    const { mgr } = testManager({ failpoints: true });
    // Read before the first apply (which loads the failpoint classes): the same table gets them.
    const table = mgr.instrumentClasses;
    await mgr.apply();
    assert.equal(mgr.instrumentClasses, table);
    for (const type of ["pause", "error", "delay"]) assert.equal(typeof table[type], "function");
    assert.throws(() => new InstrumentManager({ failpoints: "yes" as never }), /`failpoints` must be true or false/);
  });

  test("turning failpoints on with configure() applies a spec refused before", async () => {
    const m = await load();
    const mgr = new InstrumentManager({ store: memoryStore(), processId: "test:cfg" });
    try {
      mgr.specs.set("e1", failpoint(m.qualified("total"), "error", { message: "boom" }));
      await mgr.apply();
      assert.equal(mgr.status()["e1"]?.state, "error");
      mgr.configure({ failpoints: true });
      await mgr.apply();
      assert.equal(mgr.status()["e1"]?.state, "applied");
      assert.throws(() => m.exports.total(1), /boom/);
      mgr.configure({ failpoints: false });
      await mgr.apply();
      assert.equal(mgr.status()["e1"]?.state, "error");
      assert.equal(m.exports.total(1), 2);
    } finally {
      await mgr.stop();
    }
  });
});

describe("failpoints: error", () => {
  test("throws an InjectedFailpointError at the site, counts hits, and stops when the spec goes", async () => {
    const m = await load();
    const { mgr } = testManager({ failpoints: true });
    mgr.specs.set("e1", failpoint(m.qualified("total"), "error", { message: "disk full" }));
    const report = await mgr.apply();
    assert.deepEqual(report.attached, ["e1"]);
    assert.equal(mgr.status()["e1"]?.state, "applied");
    assert.equal(mgr.status()["e1"]?.hits, 0);
    assert.throws(
      () => m.exports.total(3),
      (err: unknown) =>
        err instanceof InjectedFailpointError &&
        err.message === "disk full" &&
        err.failpoint === "fp-error" &&
        err.target === m.qualified("total"),
    );
    await assert.rejects(
      m.exports.fetchUser(1).then(() => m.exports.total(1)),
      /disk full/,
    );
    assert.equal(mgr.status()["e1"]?.state, "emitting");
    assert.equal(mgr.status()["e1"]?.hits, 2);
    mgr.specs.delete("e1");
    assert.deepEqual((await mgr.apply()).removed, ["e1"]);
    assert.equal(m.exports.total(3), 6);
  });

  test("a condition picks the calls; an async target rejects; event return throws after the body", async () => {
    const m = await load();
    const { mgr } = testManager({ failpoints: true });
    mgr.specs.set("e1", {
      ...failpoint(m.qualified("fetchUser"), "error", { message: "user 13 is cursed", condition: "id == 13" }),
    });
    await mgr.apply();
    assert.deepEqual(await m.exports.fetchUser(12), { id: 12 });
    await assert.rejects(m.exports.fetchUser(13), /user 13 is cursed/);
    assert.equal(mgr.status()["e1"]?.hits, 1);
    mgr.specs.set(
      "e1",
      failpoint(m.qualified("total"), "error", { message: "after", condition: "result > 10" }, "return"),
    );
    const report = await mgr.apply();
    assert.deepEqual(report.moved, ["e1"]);
    assert.equal(m.exports.total(5), 10);
    assert.throws(() => m.exports.total(6), /after/);
    assert.deepEqual(await m.exports.fetchUser(13), { id: 13 });
  });
});

describe("failpoints: delay and pause", () => {
  test("delay holds an async call, then lets it finish with its own result", async () => {
    const m = await load();
    const { mgr } = testManager({ failpoints: true });
    mgr.specs.set("d1", failpoint(m.qualified("fetchUser"), "delay", { ms: 300 }));
    await mgr.apply();
    const call = m.exports.fetchUser(4);
    assert.equal(await pending(call), true);
    assert.deepEqual(await call, { id: 4 });
    assert.equal(mgr.status()["d1"]?.state, "emitting");
    assert.equal(mgr.status()["d1"]?.hits, 1);
  });

  test("pause parks calls until the spec is removed, then releases all of them at once", async () => {
    const m = await load();
    const { mgr } = testManager({ failpoints: true });
    mgr.specs.set("p1", failpoint(m.qualified("fetchUser"), "pause", { ms: FAILPOINT_LIMITS.pauseMs }));
    await mgr.apply();
    const calls = [m.exports.fetchUser(1), m.exports.fetchUser(2), m.exports.fetchUser(3)];
    for (const c of calls) assert.equal(await pending(c), true);
    assert.equal(mgr.status()["p1"]?.hits, 3);
    mgr.specs.delete("p1");
    await mgr.apply();
    assert.deepEqual(await Promise.all(calls), [{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  test("pause lets a call go at its timeout, on real timers even under fake ones", async (t) => {
    const m = await load();
    const { mgr } = testManager({ failpoints: true });
    mgr.specs.set("p1", failpoint(m.qualified("fetchUser"), "pause", { ms: 100 }));
    await mgr.apply();
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const call = m.exports.fetchUser(9);
    assert.deepEqual(await call, { id: 9 });
    t.mock.timers.reset();
    assert.equal(mgr.status()["p1"]?.state, "emitting");
  });

  test("pause releases its calls when the spec expires", async () => {
    const m = await load();
    const { mgr } = testManager({ failpoints: true });
    // 0.005 minutes: the spec expires 300 ms after its lastmodified.
    mgr.specs.set("p1", { ...failpoint(m.qualified("fetchUser"), "pause", { ms: 300_000 }), lifespan: 0.005 });
    await mgr.apply();
    const call = m.exports.fetchUser(5);
    assert.equal(await pending(call), true);
    assert.deepEqual(await call, { id: 5 });
    await until(() => mgr.status()["p1"]?.state === "expired", 3_000, "the expired state");
  });

  test("a disabled failpoint lets its held calls go", async () => {
    const m = await load();
    const { mgr } = testManager({ failpoints: true });
    mgr.specs.set("p1", failpoint(m.qualified("fetchUser"), "pause", { ms: 300_000 }));
    await mgr.apply();
    const call = m.exports.fetchUser(6);
    assert.equal(await pending(call), true);
    const inst = (
      mgr as unknown as { reconciler: { entries: Map<string, { instrument: { disable(): void } }> } }
    ).reconciler.entries.get("p1")!.instrument;
    inst.disable();
    assert.deepEqual(await call, { id: 6 });
  });
});

describe("failpoints: spec changes", () => {
  test("an update in place keeps held calls and takes the new message; a type change releases them", async () => {
    const m = await load();
    const { mgr } = testManager({ failpoints: true });
    mgr.specs.set("f1", failpoint(m.qualified("fetchUser"), "pause", { ms: 300_000 }));
    await mgr.apply();
    const held = m.exports.fetchUser(1);
    assert.equal(await pending(held), true);
    mgr.specs.set("f1", failpoint(m.qualified("fetchUser"), "pause", { ms: 200_000, condition: "id > 5" }));
    assert.deepEqual((await mgr.apply()).updated, ["f1"]);
    assert.equal(await pending(held), true, "an update does not let the held call go");
    assert.deepEqual(await m.exports.fetchUser(2), { id: 2 }, "the new condition applies");
    mgr.specs.set("f1", failpoint(m.qualified("fetchUser"), "error", { message: "now failing" }));
    assert.deepEqual((await mgr.apply()).replaced, ["f1"]);
    assert.deepEqual(await held, { id: 1 }, "the type change let the held call go with its own result");
    await assert.rejects(m.exports.fetchUser(3), /now failing/);
  });

  test("manager.stop() lets every held call go", async () => {
    const m = await load();
    const { mgr } = testManager({ failpoints: true });
    mgr.specs.set("p1", failpoint(m.qualified("fetchUser"), "pause", { ms: 300_000 }));
    await mgr.apply();
    const held = m.exports.fetchUser(8);
    assert.equal(await pending(held), true);
    await mgr.stop();
    assert.deepEqual(await held, { id: 8 });
  });

  test("a condition that fails at run time disables the failpoint, with the reason in its status", async () => {
    const m = await load();
    const { mgr } = testManager({ failpoints: true });
    mgr.specs.set("e1", failpoint(m.qualified("fetchUser"), "error", { message: "m", condition: "id.a.b > 1" }));
    await mgr.apply();
    assert.deepEqual(await m.exports.fetchUser(1), { id: 1 });
    assert.equal(mgr.status()["e1"]?.state, "error");
    assert.match(mgr.status()["e1"]?.err ?? "", /ExpressionEvaluationError: .*read \.b of undefined/);
    assert.deepEqual(await m.exports.fetchUser(2), { id: 2 });
  });
});

describe("failpoints: refusals", () => {
  test("pause and delay on a synchronous function are refused; error on it is fine", async () => {
    const m = await load();
    const { mgr } = testManager({ failpoints: true });
    mgr.specs.set("p1", failpoint(m.qualified("total"), "pause", { ms: 1000 }));
    mgr.specs.set("d1", failpoint(m.qualified("total"), "delay", { ms: 1000 }));
    await mgr.apply();
    for (const id of ["p1", "d1"]) {
      assert.equal(mgr.status()[id]?.state, "error");
      assert.match(mgr.status()[id]?.err ?? "", /is a synchronous function, and holding it would block the event loop/);
    }
    assert.equal(m.exports.total(4), 8);
  });

  test("a synchronous target loaded after the spec arrived is refused once it loads", async () => {
    const { mgr } = testManager({ failpoints: true });
    const path = `src/failpoints${++n}/late.ts`;
    mgr.specs.set("p1", failpoint(`${path}:total`, "pause", { ms: 1000 }));
    const report = await mgr.apply();
    assert.deepEqual(report.pending, ["p1"]);
    assert.equal(mgr.status()["p1"]?.state, "pending");
    const m = await loadInstrumented<Mod>(SOURCE, path);
    assert.equal(mgr.status()["p1"]?.state, "error");
    assert.match(mgr.status()["p1"]?.err ?? "", /synchronous function/);
    assert.equal(m.exports.total(4), 8);
  });

  const bad: [string, string, Record<string, unknown>, RegExp, string?][] = [
    [
      "pause over the cap",
      "pause",
      { ms: FAILPOINT_LIMITS.pauseMs + 1 },
      /whole number of milliseconds from 1 to 300000; got 300001/,
    ],
    ["delay over the cap", "delay", { ms: FAILPOINT_LIMITS.delayMs + 1 }, /from 1 to 60000; got 60001/],
    ["delay of 0", "delay", { ms: 0 }, /got 0/],
    ["ms as a string", "pause", { ms: "5000" }, /got "5000"/],
    ["ms missing", "delay", {}, /needs `custom.ms`/],
    ["ms not whole", "pause", { ms: 1.5 }, /got 1.5/],
    ["a message too long", "error", { message: "x".repeat(501) }, /at most 500 characters; got 501 characters/],
    ["a message that is not a string", "error", { message: { toString: 1 } }, /needs `custom.message`.*got an? object/],
    [
      "an unknown field",
      "pause",
      { ms: 10, msec: 10 },
      /`custom.msec` is not one of its fields; it takes custom.ms and custom.condition/,
    ],
    ["a rate (not a failpoint field)", "error", { message: "m", rate: 5 }, /`custom.rate` is not one of its fields/],
    ["event end", "error", { message: "m" }, /acts at "call".*or "return"; got "end"/, "end"],
    ["a condition that is not safe", "error", { message: "m", condition: "process.exit(1)" }, /UnsafeExpressionError/],
  ];
  for (const [what, type, custom, message, event] of bad) {
    test(`refused with a sentence: ${what}`, async () => {
      const m = await load();
      const { mgr } = testManager({ failpoints: true });
      mgr.specs.set("x", failpoint(m.qualified("fetchUser"), type, custom, event));
      const report = await mgr.apply();
      assert.deepEqual(
        report.refused.map((r) => r.id),
        ["x"],
      );
      assert.equal(mgr.status()["x"]?.state, "error");
      assert.match(mgr.status()["x"]?.err ?? "", message);
      assert.deepEqual(await m.exports.fetchUser(1), { id: 1 });
    });
  }
});
