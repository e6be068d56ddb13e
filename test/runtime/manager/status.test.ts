/**
 * Status per spec on real instrumented code: pending until the target's module loads, applied,
 * emitting, a run-time failure reaching the spec's status, no re-arm of a failed instrument until
 * its spec changes, reports written to the store (debounced) and the process id.
 */
import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";
import { hostname } from "node:os";
import { Worker } from "node:worker_threads";
import { InstrumentManager, defaultProcessId, memoryStore, probes } from "../../../runtime/index.js";
import { loadInstrumented } from "../../helpers/instrumented.js";
import { specDoc, stopManagers, testManager, until } from "./helpers.js";

const SOURCE = `export function price(order: { qty: number }) { return order.qty * 3; }
export function late(x: number) { return x + 1; }
`;

let n = 0;
const modulePath = () => `src/status${++n}/shop.ts`;

afterEach(stopManagers);
after(stopManagers);

describe("status", () => {
  test("a target whose module is not loaded yet is pending, then applied when it loads, then emitting", async () => {
    const path = modulePath();
    const target = `${path}:late`;
    const { mgr } = testManager();
    mgr.specs.set("s1", specDoc(target));
    const report = await mgr.apply();
    assert.deepEqual(report.attached, ["s1"]);
    assert.deepEqual(report.pending, ["s1"]);
    assert.equal(mgr.status()["s1"]?.state, "pending");
    assert.equal(mgr.specs.get("s1")!.applied[mgr.processId]?.state, "pending");
    const m = await loadInstrumented<{ late(x: number): number }>(SOURCE, path);
    assert.equal(mgr.status()["s1"]?.state, "applied");
    m.exports.late(1);
    assert.equal(mgr.status()["s1"]?.state, "emitting");
    assert.equal(mgr.status()["s1"]?.hits, 1);
  });

  test("a module that loads without the target turns a pending spec into an error naming the nearest functions", async () => {
    const path = modulePath();
    const { mgr } = testManager();
    mgr.specs.set("s1", specDoc(`${path}:lat`));
    await mgr.apply();
    assert.equal(mgr.status()["s1"]?.state, "pending");
    await loadInstrumented(SOURCE, path);
    const st = mgr.status()["s1"]!;
    assert.equal(st.state, "error");
    assert.match(st.err!, /late/);
  });

  test("a run-time failure of the instrument reaches the spec's status and the store, and is not re-armed by the next apply", async () => {
    const path = modulePath();
    const m = await loadInstrumented<{ price(o: unknown): number }>(SOURCE, path);
    const target = m.qualified("price");
    const { mgr, lines } = testManager({ heartbeatInterval: 50 });
    // A store spec's expression cannot throw (safe language); its sink can: a histogram refuses a non-number.
    mgr.specs.set("s1", specDoc(target, { type: "hist", value: "args[0].qty" }));
    await mgr.start();
    m.exports.price({ qty: 2 });
    assert.equal(mgr.status()["s1"]?.state, "emitting");
    assert.ok(Number.isNaN(m.exports.price({ qty: "many" })), "the probed function runs on");
    const st = mgr.status()["s1"]!;
    assert.equal(st.state, "error");
    assert.match(st.err!, /InstrumentValueError: Instrument "t" cannot send the non-numeric metric many\./);
    assert.ok(lines.some((l) => /failed and was disabled/.test(l)));
    await until(() => mgr.specs.get("s1")!.applied[mgr.processId]?.state === "error", 2_000, "the error in the store");
    // Same spec: stays disabled.
    await mgr.apply();
    m.exports.price({ qty: 5 });
    assert.equal(mgr.status()["s1"]?.state, "error");
    // Changed spec: re-armed.
    mgr.specs.set("s1", specDoc(target, { type: "hist", value: "len(str(args[0].qty))" }));
    const report = await mgr.apply();
    assert.deepEqual(report.updated, ["s1"]);
    m.exports.price({ qty: 5 });
    assert.equal(mgr.status()["s1"]?.state, "emitting");
    assert.equal(mgr.status()["s1"]?.err, null);
  });

  test("status reports go to the store with labels and time, and are repeated as a heartbeat", async () => {
    const path = modulePath();
    const m = await loadInstrumented<{ late(x: number): number }>(SOURCE, path);
    const store = memoryStore();
    const { mgr } = testManager({ store, labels: { app: "shop" }, heartbeatInterval: 100 });
    store.specs.set("s1", specDoc(m.qualified("late")));
    await mgr.start();
    const first = (await store.listStatus()).find((r) => r.processId === mgr.processId)!;
    assert.deepEqual(first.labels, { app: "shop" });
    assert.equal(first.specs["s1"]?.state, "applied");
    let later = first.at.getTime();
    await until(
      () => {
        void store.listStatus().then((rs) => (later = rs.find((r) => r.processId === mgr.processId)!.at.getTime()));
        return later > first.at.getTime();
      },
      2_000,
      "a heartbeat",
    );
    m.exports.late(3);
    await until(
      () =>
        store.specs.get("s1")?.["applied"] !== undefined &&
        (store.specs.get("s1")!["applied"] as Record<string, { state: string }>)[mgr.processId]?.state === "emitting",
      3_000,
      "emitting in the store",
    );
  });

  test("a store whose status writes fail is retried, never thrown", async () => {
    const inner = memoryStore();
    let failures = 2;
    const store = {
      description: "flaky status",
      list: () => inner.list(),
      put: inner.put.bind(inner),
      remove: inner.remove.bind(inner),
      reportStatus: (r: Parameters<typeof inner.reportStatus>[0]) =>
        failures-- > 0 ? Promise.reject(new Error("disk full")) : inner.reportStatus(r),
      listStatus: () => inner.listStatus(),
      close: () => inner.close(),
    };
    const { mgr, lines } = testManager({ store });
    inner.specs.set("s1", specDoc(`${modulePath()}:late`));
    const report = await mgr.apply();
    assert.equal(report.error, undefined);
    assert.equal(lines.filter((l) => /disk full/.test(l)).length, 1, "said once per outage");
    await until(
      () =>
        inner.specs.get("s1")!["applied"] !== undefined &&
        Object.keys(inner.specs.get("s1")!["applied"] as object).length === 1,
      6_000,
      "status after retries",
    );
  });
});

