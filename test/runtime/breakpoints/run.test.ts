/** The fluent `run()` helper: every form (until, beyond, errorOn × returns, errors, where, once). */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import {
  BreakpointErrors,
  BreakpointMisuseError,
  BreakpointWaitTimeoutError,
  run,
} from "../../../runtime/breakpoints/index.js";
import { loadFixture } from "./fixture.js";

const mod = await loadFixture("src/run.ts");
const m = mod.exports;
const T = (path: string) => mod.qualified(path);
after(() => rmSync(mod.root, { recursive: true, force: true }));

test("until(target): awaiting starts fn and resolves with the call parked", async () => {
  await using r = await run(m.loop, 3).until(T("step"));
  assert.deepEqual(r.hit.args, [0]);
  assert.equal(r.parked.length, 1);
  assert.deepEqual(r.results, [], "nothing finished yet");
  r.release();
  assert.deepEqual((await r.wait()).args, [1], "the next call parks too");
  r.release();
  assert.deepEqual((await r.wait()).args, [2]);
  r.release();
  assert.deepEqual(await r.task, [0, 2, 4]);
  assert.deepEqual(r.results, [{ status: "fulfilled", value: [0, 2, 4] }]);
});

test("until(target).where(n): only the n-th call parks", async () => {
  await using r = await run(m.loop, 4).until(T("step")).where(2);
  assert.deepEqual(r.hit.args, [2]);
  assert.equal(r.bp.callCount, 3);
  r.release();
  assert.deepEqual(await r.task, [0, 2, 4, 6]);
});

test("until(target).returns.once: parked after the first call's body; later calls go through", async () => {
  await using r = await run(m.loop, 4).until(T("step")).returns.once;
  assert.equal(r.hit.event, "return");
  assert.equal(r.hit.result, 0);
  assert.deepEqual(r.hit.locals, { i: 0, doubled: 0 });
  r.release();
  assert.deepEqual(await r.task, [0, 2, 4, 6]);
  assert.equal(r.bp.hitCount, 0);
  assert.equal(r.bp.callCount, 4);
});

test("until(target).where(predicate) on a (class, method) target", async () => {
  const archive = new m.S3Archive();
  await using r = await run(async () => Promise.all(["a", "b", "c"].map((k) => archive.unarchive(k))))
    .until(m.S3Archive, "unarchive")
    .where((key) => key === "b");
  assert.deepEqual(r.hit.args, ["b"]);
  await tick();
  assert.ok(!archive.log.includes("start b"));
  r.release();
  assert.deepEqual(await r.task, ["restored a", "restored b", "restored c"]);
});

test("beyond(target): lets the call through and resolves once it returned", async () => {
  await using r = await run(m.outer, 1).beyond(T("inner"));
  assert.equal(r.hit.event, "return");
  assert.equal(r.hit.result, 20);
  assert.equal(r.parked.length, 0);
  assert.equal(await r.task, 20);
});

test("beyond(target).errors: resolves once the call threw", async () => {
  const archive = new m.S3Archive();
  await using r = await run(() => archive.broken(5)).beyond(T("S3Archive.broken")).errors;
  assert.equal(r.hit.event, "error");
  assert.match((r.hit.error as Error).message, /broken 5/);
  await assert.rejects(r.task, /broken 5/);
});

test("errorOn(target, error): the call throws it; results hold it; dispose does not rethrow it", async () => {
  const boom = new Error("injected");
  {
    await using r = await run(m.outer, 1).errorOn(T("inner"), boom);
    assert.deepEqual(r.hit.args, [2]);
    await r.bp.waitUntil((bp) => bp.results.length === 1);
    assert.deepEqual(r.results, [{ status: "rejected", reason: boom }]);
  }
  {
    await using r = await run(m.loop, 3).errorOn(T("step"), boom).returns.where(1);
    assert.equal(r.hit.result, 2, "the body ran; the error replaced its result");
    await assert.rejects(r.task, (e) => e === boom);
  }
});

test("a chain whose condition is never met fails after its timeout, releasing and reporting", async () => {
  await assert.rejects(
    run(m.loop, 2)
      .until(T("inner"))
      .with({ timeoutMs: 50 })
      .then((r) => r),
    (e) => {
      assert.ok(e instanceof BreakpointErrors);
      assert.ok(e.errors[0] instanceof BreakpointWaitTimeoutError);
      assert.match(String((e.errors[1] as Error).message), /was not met/);
      return true;
    },
  );
  await assert.rejects(Promise.resolve(run(m.loop, 1)), BreakpointMisuseError);
  assert.throws(() => run(m.loop, 1).until(T("step")).beyond(T("step")), BreakpointMisuseError);
});
