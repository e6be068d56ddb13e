/** Table checks for the fields `r` (argument replacement compiled in), the entry-served line site and outline flags. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ABI_VERSION, encodeSites, replacesArguments } from "../../abi/index.js";
import { tableProblem } from "../../runtime/registry/validate.js";

// One function: entry (0), line (1), end (2), throw (3).
const s = encodeSites([0, 0, 1, 0, -1, 1, 0, 2, 2, 0, 3, 0, 3, 0, 0, 4, 0, 3, 0, 0]);
const table = (extra: Record<string, unknown>) => ({
  abi: ABI_VERSION,
  h: "abcdefgh",
  m: "src/a.ts",
  p: "",
  n: 4,
  f: '[["f",1,0,0,["a"]]]',
  s,
  v: "a",
  ...extra,
});

test("`r`: 0 or 1, absent means replacement is compiled in", () => {
  assert.equal(tableProblem(table({})), undefined);
  assert.equal(tableProblem(table({ r: 0 })), undefined);
  assert.equal(tableProblem(table({ r: 1 })), undefined);
  assert.match(tableProblem(table({ r: 2 }))!, /`r` must be 0 or 1/);
  assert.equal(replacesArguments({}), true);
  assert.equal(replacesArguments({ r: 0 }), false);
});

test("the 6th element of a function entry names a line site of that function", () => {
  assert.equal(tableProblem(table({ f: '[["f",1,0,0,["a"],1]]' })), undefined);
  assert.match(tableProblem(table({ f: '[["f",1,0,0,["a"],0]]' }))!, /bad entry line site/, "an entry site");
  assert.match(tableProblem(table({ f: '[["f",1,0,0,["a"],4]]' }))!, /bad entry line site/, "out of range");
  assert.match(tableProblem(table({ f: '[["f",1,0,0,["a"],"1"]]' }))!, /bad entry line site/);
  assert.match(tableProblem(table({ f: '[["f",1,0,0,["a"],1,2,3]]' }))!, /function entry 0 is malformed/);
  assert.equal(tableProblem(table({ f: '[["f",1,0,0,["a"],-1]]' })), undefined, "-1: none");
});

test("`o` and the 7th element: outline flags follow the site flags, one per outlined function", () => {
  // Four sites and one outline flag (id 4).
  assert.equal(tableProblem(table({ n: 5, o: 1, f: '[["f",1,0,0,["a"],-1,4]]' })), undefined);
  assert.equal(tableProblem(table({ n: 5, o: 1, f: '[["f",1,0,0,["a"],1,4]]' })), undefined);
  assert.match(
    tableProblem(table({ n: 5, o: 1, f: '[["f",1,0,0,["a"],-1,3]]' }))!,
    /bad outline flag/,
    "a site's flag",
  );
  assert.match(tableProblem(table({ n: 5, o: 1, f: '[["f",1,0,0,["a"],-1,5]]' }))!, /bad outline flag/, "out of range");
  assert.match(
    tableProblem(table({ n: 5, o: 1, f: '[["f",1,0,0,["a"]]]' }))!,
    /`o` does not match/,
    "an outline flag nobody owns",
  );
  assert.match(tableProblem(table({ n: 5, o: 1 }))!, /`o` does not match/);
  assert.match(tableProblem(table({ n: 4, o: 5 }))!, /`o` must be a count/);
  assert.match(tableProblem(table({ n: 5 }))!, /does not hold 5 sites/, "without `o` every flag is a site");
});

test("a module whose hook binder throws is refused: no record, flags stay off, a warning says why", async () => {
  const { Registry } = await import("../../runtime/registry/core.js");
  const registry = new Registry();
  const warnings: Error[] = [];
  const onWarning = (w: Error) => void warnings.push(w);
  process.on("warning", onWarning);
  try {
    const t = table({ h: "bindfail", m: "src/bind-fail.ts" });
    registry.register(t, () => {
      throw new Error("tampered");
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(
      registry.listFunctions().some((f) => f.module === "src/bind-fail.ts"),
      false,
    );
    const w = registry.watch("src/bind-fail.ts:f", {});
    assert.notEqual(w.state, "active", "nothing can switch its flags on");
    assert.equal((globalThis as Record<string, unknown>)["$dg_bindfail_0"], false);
    w.close();
    assert.ok(
      warnings.some((x) => /could not bind the hooks of .*tampered/.test(x.message)),
      warnings.map((x) => x.message).join("\n"),
    );
    // A binder that works gets four functions.
    let bound: unknown[] = [];
    registry.register(table({ h: "bindok01", m: "src/bind-ok.ts" }), (...hooks) => void (bound = hooks));
    assert.equal(bound.length, 4);
    assert.ok(bound.every((h) => typeof h === "function"));
  } finally {
    process.off("warning", onWarning);
  }
});

test("`l`: the flags defined at load, ascending ids and ranges below `n`", () => {
  assert.equal(tableProblem(table({ l: "0,2-3" })), undefined);
  assert.equal(tableProblem(table({ l: "" })), undefined, "no flag read at load");
  for (const l of ["3-2", "0,0", "2,1", "0-4", "4", "x", "1-", "-1", " 1", "01", 2]) {
    assert.match(tableProblem(table({ l }))!, /`l` must list flag ids/, JSON.stringify(l));
  }
});
