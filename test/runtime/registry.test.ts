/**
 * The registry driving a hand-written instrumented module (test/fixtures/registry/basic.mjs, in the
 * exact shape of the transformer's output): flags, dispatch, decisions, errors, frames.
 */
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  InvalidTargetError,
  LineNotFoundError,
  PauseNotAwaitableError,
  TargetNotFoundError,
  WatcherError,
  listFunctions,
  resetForTests,
  watch,
  type CallFrame,
} from "../../runtime/registry/index.js";
import { fixture, kinds, onSites, recorder, type Event } from "./registry-helpers.js";

interface Basic {
  add(a: number, b: number): number;
  Counter: new (start: number) => { count: number; bump(n?: number): number };
  fact(n: number): number;
  fail(msg: string): never;
  note(list: unknown[], item: unknown): void;
  sum(...nums: number[]): number;
  slowDouble(x: number): Promise<number>;
}

const basic = (await import(fixture("basic.mjs").href)) as Basic;
const H = "fxbasic1";
const N = 40;

afterEach(() => resetForTests());

describe("registration", () => {
  test("defines every flag as an own, non-enumerable, writable, configurable false property", () => {
    for (let id = 0; id < N; id++) {
      const d = Object.getOwnPropertyDescriptor(globalThis, `$dg_${H}_${id}`);
      assert.deepEqual(d, { value: false, writable: true, enumerable: false, configurable: true });
    }
    assert.equal(
      Object.keys(globalThis).some((k) => k.startsWith("$dg_")),
      false,
    );
  });

  test("listFunctions describes functions and their sites", () => {
    const add = listFunctions().find((f) => f.qualifiedName === "src/basic.ts:add");
    assert.ok(add);
    assert.equal(add.module, "src/basic.ts");
    assert.equal(add.path, "add");
    assert.deepEqual([add.line, add.column, add.flags], [1, 7, 0]);
    assert.deepEqual(add.params, ["a", "b"]);
    assert.deepEqual(
      add.sites.map((s) => [s.id, s.kind, s.line, s.locals.join(",")]),
      [
        [0, "entry", 1, ""],
        [1, "line", 2, "a,b"],
        [2, "line", 3, "a,b,s"],
        [3, "return", 3, "a,b,s"],
        [4, "throw", 1, "a,b"],
      ],
    );
    const names = listFunctions()
      .filter((f) => f.module === "src/basic.ts")
      .map((f) => f.path);
    assert.deepEqual(names, [
      "add",
      "Counter.constructor",
      "Counter.bump",
      "fact",
      "fail",
      "note",
      "sum",
      "slowDouble",
    ]);
  });
});

describe("flags", () => {
  test("a watch switches on entry and exits, close switches them off at once", () => {
    const w = watch("src/basic.ts:add", {});
    assert.equal(w.state, "active");
    assert.equal(w.fn?.qualifiedName, "src/basic.ts:add");
    assert.deepEqual(onSites(H, N), [0, 3, 4]);
    w.close();
    assert.equal(w.state, "closed");
    assert.deepEqual(onSites(H, N), []);
    for (const id of [0, 3, 4]) {
      // Switched off by redefinition (see flags.ts): the same kind of property as before.
      const d = Object.getOwnPropertyDescriptor(globalThis, `$dg_${H}_${id}`);
      assert.deepEqual(d, { value: false, writable: true, enumerable: false, configurable: true });
    }
    w.close(); // idempotent
    assert.equal(w.state, "closed");
    assert.equal(w.fn?.path, "add", "fn stays readable after close");
  });

  test("exits: false leaves only the entry site on; lines switch on line sites", () => {
    const w = watch("src/basic.ts:add", {}, { exits: false, lines: [3] });
    assert.deepEqual(onSites(H, N), [0, 2]);
    w.close();
    const all = watch("src/basic.ts:add", {}, { lines: "all" });
    assert.deepEqual(onSites(H, N), [0, 1, 2, 3, 4]);
    all.close();
    assert.deepEqual(onSites(H, N), []);
  });

  test("several watches on one function: flags are the union, and go off when nothing needs them", () => {
    const a = watch("src/basic.ts:add", recorder(), { exits: false });
    const b = watch("src/basic.ts:add", recorder(), { lines: [2] });
    const c = watch("src/basic.ts:add", recorder(), { lines: [3], exits: false });
    assert.deepEqual(onSites(H, N), [0, 1, 2, 3, 4]);
    b.close();
    assert.deepEqual(onSites(H, N), [0, 2]);
    c.close();
    assert.deepEqual(onSites(H, N), [0]);
    a.close();
    assert.deepEqual(onSites(H, N), []);
  });

  test("update() changes lines and exits; an unknown line is refused and nothing changes", () => {
    const w = watch("src/basic.ts:add", {});
    w.update({ lines: [2], exits: false });
    assert.deepEqual(onSites(H, N), [0, 1]);
    assert.throws(
      () => w.update({ lines: [2, 9] }),
      (err: unknown) => {
        assert.ok(err instanceof LineNotFoundError);
        assert.deepEqual(err.lines, [9]);
        return true;
      },
    );
    assert.deepEqual(onSites(H, N), [0, 1]);
    w.update({});
    assert.deepEqual(onSites(H, N), [0, 3, 4]);
    w.close();
    w.update({ lines: "all" }); // no-op once closed
    assert.deepEqual(onSites(H, N), []);
  });
});

