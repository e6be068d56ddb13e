/**
 * Watchers whose methods cannot change are called directly (runtime/registry/watch.ts
 * `hasFixedMethods`): `watcher.onEntry(frame)` instead of `onEntry.call(watcher, frame)`. The
 * contract stays "methods are read once, at watch()": these tests pin that down for the watchers
 * that are not fixed (a reassigned method, a Proxy), check that a fixed one is called with its
 * own `this`, and check in V8's trace that the hooks' call to a probe's Dispatcher has a known
 * target (a `.call` site has none: its feedback names Function.prototype.call).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { afterEach, test } from "node:test";
import { resetForTests, watch, type CallFrame, type SiteInfo, type Watcher } from "../../runtime/registry/index.js";
import { bucket } from "../../runtime/probes/snapshot.js";
import type { Slot } from "../../runtime/probes/dispatch.js";
import { Instrument } from "../../runtime/instruments/instrument.js";
import { fixture } from "./registry-helpers.js";

interface Basic {
  add(a: number, b: number): number;
}
const basic = (await import(fixture("basic.mjs").href)) as Basic;

afterEach(() => resetForTests());

/** A watcher class whose methods cannot change: frozen prototype, non-extensible instances. */
class Fixed implements Watcher {
  readonly seen: string[] = [];
  constructor(readonly tag: string) {
    Object.preventExtensions(this);
  }
  onEntry(frame: CallFrame): void {
    this.seen.push(`${this.tag} entry ${frame.args.join(",")}`);
  }
  onReturn(_frame: CallFrame | undefined, _site: SiteInfo, value: unknown): void {
    this.seen.push(`${this.tag} return ${String(value)}`);
  }
}
Object.freeze(Fixed.prototype);

test("a watcher with fixed methods gets its events with itself as `this`", () => {
  const a = new Fixed("a");
  const b = new Fixed("b");
  const wa = watch("src/basic.ts:add", a);
  const wb = watch("src/basic.ts:add", b);
  assert.equal(wa.state, "active");
  assert.equal(basic.add(1, 2), 3);
  assert.deepEqual(a.seen, ["a entry 1,2", "a return 3"]);
  assert.deepEqual(b.seen, ["b entry 1,2", "b return 3"]);
  wa.close();
  wb.close();
});

test("a method reassigned after watch() is not called: the one read at watch() is", () => {
  const seen: string[] = [];
  const watcher: Watcher = {
    onEntry() {
      seen.push("first");
    },
  };
  const w = watch("src/basic.ts:add", watcher);
  basic.add(1, 1);
  watcher.onEntry = () => {
    seen.push("second");
  };
  basic.add(1, 1);
  assert.deepEqual(seen, ["first", "first"]);
  w.close();
});

test("an instance property shadowing a frozen prototype's method is read once too", () => {
  // Extensible instance: not fixed, so the own property added later is never seen.
  class Open implements Watcher {
    readonly seen: string[] = [];
    onEntry(): void {
      this.seen.push("proto");
    }
  }
  Object.freeze(Open.prototype);
  const watcher = new Open();
  const w = watch("src/basic.ts:add", watcher);
  basic.add(2, 2);
  Object.defineProperty(watcher, "onEntry", { value: () => watcher.seen.push("own") });
  basic.add(2, 2);
  assert.deepEqual(watcher.seen, ["proto", "proto"]);
  w.close();
});

test("a Proxy watcher runs no trap on a hit", () => {
  let traps = 0;
  let entries = 0;
  const target: Watcher = {
    onEntry() {
      entries++;
    },
  };
  const proxy = new Proxy(target, {
    get(t, key, receiver) {
      traps++;
      return Reflect.get(t, key, receiver);
    },
    getOwnPropertyDescriptor(t, key) {
      traps++;
      return Reflect.getOwnPropertyDescriptor(t, key);
    },
  });
  const w = watch("src/basic.ts:add", proxy);
  const before = traps;
  for (let i = 0; i < 3; i++) basic.add(i, i);
  assert.equal(entries, 3);
  assert.equal(traps, before);
  w.close();
});

test("a probe snapshot is plain only without call filter, hotspots or expiry", () => {
  class Noop extends Instrument {
    override fire(): void {}
  }
  const slot = (inst: Instrument, over: Partial<Slot> = {}): Slot => ({
    key: inst.name,
    inst,
    dead: false,
    deadline: Infinity,
    filtered: false,
    failed: false,
    error: undefined,
    recorded: false,
    reported: false,
    ...over,
  });
  const call = new Noop("c", "1", { event: "call" });
  const ret = new Noop("r", "1", { event: "return" });
  const plain = bucket([slot(call), slot(ret)]);
  assert.equal(plain.callPlain, true);
  assert.equal(plain.retPlain, true);
  assert.equal(bucket([slot(call, { deadline: 5 })]).callPlain, false);
  assert.equal(bucket([slot(call), slot(ret, { deadline: 5 })]).callPlain, true);
  assert.equal(bucket([slot(call), slot(ret, { deadline: 5 })]).retPlain, false);
  assert.equal(bucket([slot(call, { filtered: true })]).callPlain, false);
  const hot = new Noop("h", "hotspots", { event: "return" });
  assert.equal(bucket([slot(call), slot(hot)]).callPlain, false);
});

const DRIVER = `
const rt = await import(${JSON.stringify(new URL("../../runtime/index.js", import.meta.url).href)});
const basic = await import(${JSON.stringify(fixture("basic.mjs").href)});
class Noop extends rt.Instrument { fire() {} }
const p = rt.probes.attachTo("src/basic.ts:add");
p.instruments.set("n", new Noop("n", "1", { event: "call" }));
p.start();
let s = 0;
for (let i = 0; i < 40000; i++) s += basic.add(i, 1);
console.log("done", s > 0);
`;

test("the entry hook calls a probe's dispatcher with a known target (V8 --trace-turbo-inlining)", () => {
  const r = spawnSync(
    process.execPath,
    [
      "--no-concurrent-recompilation",
      "--no-maglev",
      "--trace-opt",
      "--trace-turbo-inlining",
      "--input-type=module",
      "-e",
      DRIVER,
    ],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /done true/);
  // Without Maglev (Node 22+ compiles with it first, and its compile traces no inlining), the first
  // compile of hookEntry is TurboFan's. The trace of that compilation: every call whose target TurboFan knows is named there
  // ("Considering …", "Inlining …" or "Cannot consider …"); a generic call is not mentioned.
  const start = r.stdout.search(/\[compiling method [^\n]*<JSFunction hookEntry /);
  assert.ok(start >= 0, "hookEntry was not optimized");
  const rest = r.stdout.slice(start);
  const end = rest.indexOf("[completed compiling");
  assert.match(end < 0 ? rest : rest.slice(0, end), /<SharedFunctionInfo onEntry>/);
});
