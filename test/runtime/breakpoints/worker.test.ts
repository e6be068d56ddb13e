/**
 * Worker-thread targets: synchronous code parks by blocking its worker thread (`Atomics.wait`);
 * hits come back structured-cloned; every kind, condition and timeout works across threads.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { Breakpoint, BreakpointTimeoutError } from "../../../runtime/breakpoints/index.js";
import { loadInstrumented } from "../../helpers/instrumented.js";

const SOURCE = `
export function syncStep(i: number) {
  const square = i * i;
  return square;
}
export function syncLoop(n: number) {
  let total = 0;
  for (let i = 0; i < n; i++) total += syncStep(i);
  return total;
}
export function syncThrow(x: number) {
  throw new Error("worker sync " + x);
}
export class Counter {
  count = 0;
  bump(by: number) {
    this.count += by;
    return this.count;
  }
}
export function useCounter(times: number) {
  const c = new Counter();
  for (let i = 0; i < times; i++) c.bump(i + 1);
  return c.count;
}
export async function asyncTwice(x: number) {
  const a = syncStep(x);
  await Promise.resolve();
  return a + syncStep(x + 1);
}
`;
const mod = await loadInstrumented<Record<string, unknown>>(SOURCE, "src/work.ts");
const url = pathToFileURL(mod.outputFile);
const T = (path: string) => mod.qualified(path);
after(() => rmSync(mod.root, { recursive: true, force: true }));

test("a synchronous function in a worker parks until release; the hit is a clone with its thread", async () => {
  await using bp = Breakpoint.block(T("syncStep"), { condition: 2 });
  const task = bp.startWorker(url, "syncLoop", 4);
  let done = false;
  void task.then(() => (done = true));
  const hit = await bp.wait();
  assert.deepEqual(hit.args, [2]);
  assert.deepEqual(hit.locals, { i: 2 });
  assert.notEqual(hit.thread, 0);
  assert.equal(hit.call, 2);
  assert.ok(
    hit.stack.some((l) => /\bsyncLoop /.test(l)),
    hit.stack.join("\n"),
  );
  await sleep(30);
  assert.equal(done, false, "the worker is blocked while parked");
  bp.release();
  assert.equal(await task, 0 + 1 + 4 + 9);
});

test('worker: a predicate condition over cloned arguments and `this`; "return" with locals', async () => {
  await using bp = Breakpoint.block(T("Counter.bump"), {
    event: "return",
    condition(this: unknown, by) {
      return by === 3 && (this as { count: number }).count === 6;
    },
  });
  const task = bp.startWorker(url, "useCounter", 4);
  const hit = await bp.wait();
  assert.equal(hit.result, 6);
  assert.deepEqual(hit.this, { count: 6 });
  assert.equal(bp.callCount, 3);
  bp.release();
  assert.equal(await task, 10);
});

test("worker: error(), return() and delay() kinds", async () => {
  {
    await using _bp = Breakpoint.error(new Error("disk full"), T("syncStep"), { condition: 1 });
    await assert.rejects(_bp.startWorker(url, "syncLoop", 3), /disk full/);
  }
  {
    await using _bp = Breakpoint.return(100, T("syncStep"));
    assert.equal(await _bp.startWorker(url, "syncLoop", 3), 300);
  }
  {
    await using _bp = Breakpoint.delay(60, T("syncStep"), { condition: 0 });
    const t0 = performance.now();
    assert.equal(await _bp.startWorker(url, "syncLoop", 2), 1);
    assert.ok(performance.now() - t0 >= 50);
  }
});

test('worker: "error" blocks the throwing call; async functions in a worker park too', async () => {
  {
    await using bp = Breakpoint.block(T("syncThrow"), { event: "error" });
    const task = bp.startWorker(url, "syncThrow", 7);
    const hit = await bp.wait();
    assert.match((hit.error as Error).message, /worker sync 7/);
    bp.release();
    await assert.rejects(task, /worker sync 7/);
  }
  {
    await using bp = Breakpoint.block(T("asyncTwice"), { event: "return" });
    const task = bp.startWorker(url, "asyncTwice", 2);
    assert.equal((await bp.wait()).result, 13);
    bp.release();
    assert.equal(await task, 13);
  }
});

test("worker: a parked call's own timeout throws BreakpointTimeoutError there; dispose reports it", async () => {
  const bp = Breakpoint.block(T("syncStep"), { timeoutMs: 80 });
  const task = bp.startWorker(url, "syncLoop", 2);
  await bp.wait({ timeoutMs: 10_000 });
  await assert.rejects(task, (e) =>
    (e as Error).message.startsWith(`Breakpoint on ${T("syncStep")} timed out after 80 ms`),
  );
  await assert.rejects(bp.close(), BreakpointTimeoutError);
});

test("worker: dispose releases parked calls and awaits the worker; an unknown export is the task's error", async () => {
  const bp = Breakpoint.block(T("syncStep"));
  const task = bp.startWorker(url, "syncLoop", 3);
  await bp.wait();
  await bp.close();
  assert.equal(await task, 5);
  const missing = new Breakpoint(T("syncStep"));
  await assert.rejects(missing.startWorker(url, "nothing"), /no exported function "nothing"/);
  await assert.rejects(missing.close(), /was not met/);
});