describe("targets", () => {
  test("a missing function fails with the nearest names as a hint", () => {
    const w = watch("src/basic.ts:ad", {});
    assert.equal(w.state, "failed");
    assert.ok(w.error instanceof TargetNotFoundError);
    assert.equal(w.error.suggestions[0], "src/basic.ts:add");
    assert.equal(w.error.suggestions.length, 3);
    assert.match(w.error.message, /"src\/basic\.ts:ad".*Did you mean "src\/basic\.ts:add"/);
    const cb = watch("src/basic.ts:Counter.bum", {});
    assert.ok(cb.error instanceof TargetNotFoundError);
    assert.equal(cb.error.suggestions[0], "src/basic.ts:Counter.bump");
    assert.deepEqual(onSites(H, N), []);
  });

  test("a line without a site fails and names the lines that have sites", () => {
    const w = watch("src/basic.ts:add", {}, { lines: [2, 7] });
    assert.equal(w.state, "failed");
    assert.ok(w.error instanceof LineNotFoundError);
    assert.match(w.error.message, /no line site at line 7\. Lines with sites: 2, 3\./);
    assert.deepEqual(onSites(H, N), []);
  });

  test("a target without module:path form, or bad options, fails without throwing", () => {
    const w = watch("add", {});
    assert.equal(w.state, "failed");
    assert.ok(w.error instanceof InvalidTargetError);
    const o = watch("src/basic.ts:add", {}, { lines: [0] });
    assert.equal(o.state, "failed");
    assert.equal(o.error?.name, "InvalidOptionsError");
    assert.deepEqual(onSites(H, N), []);
  });

  test("a target whose module is not loaded is pending, and attaches when the module registers", async () => {
    const rec = recorder();
    const w = watch("src/later.ts:later", rec, { lines: [2] });
    const dropped = watch("src/later.ts:later", recorder());
    const missing = watch("src/later.ts:nope", recorder());
    // State-change notices (onStateChange): called once the module registered, with the new state.
    const notices: unknown[][] = [];
    const notice = (tag: string) => ({
      onStateChange(state: string, error: Error | undefined) {
        notices.push([tag, state, error?.name]);
      },
    });
    const n1 = watch("src/later.ts:later", notice("active"), { lines: [2] });
    const n2 = watch("src/later.ts:later", notice("line"), { lines: [99] });
    const n3 = watch("src/later.ts:nope", notice("target"));
    const n4 = watch("src/later.ts:later", {
      onStateChange() {
        throw new Error("dropped");
      },
    });
    assert.equal(w.state, "pending");
    assert.equal(w.fn?.path, undefined);
    dropped.close();
    assert.equal(dropped.state, "closed");
    const later = (await import(fixture("later.mjs").href)) as { later(v: number): number };
    assert.equal(w.state, "active");
    assert.equal(w.fn?.qualifiedName, "src/later.ts:later");
    assert.equal(dropped.state, "closed");
    assert.equal(missing.state, "failed");
    assert.ok(missing.error instanceof TargetNotFoundError);
    assert.deepEqual(missing.error.suggestions, ["src/later.ts:later"]);
    assert.deepEqual(notices, [
      ["active", "active", undefined],
      ["line", "failed", "LineNotFoundError"],
      ["target", "failed", "TargetNotFoundError"],
    ]);
    assert.equal(n1.state, "active");
    assert.equal(n2.state, "failed");
    assert.equal(n3.state, "failed");
    assert.equal(n4.state, "active");
    n1.close();
    n4.close();
    n4.close();
    assert.equal(later.later(1), 2);
    assert.deepEqual(kinds(rec.events), ["entry", "line:2", "return"]);
    w.close();
    assert.deepEqual(onSites("fxlater1", 4), []);
  });

  test("a module path registered again with new content: an active watch follows it", async () => {
    const v1 = (await import(fixture("later.mjs").href)) as { later(v: number): number };
    const values: unknown[] = [];
    const w = watch("src/later.ts:later", { onReturn: (_f, _s, v) => void values.push(v) });
    const v2 = (await import(fixture("later-v2.mjs").href)) as { later(v: number): number };
    assert.equal(v1.later(1), 2);
    assert.equal(v2.later(1), 3);
    assert.deepEqual(values, [2, 3]);
    assert.equal(w.fn?.qualifiedName, "src/later.ts:later");
    w.close();
    assert.deepEqual([...onSites("fxlater1", 4), ...onSites("fxlater2", 3)], []);
  });
});