describe("a store that never answers (storeTimeout)", () => {
  test("a read or a status write that never settles counts as failed; later changes still apply", async () => {
    const path = modulePath();
    const m = await loadInstrumented<{ late(x: number): number }>(SOURCE, path);
    const inner = memoryStore();
    // A custom store with one lost callback per call kind: the first list and the first status
    // write never settle.
    let hangList = true;
    let hangStatus = true;
    const store = {
      description: "lost callbacks",
      list: () => {
        if (!hangList) return inner.list();
        hangList = false;
        return new Promise<never>(() => {});
      },
      put: inner.put.bind(inner),
      remove: inner.remove.bind(inner),
      reportStatus: (r: Parameters<typeof inner.reportStatus>[0]) => {
        if (!hangStatus) return inner.reportStatus(r);
        hangStatus = false;
        return new Promise<never>(() => {});
      },
      listStatus: () => inner.listStatus(),
      close: () => inner.close(),
    };
    const { mgr, lines } = testManager({ store, pollInterval: 50, storeTimeout: 200 });
    const first = await mgr.apply();
    assert.match(first.error ?? "", /lost callbacks is unavailable: reading the specs did not answer within 0\.2 s/);
    inner.specs.set("s1", specDoc(m.qualified("late")));
    // The hung status write must not hold this apply (applies never overlap: before the bound,
    // every later apply queued behind it).
    const second = await mgr.apply();
    assert.deepEqual(second.attached, ["s1"]);
    assert.ok(
      lines.some((l) => /writing this process's status did not answer within 0\.2 s/.test(l)),
      lines.join("\n"),
    );
    await until(
      () => Object.keys((inner.specs.get("s1")?.["applied"] as object | undefined) ?? {}).length === 1,
      6_000,
      "the status written by a retry",
    );
    assert.throws(() => testManager({ storeTimeout: 0 }), /`storeTimeout` must be a number of milliseconds/);
  });
});

describe("processId", () => {
  test("defaults to host:pid, an option or DIAGNOSE_PROCESS_ID override it", async () => {
    assert.equal(defaultProcessId(), `${hostname()}:${process.pid}`);
    assert.equal(new InstrumentManager({ processId: "web-1" }).processId, "web-1");
    process.env["DIAGNOSE_PROCESS_ID"] = "from-env";
    try {
      assert.equal(new InstrumentManager().processId, "from-env");
      assert.equal(new InstrumentManager({ processId: "opt" }).processId, "opt");
    } finally {
      delete process.env["DIAGNOSE_PROCESS_ID"];
    }
  });

  test("a worker thread adds its thread id", async () => {
    const url = new URL("../../../runtime/index.js", import.meta.url).href;
    const worker = new Worker(
      `import(${JSON.stringify(url)}).then((d) => require("node:worker_threads").parentPort.postMessage(d.manager.processId));`,
      { eval: true },
    );
    const id = await new Promise<string>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    assert.match(id, new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${process.pid}:\\d+$`));
  });
});

describe("start and stop", () => {
  test("on the memory store: a spec set after start() is applied by the doorbell; stop() removes everything", async () => {
    const path = modulePath();
    const m = await loadInstrumented<{ late(x: number): number }>(SOURCE, path);
    const { mgr } = testManager();
    await mgr.start();
    assert.equal(mgr.started, true);
    mgr.specs.set("s1", specDoc(m.qualified("late")));
    await until(() => probes.get(m.qualified("late"))?.instruments.has("s1"), 2_000, "the doorbell apply");
    m.exports.late(1);
    await mgr.stop();
    assert.equal(probes.get(m.qualified("late")), undefined);
    assert.deepEqual(m.sitesOn(), []);
    mgr.specs.set("s2", specDoc(m.qualified("late")));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(probes.get(m.qualified("late")), undefined, "no longer watching");
  });

  test("a store without a change feed is polled", async () => {
    const path = modulePath();
    const m = await loadInstrumented<{ late(x: number): number }>(SOURCE, path);
    const inner = memoryStore();
    const store = {
      description: "no feed",
      list: () => inner.list(),
      put: inner.put.bind(inner),
      remove: inner.remove.bind(inner),
      reportStatus: inner.reportStatus.bind(inner),
      listStatus: () => inner.listStatus(),
      close: () => inner.close(),
    };
    const { mgr } = testManager({ store, pollInterval: 50 });
    await mgr.start();
    inner.specs.set("s1", specDoc(m.qualified("late")));
    await until(() => probes.get(m.qualified("late"))?.instruments.has("s1"), 2_000, "a poll");
    inner.specs.delete("s1");
    await until(() => probes.get(m.qualified("late")) === undefined, 2_000, "a poll after removal");
  });
});

test("a spec whose id is __proto__ gets its own status key (the report's prototype is untouched)", async () => {
  const store = memoryStore();
  const mgr = new InstrumentManager({ store, processId: "proto-test" });
  store.specs.set("__proto__", {
    target: "src/nowhere.ts:missing",
    instrument: { type: "log", name: "p", value: "result" },
    lastmodified: new Date(),
    applied: {},
  });
  try {
    await mgr.apply();
    const all = mgr.status();
    assert.ok(Object.prototype.hasOwnProperty.call(all, "__proto__"), "an own key named __proto__");
    assert.equal(Object.getPrototypeOf(all), Object.prototype);
  } finally {
    await mgr.stop();
  }
});
