/**
 * Execution tests: every construct of issue 2 runs identically plain, instrumented with all sites
 * off, and instrumented with all sites on and no-op hooks (same results, same exception objects,
 * same side effects), in ESM, CJS and script output.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import vm from "node:vm";
import type { Options } from "@swc/core";
import {
  ABI_VERSION,
  REGISTRY_KEY,
  SITE_STRIDE,
  decodeSites,
  loadFlagRanges,
  siteCount,
  type FrameABI,
  type RegistrySlot,
} from "../../abi/index.js";
import {
  ROOT,
  clearRegistrySlot,
  compile,
  importTemp,
  instrumentChecked,
  recordAll,
  writeTemp,
  type Recorder,
} from "./harness.js";

const FIXTURES = new URL("../../../test/fixtures/transformer/", import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), "utf8");
const require = createRequire(import.meta.url);

type RunModule = { run(): unknown };

interface Case {
  fixture: string;
  jsc?: Options["jsc"];
}

const CASES: Case[] = [
  { fixture: "constructs.ts" },
  { fixture: "legacy-decorators.ts", jsc: { transform: { legacyDecorator: true, decoratorMetadata: false } } },
  { fixture: "tc39-decorators.ts", jsc: { transform: { decoratorVersion: "2022-03" } } },
  { fixture: "view.tsx", jsc: { transform: { react: { runtime: "classic", pragma: "h" } } } },
];

let unique = 0;
/** A distinct module path per build, so each build has its own hash and flags. */
const modulePathFor = (name: string) => `${ROOT}/src/${unique++}/${name}`;

/** Checks the frames and hook kinds of a recording: every exit/line pairs with its call's entry. */
function checkEvents(rec: Recorder): void {
  const table = rec.table();
  const s = decodeSites(table.s, siteCount(table))!;
  const fnOf = (site: number) => s[site * SITE_STRIDE + 1];
  const kindOk: Record<string, string[]> = { e: ["entry"], l: ["line"], x: ["return", "end"], t: ["throw"] };
  for (const event of rec.events) {
    assert.ok(kindOk[event.hook]!.includes(event.kind), `hook ${event.hook} at a ${event.kind} site`);
    if (event.hook !== "e") {
      const frame = event.frame as (FrameABI & { fn?: number }) | undefined;
      assert.ok(frame, `site ${event.site} got its call's frame`);
      assert.equal(frame.fn, fnOf(event.site), "frame belongs to the same function");
    }
  }
  assert.ok(
    rec.events.some((e) => e.hook === "l"),
    "line sites ran",
  );
  assert.ok(
    rec.events.some((e) => e.hook === "x"),
    "exit sites ran",
  );
}

function frames(rec: Recorder): void {
  const table = rec.table;
  rec.onEntry = (site) => ({ fn: decodeSites(table().s, siteCount(table()))![site * SITE_STRIDE + 1] }) as FrameABI;
}

for (const c of CASES) {
  test(`ESM: ${c.fixture} runs the same plain, instrumented-off and instrumented-on`, async () => {
    const source = fixture(c.fixture);
    const plain = await importTemp<RunModule>("plain.mjs", compile(source, c.fixture, "es6", c.jsc));
    const expected = await plain.run();

    clearRegistrySlot();
    const off = instrumentChecked(source, modulePathFor(c.fixture));
    assert.deepEqual(off.warnings, []);
    const offModule = await importTemp<RunModule>("off.mjs", compile(off.code, c.fixture, "es6", c.jsc));
    assert.deepEqual(await offModule.run(), expected);
    // The inline bootstrap registered the table and defined the flags: false, non-enumerable.
    const slot = (globalThis as unknown as Record<symbol, RegistrySlot>)[Symbol.for(REGISTRY_KEY)]!;
    assert.equal(slot.abi, ABI_VERSION);
    const entry = slot.queue!.find(([t]) => t.h === off.sites!.hash)!;
    assert.ok(entry, "table queued by the bootstrap");
    const [queued, binder] = entry;
    assert.equal(typeof binder, "function", "queued with the binder of its hook bindings");
    // Those its code reads (table `l`); the others are the registry's to define when a probe needs them.
    const atLoad = loadFlagRanges(queued.l ?? `0-${queued.n - 1}`, queued.n)!.flatMap(([a, z]) =>
      Array.from({ length: z - a + 1 }, (_, i) => a + i),
    );
    for (const id of atLoad) {
      const descriptor = Object.getOwnPropertyDescriptor(globalThis, `$dg_${queued.h}_${id}`)!;
      assert.deepEqual(descriptor, { value: false, writable: true, enumerable: false, configurable: true });
    }
    const defined = Object.getOwnPropertyNames(globalThis).filter((k) => k.startsWith(`$dg_${queued.h}_`));
    assert.equal(defined.length, atLoad.length, "only the flags the module reads at load");
    assert.ok(!Object.keys(globalThis).some((k) => k.startsWith("$dg_")), "flags are not enumerable");

    const on = instrumentChecked(source, modulePathFor(c.fixture));
    const rec = recordAll(on);
    frames(rec);
    try {
      const onModule = await importTemp<RunModule>("on.mjs", compile(on.code, c.fixture, "es6", c.jsc));
      assert.deepEqual(await onModule.run(), expected);
      checkEvents(rec);
    } finally {
      rec.dispose();
    }
  });
}