describe("dispatch", () => {
  test("entry, line and return events carry this, arguments, locals and one frame per call", () => {
    const rec = recorder();
    const w = watch("src/basic.ts:Counter.bump", rec, { lines: "all" });
    const counter = new basic.Counter(5);
    assert.equal(counter.bump(2), 7);
    assert.deepEqual(kinds(rec.events), ["entry", "line:10", "line:11", "return"]);
    const [entry, l10, l11, ret] = rec.events as [Event, Event, Event, Event];
    assert.ok(entry.kind === "entry" && l10.kind === "line" && l11.kind === "line" && ret.kind === "return");
    assert.equal(entry.self, counter);
    assert.deepEqual(entry.args, [2]);
    assert.equal(entry.frame.fn.qualifiedName, "src/basic.ts:Counter.bump");
    assert.equal(l10.frame, entry.frame);
    assert.equal(ret.frame, entry.frame);
    assert.deepEqual(l10.site.locals, ["n"]);
    assert.deepEqual(l11.locals, [2]);
    assert.equal(ret.value, 7);
    assert.equal(ret.site.kind, "return");
    assert.equal(ret.site.line, 11);
    assert.ok(typeof entry.frame.start === "number" && entry.frame.start <= performance.now());
    const date = entry.frame.startDate;
    assert.ok(Math.abs(date.getTime() - Date.now()) < 5_000);
    assert.equal(entry.frame.startDate, date, "startDate is created once");
    counter.bump(); // default parameter: the entry sees its value
    assert.deepEqual((rec.events[4] as Extract<Event, { kind: "entry" }>).args, [1]);
    w.close();
  });

  test("falling off the end fires an end site with undefined", () => {
    const rec = recorder();
    const w = watch("src/basic.ts:note", rec);
    const list: unknown[] = [];
    assert.equal(basic.note(list, "a"), undefined);
    assert.deepEqual(kinds(rec.events), ["entry", "end"]);
    const end = rec.events[1] as Extract<Event, { kind: "return" }>;
    assert.equal(end.value, undefined);
    assert.deepEqual(end.locals, [list, "a"]);
    w.close();
  });

  test("a constructor's entry sees the new instance and its end fires", () => {
    const rec = recorder();
    const w = watch("src/basic.ts:Counter.constructor", rec);
    const c = new basic.Counter(3);
    assert.equal(c.count, 3);
    assert.deepEqual(kinds(rec.events), ["entry", "end"]);
    assert.equal((rec.events[0] as Extract<Event, { kind: "entry" }>).self, c);
    w.close();
  });

  test("a throw site sees the error, which leaves the function unchanged", () => {
    const rec = recorder();
    const w = watch("src/basic.ts:fail", rec, { lines: [19] });
    let caught: unknown;
    try {
      basic.fail("boom");
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof Error && caught.message === "boom");
    assert.deepEqual(kinds(rec.events), ["entry", "line:19", "throw"]);
    const t = rec.events[2] as Extract<Event, { kind: "throw" }>;
    assert.equal(t.error, caught);
    assert.equal(t.frame, (rec.events[0] as Extract<Event, { kind: "entry" }>).frame);
    assert.deepEqual(t.locals, [], "the throw site passes no locals");
    w.close();
  });

  test("loop-variable locals at a line site inside a loop", () => {
    const rec = recorder();
    const w = watch("src/basic.ts:sum", rec, { lines: [27] });
    assert.equal(basic.sum(4, 5), 9);
    const lines = rec.events.filter((e): e is Extract<Event, { kind: "line" }> => e.kind === "line");
    assert.deepEqual(
      lines.map((e) => e.locals),
      [
        [[4, 5], 0, 4],
        [[4, 5], 4, 5],
      ],
    );
    w.close();
  });

  test("watchers run in attach order; each may replace the return value", () => {
    const order: string[] = [];
    const a = watch("src/basic.ts:add", {
      onEntry: () => void order.push("a.entry"),
      onReturn: (_f, _s, v) => (order.push(`a.return(${String(v)})`), { value: (v as number) * 10 }),
    });
    const b = watch("src/basic.ts:add", {
      onEntry: () => void order.push("b.entry"),
      onReturn: (_f, _s, v) => (order.push(`b.return(${String(v)})`), { value: (v as number) + 1 }),
    });
    assert.equal(basic.add(1, 2), 31);
    assert.deepEqual(order, ["a.entry", "b.entry", "a.return(3)", "b.return(30)"]);
    a.close();
    b.close();
    assert.equal(basic.add(1, 2), 3);
  });

  test("arguments can be replaced at entry, including a rest parameter", () => {
    const seen: unknown[] = [];
    const a = watch("src/basic.ts:add", {
      onEntry: (f) => (seen.push(f.args), { args: [10, 20] }),
    });
    assert.equal(basic.add(1, 2), 30);
    assert.deepEqual(seen, [[1, 2]]);
    a.close();
    const s = watch("src/basic.ts:sum", { onEntry: () => ({ args: [[100, 1]] }) });
    assert.equal(basic.sum(1, 2, 3), 101);
    s.close();
  });

  test("fault injection throws the requested error after every watcher ran, and the throw site pairs it", () => {
    const injected = new Error("injected");
    const rec = recorder();
    const f = watch("src/basic.ts:add", { onEntry: () => ({ throw: { error: injected } }) });
    const second = watch("src/basic.ts:add", { onEntry: () => ({ throw: { error: new Error("later") } }) });
    const r = watch("src/basic.ts:add", rec);
    assert.throws(
      () => basic.add(1, 2),
      (err) => err === injected,
    );
    assert.deepEqual(kinds(rec.events), ["entry", "throw"]);
    const entry = rec.events[0] as Extract<Event, { kind: "entry" }>;
    const thrown = rec.events[1] as Extract<Event, { kind: "throw" }>;
    assert.equal(thrown.error, injected);
    assert.equal(thrown.frame, entry.frame, "the throw site gets the frame of the entry that threw");
    second.close();
    f.close();
    // A fault at a line site.
    const lf = watch("src/basic.ts:add", { onLine: () => ({ throw: { error: "line fault" } }) }, { lines: [3] });
    assert.throws(
      () => basic.add(1, 2),
      (err) => err === "line fault",
    );
    lf.close();
    r.close();
    assert.equal(basic.add(1, 2), 3);
  });

  test("recursion: every exit pairs with its own frame", () => {
    const pairs: [unknown, unknown][] = [];
    const w = watch("src/basic.ts:fact", {
      onReturn: (frame, _site, value) => void pairs.push([frame?.args[0], value]),
    });
    assert.equal(basic.fact(4), 24);
    assert.deepEqual(pairs, [
      [1, 1],
      [2, 2],
      [3, 6],
      [4, 24],
    ]);
    w.close();
  });

  test("an async function: interleaved calls keep their own frames", async () => {
    const events: string[] = [];
    const w = watch(
      "src/basic.ts:slowDouble",
      {
        onEntry: (f) => void events.push(`entry ${String(f.args[0])}`),
        onLine: (f, site) => void events.push(`line ${site.line} ${String(f?.args[0])}`),
        onReturn: (f, _s, v) => void events.push(`return ${String(f?.args[0])}=${String(v)}`),
      },
      { lines: [33] },
    );
    const [a, b] = await Promise.all([basic.slowDouble(1), basic.slowDouble(2)]);
    assert.deepEqual([a, b], [2, 4]);
    assert.deepEqual(events.slice(0, 2), ["entry 1", "entry 2"]);
    assert.deepEqual(new Set(events.slice(2)), new Set(["line 33 1", "line 33 2", "return 1=2", "return 2=4"]));
    assert.ok(events.indexOf("line 33 1") < events.indexOf("return 1=2"));
    w.close();
  });

  test("an async function pauses on a promise at entry until it is released", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const rec = recorder({ onEntry: () => ({ pause: gate }) });
    const w = watch("src/basic.ts:slowDouble", rec, { lines: [32] });
    let done = false;
    const p = basic.slowDouble(5).then((v) => ((done = true), v));
    await sleep(20);
    assert.equal(done, false);
    assert.deepEqual(kinds(rec.events), [], "the body has not started");
    release();
    assert.equal(await p, 10);
    assert.deepEqual(kinds(rec.events), ["line:32", "return"]);
    w.close();
  });

  test("an async function pauses at a line site; several pauses are all awaited", async () => {
    let r1!: () => void;
    let r2!: () => void;
    const p1 = new Promise<void>((r) => (r1 = r));
    const p2 = new Promise<void>((r) => (r2 = r));
    const seen: number[] = [];
    const a = watch("src/basic.ts:slowDouble", { onLine: () => ({ pause: p1 }) }, { lines: [33] });
    const b = watch("src/basic.ts:slowDouble", { onLine: () => ({ pause: p2 }) }, { lines: [33] });
    const c = watch("src/basic.ts:slowDouble", { onLine: (_f, site) => void seen.push(site.line) }, { lines: [34] });
    let done = false;
    const p = basic.slowDouble(3).then((v) => ((done = true), v));
    await sleep(20);
    r1();
    await sleep(10);
    assert.equal(done, false);
    assert.deepEqual(seen, []);
    r2();
    assert.equal(await p, 6);
    assert.deepEqual(seen, [34]);
    a.close();
    b.close();
    c.close();
  });

  test("a pause in a synchronous function is reported through onError and ignored", () => {
    const rec = recorder({ onEntry: () => ({ pause: new Promise(() => {}) }) });
    const w = watch("src/basic.ts:add", rec);
    assert.equal(basic.add(2, 2), 4);
    const err = rec.events.find((e) => e.kind === "error");
    assert.ok(err && err.kind === "error" && err.error instanceof PauseNotAwaitableError);
    assert.equal(err.where, "entry");
    assert.equal(w.state, "active");
    w.close();
  });

  test("a rejected pause fails the watch; the function goes on", async () => {
    const boom = new Error("pause rejected");
    const rec = recorder({ onEntry: () => ({ pause: Promise.reject(boom) }) });
    const w = watch("src/basic.ts:slowDouble", rec);
    assert.equal(await basic.slowDouble(4), 8);
    assert.equal(w.state, "failed");
    assert.equal(w.error, boom);
    assert.deepEqual(onSites(H, N), []);
  });

  test("a frame is undefined at exits of a call that was in flight when the watch started", async () => {
    const rec = recorder();
    const p = basic.slowDouble(7);
    const w = watch("src/basic.ts:slowDouble", rec, { lines: [33] });
    assert.equal(await p, 14);
    assert.deepEqual(kinds(rec.events), ["line:33", "return"]);
    assert.equal((rec.events[0] as Extract<Event, { kind: "line" }>).frame, undefined);
    assert.equal((rec.events[1] as Extract<Event, { kind: "return" }>).frame, undefined);
    w.close();
  });

  test("a watch closed by another watcher during a call gets no more events of it", () => {
    const rec = recorder();
    const victim = watch("src/basic.ts:add", rec);
    const closer = watch("src/basic.ts:add", { onEntry: () => victim.close() });
    // The victim attached first, so its entry ran; its return must not.
    assert.equal(basic.add(1, 1), 2);
    assert.deepEqual(kinds(rec.events), ["entry"]);
    closer.close();
  });
});

