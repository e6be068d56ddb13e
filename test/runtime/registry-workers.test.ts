/**
 * Worker threads: each has its own globalThis, so its own registry and flags; synchronous code in a
 * worker can be paused by a watcher blocking on a SyncGate; a slot held by another ABI version.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import { SyncGate, SyncPauseError, resetForTests, watch } from "../../runtime/registry/index.js";
import { ABI_VERSION } from "../../abi/index.js";
import { fixture, onSites, recorder, RUNTIME_URL } from "./registry-helpers.js";

const basic = (await import(fixture("basic.mjs").href)) as { add(a: number, b: number): number };

type Message = Record<string, unknown>;

/** Starts a fixture worker and collects its messages until it exits. */
function run(script: string, data: Record<string, unknown> = {}) {
  const worker = new Worker(fixture(script), {
    workerData: { runtime: RUNTIME_URL.href, basic: fixture("basic.mjs").href, ...data },
  });
  const messages: Message[] = [];
  const exited = new Promise<number>((resolve, reject) => {
    worker.on("message", (m: Message) => messages.push(m));
    worker.on("error", reject);
    worker.on("exit", resolve);
  });
  return { worker, messages, exited };
}

test("a worker thread has its own registry: watches and flags do not cross threads", async () => {
  const main = recorder();
  const w = watch("src/basic.ts:add", main);
  const { messages, exited } = run("worker-own-registry.mjs");
  assert.equal(await exited, 0);
  const [m] = messages as [Message];
  assert.equal(m.slotBefore, "empty");
  assert.deepEqual(m.flagsBefore, [false, false, false], "the main thread's watch is not visible");
  assert.deepEqual(m.flagsOn, [true, true, true]);
  assert.deepEqual(m.flagsAfter, [false, false, false]);
  assert.deepEqual(m.events, ["entry 2,3", "return 5"]);
  assert.equal(m.result, 5);
  assert.ok((m.functions as string[]).includes("src/basic.ts:add"));
  assert.deepEqual(main.events, [], "the worker's calls did not reach the main thread's watcher");
  assert.deepEqual(onSites("fxbasic1", 5), [0, 3, 4], "the worker's close did not touch main-thread flags");
  w.close();
  resetForTests();
});

test("a watcher blocks synchronous code in a worker on a SyncGate until the main thread opens it", async () => {
  const gate = new SyncGate();
  const { messages, exited } = run("worker-sync-pause.mjs", { gate: gate.buffer, timeout: 10_000, pauseAt: 2 });
  assert.equal(await gate.whenWaiting(1, 10_000), true, "the worker is blocked inside sum()");
  await sleep(50);
  assert.deepEqual(
    messages.map((m) => m.kind),
    ["calling"],
    "sum() has not returned while the gate is closed",
  );
  assert.equal(gate.waiting, 1);
  gate.open();
  assert.equal(await exited, 0);
  const done = messages.find((m) => m.kind === "done")!;
  assert.equal(done.result, 6);
  assert.equal(done.waited, true);
  assert.equal(done.state, "active");
  assert.ok((done.ms as number) >= 40, `blocked for ${String(done.ms)} ms`);
  assert.equal(gate.waiting, 0);
});

test("a SyncGate wait times out: the function goes on", async () => {
  const gate = new SyncGate();
  const { messages, exited } = run("worker-sync-pause.mjs", { gate: gate.buffer, timeout: 30, pauseAt: 3 });
  assert.equal(await exited, 0);
  const done = messages.find((m) => m.kind === "done")!;
  assert.equal(done.result, 6);
  assert.equal(done.waited, false);
  assert.equal(await gate.whenWaiting(1, 10), false);
});

test("SyncGate refuses to block the main thread; a watcher that tries fails, the function does not", () => {
  const gate = new SyncGate();
  assert.throws(
    () => gate.wait(10),
    (err) => err instanceof SyncPauseError && /main thread/.test(err.message),
  );
  const w = watch("src/basic.ts:add", { onEntry: () => void gate.wait(10) });
  assert.equal(basic.add(1, 2), 3);
  assert.equal(w.state, "failed");
  assert.ok(w.error instanceof SyncPauseError);
  assert.throws(() => new SyncGate(new SharedArrayBuffer(2)), SyncPauseError);
  gate.open();
  assert.equal(gate.isOpen, true);
  gate.close();
  assert.equal(gate.isOpen, false);
});

test("a slot held by another ABI version is kept; every watch fails with a clear error", async () => {
  const { messages, exited } = run("worker-abi-mismatch.mjs");
  assert.equal(await exited, 0);
  const [m] = messages as [Message];
  assert.equal(m.kept, true);
  assert.equal(m.state, "failed");
  assert.equal(m.isAbiMismatch, true);
  assert.match(m.message as string, new RegExp(`site ABI 99; this copy speaks ABI ${ABI_VERSION}`));
  assert.equal(m.functions, 0);
  assert.deepEqual(m.registered, ["fxbasic1"], "modules register with the owner of the slot");
  assert.equal(m.result, 3);
});