test("CJS output of an ESM source (module: cjs) runs the same off and on", async () => {
  const source = fixture("constructs.ts");
  const plainFile = writeTemp("plain.cjs", compile(source, "constructs.ts", "commonjs"));
  const expected = await (require(plainFile) as RunModule).run();
  const off = instrumentChecked(source, modulePathFor("constructs.ts"), { module: "cjs" });
  assert.ok(!off.code.includes("data:text/javascript"), "no data: import in CJS output");
  assert.deepEqual(
    await (require(writeTemp("off.cjs", compile(off.code, "constructs.ts", "commonjs"))) as RunModule).run(),
    expected,
  );
  const on = instrumentChecked(source, modulePathFor("constructs.ts"), { module: "cjs" });
  const rec = recordAll(on);
  frames(rec);
  try {
    assert.deepEqual(
      await (require(writeTemp("on.cjs", compile(on.code, "constructs.ts", "commonjs"))) as RunModule).run(),
      expected,
    );
    checkEvents(rec);
  } finally {
    rec.dispose();
  }
});

test("a sloppy-mode CommonJS script (with, Annex B, mapped arguments) runs the same off and on", () => {
  const source = fixture("script.cjs");
  const expected = (require(writeTemp("plain.cjs", source)) as RunModule).run();
  assert.deepEqual(expected, ["object", 2, "function", "undefined", "changed", 0]);
  const off = instrumentChecked(source, modulePathFor("script.cjs"));
  assert.deepEqual((require(writeTemp("off.cjs", off.code)) as RunModule).run(), expected);
  const on = instrumentChecked(source, modulePathFor("script.cjs"));
  const rec = recordAll(on);
  frames(rec);
  try {
    const mod = require(writeTemp("on.cjs", on.code)) as RunModule & { extra(): string };
    assert.deepEqual(mod.run(), expected);
    assert.equal(mod.extra(), "extra");
    checkEvents(rec);
    assert.deepEqual(
      on.sites!.functions.map((f) => f.path),
      ["sloppy", "annexB", "annexB.g", "mapped", "run", "extra"],
    );
    assert.deepEqual(
      on.warnings.map((w) => w.code),
      ["with-statement"],
    );
  } finally {
    rec.dispose();
  }
});

test("a classic script without imports runs in a fresh realm with the bootstrap", () => {
  const source = `"use strict";\nfunction area(w, h) {\n  const a = w * h;\n  return a;\n}\nglobalThis.result = [area(2, 3), area.length, area.name];\n`;
  const out = instrumentChecked(source, modulePathFor("legacy.js"));
  assert.equal(out.code.indexOf('"use strict"'), "/*diagnose:instrumented*/".length, "directive stays first");
  const sandbox: { result?: unknown } = {};
  vm.runInNewContext(out.code, sandbox);
  assert.equal(JSON.stringify(sandbox.result), JSON.stringify([6, 2, "area"]), "an array from the other realm");
});