describe("watcher errors never reach the function", () => {
  const cases = [
    {
      where: "entry",
      watcher: {
        onEntry: () => {
          throw new Error("w");
        },
      },
    },
    {
      where: "line",
      watcher: {
        onLine: () => {
          throw new Error("w");
        },
      },
    },
    {
      where: "return",
      watcher: {
        onReturn: () => {
          throw new Error("w");
        },
      },
    },
  ] as const;
  for (const c of cases) {
    test(`a throwing ${c.where} watcher is closed and reported; the result is unchanged`, () => {
      const reported: [unknown, string][] = [];
      const other = recorder();
      const w = watch(
        "src/basic.ts:add",
        { ...c.watcher, onError: (e, where) => void reported.push([e, where]) },
        { lines: [2] },
      );
      const o = watch("src/basic.ts:add", other);
      assert.equal(basic.add(2, 3), 5);
      assert.equal(w.state, "failed");
      assert.equal((w.error as Error).message, "w");
      assert.deepEqual(reported, [[w.error, c.where]]);
      assert.deepEqual(kinds(other.events), ["entry", "return"], "other watches are unaffected");
      assert.deepEqual(onSites(H, N), [0, 3, 4], "the failed watch's line site is off");
      o.close();
      assert.deepEqual(onSites(H, N), []);
      assert.equal(basic.add(2, 3), 5);
    });
  }

  test("a throwing throw watcher: the function's own error still leaves it, same object", () => {
    const w = watch("src/basic.ts:fail", {
      onThrow: () => {
        throw new Error("watcher");
      },
    });
    let caught: unknown;
    try {
      basic.fail("original");
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof Error && caught.message === "original");
    assert.equal(w.state, "failed");
    assert.deepEqual(onSites(H, N), []);
  });

  test("onError that throws is swallowed; a non-Error is wrapped with its cause", () => {
    const w = watch("src/basic.ts:add", {
      onEntry: () => {
        throw "a string";
      },
      onError: () => {
        throw new Error("also broken");
      },
    });
    assert.equal(basic.add(1, 2), 3);
    assert.equal(w.state, "failed");
    assert.ok(w.error instanceof WatcherError);
    assert.equal(w.error.cause, "a string");
  });

  test("a decision of the wrong shape fails the watch; the call goes on", () => {
    const w = watch("src/basic.ts:add", { onEntry: () => ({ args: "nope" as unknown as unknown[] }) });
    assert.equal(basic.add(1, 2), 3);
    assert.equal(w.state, "failed");
    assert.ok(w.error instanceof WatcherError);
  });
});

