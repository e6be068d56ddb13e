/** sensor(): `using`, the callback forms, and cleanup when the body throws. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { probes, sensor, TargetNotFoundError } from "../../runtime/index.js";
import { loadInstrumented } from "../helpers/instrumented.js";

const SRC = `export function add13(arg: number) { return arg + 13; }
export async function later(arg: number) { await null; return arg * 2; }`;
type M = { add13(a: number): number; later(a: number): Promise<number> };

test("with `using`: records results, removes itself and stops the probe it started", async () => {
  const m = await loadInstrumented<M>(SRC, "src/sensor1/cart.ts");
  const target = m.qualified("add13");
  {
    using s = sensor(target);
    m.exports.add13(1);
    m.exports.add13(2);
    assert.deepEqual(s.results, [14, 15]);
    assert.equal(probes.get(target)!.status, "active");
  }
  assert.equal(probes.get(target)!.instruments.size, 0);
  assert.equal(probes.get(target)!.status, "stopped");
  assert.deepEqual(m.sitesOn(), []);
});

test("value, name and event options", async () => {
  const m = await loadInstrumented<M>(SRC, "src/sensor2/cart.ts");
  using s = sensor(m.qualified("add13"), { value: "arg * 10", event: "call", name: "n" });
  m.exports.add13(3);
  assert.equal(s.name, "n");
  assert.deepEqual(s.results, [30]);
});

test("callback form, sync and async; removed even when the body throws", async () => {
  const m = await loadInstrumented<M>(SRC, "src/sensor3/cart.ts");
  const target = m.qualified("add13");
  const s = sensor(target, {}, () => m.exports.add13(1));
  assert.deepEqual(s.results, [14]);
  assert.equal(probes.get(target)!.instruments.size, 0);

  const a = await sensor(m.qualified("later"), {}, async () => {
    await m.exports.later(4);
  });
  assert.deepEqual(a.results, [8]);

  assert.throws(
    () =>
      sensor(target, {}, () => {
        m.exports.add13(0);
        throw new Error("body failed");
      }),
    /body failed/,
  );
  assert.equal(probes.get(target)!.instruments.size, 0);
  assert.deepEqual(m.sitesOn(), []);

  await assert.rejects(
    sensor(m.qualified("later"), {}, async () => {
      throw new Error("async body failed");
    }),
    /async body failed/,
  );
  assert.equal(probes.get(m.qualified("later"))!.instruments.size, 0);
});

test("using: removed when the block throws; a sensor on a missing target throws and leaves nothing", async () => {
  const m = await loadInstrumented<M>(SRC, "src/sensor4/cart.ts");
  const target = m.qualified("add13");
  assert.throws(() => {
    using _s = sensor(target);
    throw new Error("inside");
  }, /inside/);
  assert.equal(probes.get(target)!.instruments.size, 0);
  assert.throws(() => sensor(m.qualified("nope")), TargetNotFoundError);
  assert.equal(probes.get(m.qualified("nope"))!.instruments.size, 0);
});

test("a sensor on an already started probe leaves the probe started", async () => {
  const m = await loadInstrumented<M>(SRC, "src/sensor5/cart.ts");
  const target = m.qualified("add13");
  const p = probes.attachTo(target).start();
  sensor(target, {}, () => m.exports.add13(1));
  assert.equal(p.started, true);
  probes.remove(target);
});
