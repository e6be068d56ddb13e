/**
 * The global slot, in load order: instrumented modules that load before the runtime (bootstrap
 * adoption), a refused table, two copies of the runtime sharing one registry, and one module
 * loaded as CJS and as ESM sharing its flags. This file imports the runtime only dynamically, and
 * its tests run in order.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import type * as Registry from "../../runtime/registry/index.js";
import { ABI_VERSION } from "../../abi/index.js";
import { fixture, flag, onSites, recorder, RUNTIME_URL } from "./registry-helpers.js";

const require = createRequire(import.meta.url);
const SLOT = Symbol.for("diagnose.registry");
const slot = (): Record<string, unknown> => (globalThis as unknown as Record<symbol, Record<string, unknown>>)[SLOT]!;

let boot: { boot(x: number): number };
let bad: { bad(x: number): number };
let A: typeof Registry;
let bootstrap: Record<string, unknown>;
const warnings: Error[] = [];

test("modules loaded before the runtime queue their tables in the inline bootstrap", () => {
  assert.equal(slot(), undefined);
  boot = require(fixture("boot.cjs").pathname) as typeof boot;
  bad = require(fixture("bad-table.cjs").pathname) as typeof bad;
  bootstrap = slot();
  assert.equal(bootstrap.abi, ABI_VERSION);
  assert.equal((bootstrap.queue as unknown[]).length, 2);
  assert.equal(flag("fxboot01", 0), false, "the bootstrap defined the flags");
  assert.equal(boot.boot(2), 20);
});

test("the runtime adopts queued tables, replaces the slot, and refuses a bad table with a warning", async () => {
  process.on("warning", (w) => warnings.push(w));
  A = (await import(RUNTIME_URL.href)) as typeof Registry;
  const registry = slot();
  assert.notEqual(registry, bootstrap);
  assert.equal(typeof registry.watch, "function");
  assert.equal((bootstrap.queue as unknown[]).length, 0);

  const rec = recorder();
  const w = A.watch("src/boot.ts:boot", rec);
  assert.equal(w.state, "active");
  assert.equal(boot.boot(3), 30);
  assert.deepEqual(
    rec.events.map((e) => e.kind),
    ["entry", "return"],
  );
  w.close();
  assert.deepEqual(onSites("fxboot01", 3), []);

  await tick();
  const warning = warnings.find((w) => (w as { code?: string }).code === "DIAGNOSE_BAD_TABLE");
  assert.ok(warning, "a warning was emitted");
  assert.match(warning.message, /refused the site table of "src\/bad\.ts": `s` does not hold 3 sites/);
  assert.equal(bad.bad(1), 2, "the refused module works, its flags off");
  assert.equal(flag("fxbad001", 2), false);
  assert.equal(
    A.listFunctions().some((f) => f.module === "src/bad.ts"),
    false,
  );
  // Someone still holding the old bootstrap registers with the real registry.
  const late = { abi: ABI_VERSION, h: "fxlate001", m: "src/late-boot.ts", p: "", n: 0, f: "[]", s: "", v: "" };
  let bound: unknown[] = [];
  const binder = (...hooks: unknown[]) => {
    bound = hooks;
  };
  (bootstrap.register as (t: unknown, b: unknown) => unknown)(late, binder);
  assert.equal(A.listFunctions().length, 1);
  assert.equal(bound.length, 4);
  assert.ok(
    bound.every((h) => typeof h === "function"),
    "the module's hooks were bound",
  );
  (registry.register as (t: unknown, b: unknown) => unknown).call(registry, late, binder);
  assert.equal(A.listFunctions().length, 1, "registering the same table again changes nothing");
  assert.equal(warnings.filter((w) => (w as { code?: string }).code === "DIAGNOSE_BAD_TABLE").length, 1);
});

test("a second copy of the runtime (another URL) shares the same registry", async () => {
  const registry = slot();
  const B = (await import(`${RUNTIME_URL.href}?copy=2`)) as typeof Registry;
  assert.notEqual(B, A);
  assert.notEqual(B.watch, A.watch);
  assert.equal(slot(), registry, "the slot was not replaced");

  const rec = recorder();
  const w = B.watch("src/boot.ts:boot", rec);
  assert.equal(w.state, "active");
  assert.deepEqual(onSites("fxboot01", 3), [0, 1, 2]);
  boot.boot(1);
  assert.equal(rec.events.length, 2);
  const viaA = A.watch("src/boot.ts:boot", {}, { exits: false });
  w.close();
  assert.deepEqual(onSites("fxboot01", 3), [0], "a watch from copy A still needs the entry");
  viaA.close();
  assert.deepEqual(onSites("fxboot01", 3), []);
  assert.deepEqual(
    B.listFunctions().map((f) => f.qualifiedName),
    A.listFunctions().map((f) => f.qualifiedName),
  );

  // Errors created by one copy are instances of the other copy's classes.
  const failed = B.watch("src/boot.ts:bot", {});
  assert.ok(failed.error instanceof A.TargetNotFoundError);
  assert.ok(failed.error instanceof B.TargetNotFoundError);
  assert.ok(failed.error instanceof A.DiagnoseError);
  assert.equal(failed.error instanceof A.LineNotFoundError, false);
  assert.ok(failed.error instanceof Error);
});

test("one module loaded as CJS and as ESM (same hash) shares flags: both instances are driven", async () => {
  const cjs = require(fixture("shared.cjs").pathname) as { greet(n: string): string };
  const esm = (await import(fixture("shared.mjs").href)) as { greet(n: string): string };
  assert.notEqual(cjs.greet, esm.greet);
  const seen: unknown[] = [];
  const w = A.watch("src/shared.ts:greet", {
    onEntry: (f) => void seen.push(f.args[0]),
    onReturn: (_f, _s, v) => ({ value: `${String(v)}!` }),
  });
  assert.equal(cjs.greet("cjs"), "hi cjs!");
  assert.equal(esm.greet("esm"), "hi esm!");
  assert.deepEqual(seen, ["cjs", "esm"]);
  assert.equal(A.listFunctions().filter((f) => f.module === "src/shared.ts").length, 1);
  w.close();
  assert.deepEqual(onSites("fxshare1", 3), []);
  assert.equal(esm.greet("x"), "hi x");
});