describe("cost", () => {
  // Its time is measured by the benchmarks (scale phase: "attach + detach one more probe").
  test("thousands of attach + detach rounds leave every site off and nothing watching", () => {
    const watcher = recorder();
    for (let i = 0; i < 2_000; i++) watch("src/basic.ts:Counter.bump", watcher, { lines: [10] }).close();
    assert.deepEqual(onSites(H, N), []);
    assert.equal(new basic.Counter(1).bump(2), 3);
    assert.deepEqual(watcher.events, []);
  });

  test("timing: false skips the clock unless another watch of the function needs it", () => {
    const starts: number[] = [];
    const a = watch("src/basic.ts:add", { onEntry: (f) => void starts.push(f.start) }, { timing: false });
    basic.add(1, 2);
    const b = watch("src/basic.ts:add", {});
    basic.add(1, 2);
    b.close();
    basic.add(1, 2);
    a.close();
    assert.equal(starts.length, 3);
    assert.ok(Number.isNaN(starts[0]) && Number.isNaN(starts[2]));
    assert.ok(starts[1]! > 0);
  });

  test("a watched call makes one frame, shared by all watchers", () => {
    const frames = new Set<CallFrame>();
    const a = watch("src/basic.ts:add", { onEntry: (f) => void frames.add(f) });
    const b = watch("src/basic.ts:add", { onEntry: (f) => void frames.add(f) });
    basic.add(1, 2);
    assert.equal(frames.size, 1);
    a.close();
    b.close();
  });
});
