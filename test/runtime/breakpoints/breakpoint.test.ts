/**
 * Breakpoints on async functions of the test's own thread: events, every condition kind, kinds
 * (block, error, fire, delay, return), timeouts on both sides, dispose, release semantics, stacks,
 * recursion, two breakpoints at once, targets given as (class, "method").
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import {
  Breakpoint,
  BreakpointAbortedError,
  BreakpointConditionNotMetError,
  BreakpointErrors,
  BreakpointMisuseError,
  BreakpointTimeoutError,
  BreakpointWaitTimeoutError,
  type Hit,
} from "../../../runtime/breakpoints/index.js";
import { loadInstrumented } from "../../helpers/instrumented.js";
import { loadFixture } from "./fixture.js";

const mod = await loadFixture();
const m = mod.exports;
const T = (path: string) => mod.qualified(path);
after(() => rmSync(mod.root, { recursive: true, force: true }));

test("block: the call parks before its body until release(); dispose is clean", async () => {
  const archive = new m.S3Archive();
  {
    await using bp = Breakpoint.block(T("S3Archive.unarchive"));
    const task = bp.start(() => archive.unarchive("k1"));
    const hit = await bp.wait();
    assert.equal(hit.event, "call");
    assert.deepEqual(hit.args, ["k1"]);
    assert.equal(hit.this, archive);
    assert.deepEqual(hit.locals, { key: "k1" });
    assert.equal(hit.call, 0);
    assert.equal(hit.parked, true);
    assert.deepEqual(bp.parked, [hit]);
    assert.equal(bp.stackframe, hit);
    await tick();
    assert.deepEqual(archive.log, [], "the body has not started while parked");
    assert.equal(bp.hitCount, 1);
    bp.release();
    assert.equal(hit.parked, false);
    assert.equal(bp.hitCount, 0, "release() resets the hit count");
    assert.equal(await task, "restored k1");
    assert.deepEqual(archive.log, ["start k1", "end k1"]);
  }
  assert.deepEqual(mod.sitesOn(), [], "dispose disarmed the sites");
});

test('events: "return" parks after the body with the result visible; "error" sees the exception', async () => {
  const archive = new m.S3Archive();
  await using bp = Breakpoint.block(T("S3Archive.unarchive"), { event: "return" });
  let settled = false;
  const task = bp.start(() => archive.unarchive("k2"));
  void task.then(() => (settled = true));
  const hit = await bp.wait();
  assert.equal(hit.event, "return");
  assert.equal(hit.result, "restored k2");
  assert.deepEqual(archive.log, ["start k2", "end k2"]);
  await tick();
  assert.equal(settled, false, "the caller has not got the result while parked");
  bp.release();
  assert.equal(await task, "restored k2");

  const errors: Hit[] = [];
  await using onError = new Breakpoint(T("S3Archive.broken"), { event: "error", fire: (h) => void errors.push(h) });
  await assert.rejects(archive.broken(3), /broken 3/);
  assert.equal(errors.length, 1);
  assert.match(String((errors[0]!.error as Error).message), /broken 3/);
  assert.deepEqual(errors[0]!.args, [3]);
  assert.equal(onError.hitCount, 1);
});

test('"return" of an async function that returns a promise shows the settled value', async () => {
  await using bp = Breakpoint.block(T("passThrough"), { event: "return" });
  const task = bp.start(() => m.passThrough(Promise.resolve(41)));
  const hit = await bp.wait();
  assert.equal(hit.result, 41);
  bp.release();
  assert.equal(await task, 41);
});

test("conditions: the n-th call (from 0), a list of calls, a predicate (rejected calls do not count)", async () => {
  {
    await using bp = Breakpoint.block(T("step"), { condition: 2 });
    const task = bp.start(() => m.loop(5));
    const hit = await bp.wait();
    assert.deepEqual([hit.call, hit.args], [2, [2]]);
    assert.equal(bp.callCount, 3);
    bp.release();
    assert.deepEqual(await task, [0, 2, 4, 6, 8]);
    assert.equal(bp.callCount, 5);
  }
  {
    await using bp = Breakpoint.block(T("step"), { condition: [1, 3] });
    const task = bp.start(() => m.loop(5));
    assert.deepEqual((await bp.wait()).args, [1]);
    bp.release();
    assert.deepEqual((await bp.wait()).args, [3]);
    bp.release();
    await task;
  }
  {
    const seen: unknown[] = [];
    await using bp = Breakpoint.block(T("step"), {
      condition(this: unknown, i) {
        seen.push(i);
        return i === 3;
      },
    });
    const task = bp.start(() => m.loop(5));
    const hit = await bp.wait();
    assert.deepEqual(hit.args, [3]);
    assert.equal(bp.hitCount, 1, "calls the predicate rejected are not hits");
    assert.equal(bp.callCount, 4);
    bp.release();
    await task;
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  }
  {
    // The predicate gets the call's `this`.
    const a = new m.S3Archive();
    const b = new m.S3Archive();
    await using bp = Breakpoint.block(T("S3Archive.unarchive"), {
      condition(this: unknown) {
        return this === b;
      },
    });
    await a.unarchive("not me");
    const task = bp.start(() => b.unarchive("me"));
    assert.deepEqual((await bp.wait()).args, ["me"]);
    bp.release();
    await task;
  }
});

test("a condition never met fails dispose, naming the target and the iterations", async () => {
  const bp = Breakpoint.block(T("step"), { condition: 7 });
  await m.loop(3);
  await assert.rejects(
    bp.close(),
    (e) =>
      e instanceof BreakpointConditionNotMetError &&
      e.message.startsWith(`Breakpoint condition on ${T("step")} was not met`) &&
      /call #7/.test(e.message) &&
      /only 3 calls \(iterations\)/.test(e.message),
  );
  const never = new Breakpoint(T("inner"));
  await assert.rejects(never.close(), /was not met: it was never called/);
});

test("dispose fails with the unmet condition also when the test body threw", async () => {
  const run = async () => {
    await using _bp = Breakpoint.block(T("inner"));
    throw new Error("the test body failed");
  };
  await assert.rejects(run(), (e: unknown) => {
    const s = e as { error: unknown; suppressed: unknown };
    return (
      s.error instanceof BreakpointConditionNotMetError && (s.suppressed as Error).message === "the test body failed"
    );
  });
});

test("no wait: dispose releases a call nobody waited for and awaits its task", async () => {
  const archive = new m.S3Archive();
  let task: Promise<string> | undefined;
  {
    await using bp = Breakpoint.block(T("S3Archive.unarchive"));
    task = bp.start(() => archive.unarchive("k3"));
  }
  assert.deepEqual(archive.log, ["start k3", "end k3"], "the task finished before dispose returned");
  assert.equal(await task, "restored k3");
});

test("fire functions run at every hit and nothing waits", async () => {
  const fired: number[] = [];
  await using bp = new Breakpoint(T("step"), { fire: (hit) => void fired.push(hit.args[0] as number) });
  assert.deepEqual(await m.loop(4), [0, 2, 4, 6]);
  assert.deepEqual(fired, [0, 1, 2, 3]);
  assert.equal((await bp.wait({ hits: 4 })).args[0], 3, "wait() counts hits that already happened");
});

test("blocking timeout: a parked call nobody releases throws BreakpointTimeoutError at its site; dispose reports it", async () => {
  const archive = new m.S3Archive();
  const bp = Breakpoint.block(T("S3Archive.unarchive"), { timeoutMs: 60 });
  const task = bp.start(() => archive.unarchive("k4"));
  await bp.wait();
  const started = performance.now();
  await assert.rejects(
    task,
    (e) =>
      e instanceof BreakpointTimeoutError &&
      e.message.startsWith(`Breakpoint on ${T("S3Archive.unarchive")} timed out after 60 ms`),
  );
  assert.ok(performance.now() - started < 2_000);
  assert.deepEqual(archive.log, [], "the body never ran");
  assert.equal(bp.parked.length, 0);
  await assert.rejects(bp.close(), BreakpointTimeoutError);
});

test("the test's wait times out: the error names target, counts and tasks; parked calls are released", async () => {
  const archive = new m.S3Archive();
  const bp = Breakpoint.block(T("S3Archive.unarchive"), { timeoutMs: 5_000 });
  const task = bp.start(() => archive.unarchive("k5"));
  await bp.wait();
  await assert.rejects(bp.wait({ hits: 2, timeoutMs: 50 }), (e) => {
    assert.ok(e instanceof BreakpointWaitTimeoutError);
    assert.match(
      e.message,
      new RegExp(`Breakpoint on ${T("S3Archive.unarchive").replace(/\./g, "\\.")}: waited 50 ms for 2 hits`),
    );
    assert.match(e.message, /1 hit\(s\) since the last release \(1 in all\), 1 call\(s\) reached "call", 1 parked/);
    assert.match(e.message, /task \d+ \(anonymous function\) is parked at .*S3Archive\.unarchive \("call", call #0\)/);
    assert.match(e.message, /Every parked call was released/);
    return true;
  });
  assert.equal(await task, "restored k5", "the parked call was released");
  await bp.close();
});

test("error breakpoints: the call throws the error; dispose does not rethrow an injected error", async () => {
  const archive = new m.S3Archive();
  const boom = new Error("S3 is down");
  {
    await using bp = Breakpoint.error(boom, T("S3Archive.unarchive"));
    bp.start(() => archive.unarchive("k6"));
    const hit = await bp.wait();
    assert.deepEqual(hit.args, ["k6"]);
    await bp.join().then((r) => assert.deepEqual(r, [{ status: "rejected", reason: boom }]));
  }
  assert.deepEqual(archive.log, []);
  {
    // At "return" of a synchronous function (the call ran, then throws), and at "error" (replaced).
    await using _r = Breakpoint.error(boom, T("syncAdd"), { event: "return" });
    assert.throws(
      () => m.syncAdd(1, 2),
      (e) => e === boom,
    );
    await using _e = Breakpoint.error(boom, T("syncFail"), { event: "error" });
    assert.throws(
      () => m.syncFail(1),
      (x) => x === boom,
    );
  }
});

test("delay() holds matching calls for a while; return() replaces the result", async () => {
  {
    await using _bp = Breakpoint.delay(80, T("inner"));
    const t0 = performance.now();
    assert.equal(await m.outer(1), 20);
    assert.ok(performance.now() - t0 >= 70);
  }
  {
    await using _bp = Breakpoint.return(99, T("inner"));
    assert.equal(await m.outer(1), 99);
    await using _sync = Breakpoint.return(-1, T("syncAdd"), { condition: 1 });
    assert.deepEqual([m.syncAdd(1, 1), m.syncAdd(2, 2), m.syncAdd(3, 3)], [2, -1, 6]);
  }
  assert.throws(() => Breakpoint.return(1, T("inner"), { event: "call" }), BreakpointMisuseError);
});

test("the stack of a nested call shows its caller", async () => {
  await using bp = Breakpoint.block(T("inner"));
  const task = bp.start(() => m.outer(4));
  const hit = await bp.wait();
  assert.deepEqual(hit.args, [5]);
  assert.match(hit.stack[0]!, /\binner /, hit.stack.join("\n"));
  assert.match(hit.stack[1]!, /\bouter /);
  assert.ok(!hit.stack.some((l) => /\/dist\/runtime\//.test(l)), hit.stack.join("\n"));
  bp.release();
  assert.equal(await task, 50);
});

test("a recursive function: park the innermost call, every frame its own", async () => {
  await using bp = Breakpoint.block(T("fact"), { condition: (n) => n === 1 });
  const task = bp.start(() => m.fact(4));
  const hit = await bp.wait();
  assert.deepEqual(hit.args, [1]);
  assert.equal(hit.call, 3);
  assert.equal(hit.stack.filter((l) => /\bfact /.test(l)).length >= 1, true);
  bp.release();
  assert.equal(await task, 24);
});

test("two breakpoints in one test: order two concurrent calls deterministically", async () => {
  const archive = new m.S3Archive();
  await using first = Breakpoint.block(T("S3Archive.unarchive"), { condition: (k) => k === "a" });
  await using second = Breakpoint.block(T("S3Archive.unarchive"), { event: "return", condition: (k) => k === "b" });
  const a = first.start(() => archive.unarchive("a"));
  const b = second.start(() => archive.unarchive("b"));
  await first.wait();
  await second.wait();
  assert.deepEqual(archive.log, ["start b", "end b"], "b ran to its return while a was parked at its call");
  first.release();
  assert.equal(await a, "restored a");
  second.release();
  assert.equal(await b, "restored b");
  assert.deepEqual(archive.log, ["start b", "end b", "start a", "end a"]);
});

test("release(hit) lets one call go on while the others stay parked", async () => {
  await using bp = Breakpoint.block(T("inner"));
  const x = bp.start(() => m.outer(0));
  const y = bp.start(() => m.outer(1));
  const second = await bp.wait({ hits: 2 });
  const [h1, h2] = bp.parked;
  assert.equal(h2, second);
  bp.release(h2);
  assert.equal(await y, 20);
  assert.deepEqual(bp.parked, [h1]);
  assert.equal(bp.hitCount, 1);
  assert.equal(await bp.wait(), h1, "level-triggered: the remaining hit still counts");
  bp.release();
  assert.equal(await x, 10);
});

test("waitUntil(predicate) and join()", async () => {
  await using bp = new Breakpoint(T("step"));
  const task = bp.start(() => m.loop(6));
  await bp.waitUntil((b) => b.callCount >= 4);
  assert.ok(bp.callCount >= 4);
  const results = await bp.join();
  assert.deepEqual(results, [{ status: "fulfilled", value: [0, 2, 4, 6, 8, 10] }]);
  assert.deepEqual(await task, [0, 2, 4, 6, 8, 10]);
});

test("a synchronous target hit on the test's thread is not parked: the call goes on and wait() says why", async () => {
  const bp = Breakpoint.block(T("syncAdd"));
  assert.equal(m.syncAdd(2, 3), 5);
  await assert.rejects(
    bp.wait(),
    (e) =>
      e instanceof BreakpointMisuseError &&
      /synchronous function on the test's own thread/.test(e.message) &&
      /startWorker/.test(e.message),
  );
  await assert.rejects(bp.close(), BreakpointMisuseError);
});

test("dispose rethrows the error of a task nobody awaited, not of one the test awaited", async () => {
  const archive = new m.S3Archive();
  const bp = new Breakpoint(T("S3Archive.broken"), { event: "error" });
  bp.start(() => archive.broken(1));
  const awaited = bp.start(() => archive.broken(2));
  await assert.rejects(awaited, /broken 2/);
  await assert.rejects(bp.close(), (e) => e instanceof Error && e.message === "broken 1");
  const both = new Breakpoint(T("S3Archive.broken"), { event: "error" });
  both.start(() => archive.broken(3));
  both.start(() => archive.broken(4));
  await assert.rejects(both.close(), (e) => e instanceof BreakpointErrors && e.errors.length === 2);
});

test("an AbortSignal (a runner's test timeout) releases everything and fails the wait", async () => {
  const ac = new AbortController();
  const archive = new m.S3Archive();
  const bp = Breakpoint.block(T("S3Archive.unarchive"), { signal: ac.signal });
  const task = bp.start(() => archive.unarchive("k7"));
  await bp.wait();
  const waiting = bp.wait({ hits: 2 });
  ac.abort(new Error("test timed out"));
  await assert.rejects(waiting, (e) => e instanceof BreakpointAbortedError && /test timed out/.test(e.message));
  assert.equal(await task, "restored k7");
  assert.equal(await archive.unarchive("k8"), "restored k8", "disarmed: later calls do not park");
  await bp.close();
});

test("deadlines use timers captured at import: fake timers cannot freeze them", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  try {
    const bp = Breakpoint.block(T("inner"));
    const t0 = performance.now();
    await assert.rejects(bp.wait({ timeoutMs: 50 }), BreakpointWaitTimeoutError);
    assert.ok(performance.now() - t0 < 5_000);
    await assert.rejects(bp.close(), BreakpointConditionNotMetError);
  } finally {
    t.mock.timers.reset();
  }
});

test('targets as (class, "method"): instance and static methods, getters, plain objects', async () => {
  const archive = new m.S3Archive();
  {
    await using bp = Breakpoint.block(m.S3Archive, "unarchive");
    assert.equal(bp.target, T("S3Archive.unarchive"));
    const task = bp.start(() => archive.unarchive("k9"));
    await bp.wait();
    bp.release();
    await task;
  }
  {
    await using bp = new Breakpoint(archive, "unarchive");
    assert.equal(bp.target, T("S3Archive.unarchive"));
    await archive.unarchive("x");
  }
  {
    await using bp = new Breakpoint(m.S3Archive, "open");
    assert.equal(bp.target, T("S3Archive.open"));
    await m.S3Archive.open("x");
  }
  {
    await using bp = new Breakpoint(m.S3Archive, "size");
    assert.equal(bp.target, T("S3Archive.size@get"));
    void archive.size;
  }
  {
    await using bp = new Breakpoint(m.api, "fetch");
    assert.equal(bp.target, T("api.fetch"));
    await m.api.fetch(1);
  }
  assert.throws(() => new Breakpoint(m.S3Archive, "nothing"), BreakpointMisuseError);
});

test("bad options are refused at once", () => {
  assert.throws(() => Breakpoint.block(T("inner"), { timeoutMs: Infinity }), /never infinite/);
  assert.throws(() => Breakpoint.block(T("inner"), { condition: -1 }), BreakpointMisuseError);
  assert.throws(() => Breakpoint.block(T("inner"), { event: "finish" as never }), BreakpointMisuseError);
  assert.throws(() => Breakpoint.block("no colon"), /qualified name/);
  assert.throws(() => Breakpoint.block(T("nope")), /No function/);
});

test("the test's own callbacks that throw never reach the call: dispose reports them", async () => {
  const hostile = new Proxy(
    {},
    {
      get: () => {
        throw new Error("getter trap");
      },
      ownKeys: () => {
        throw new Error("keys trap");
      },
    },
  );
  const bp = new Breakpoint(T("step"), {
    condition: () => {
      throw new Error("predicate failed");
    },
  });
  assert.deepEqual(await m.loop(2), [0, 2]);
  const fires = new Breakpoint(T("inner"), {
    fire: () => {
      throw new Error("fire failed");
    },
  });
  const rejects = new Breakpoint(T("outer"), { fire: async () => Promise.reject(new Error("async fire failed")) });
  assert.equal(await m.outer(hostile as never).catch(() => "threw in user code only"), "threw in user code only");
  assert.equal(await m.outer(1), 20);
  await assert.rejects(
    bp.close(),
    (e) => e instanceof BreakpointErrors && /predicate failed/.test(e.message) && /was not met/.test(e.message),
  );
  await assert.rejects(fires.close(), /the fire function threw: Error: fire failed/);
  await assert.rejects(rejects.close(), /async fire failed/);
});

test("a breakpoint on a module that loads later arms when it loads; a missing function there fails the wait", async () => {
  const bp = Breakpoint.block("src/later.ts:slow");
  const missing = Breakpoint.block("src/later.ts:absent");
  const later = await loadInstrumented<{ slow(n: number): Promise<number> }>(
    "export async function slow(n: number) {\n  return n + 1;\n}\n",
    "src/later.ts",
  );
  try {
    const task = bp.start(() => later.exports.slow(1));
    assert.deepEqual((await bp.wait()).args, [1]);
    bp.release();
    assert.equal(await task, 2);
    await bp.close();
    await assert.rejects(missing.wait(), /No function "src\/later\.ts:absent"/);
    await assert.rejects(missing.close(), /No function/);
  } finally {
    rmSync(later.root, { recursive: true, force: true });
  }
});
