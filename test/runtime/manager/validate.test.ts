/**
 * Spec documents are hostile input: each malformed field gives its own sentence in that spec's
 * status while the good specs next to it are applied; unknown fields are kept and warned about
 * once; getters are never invoked and Proxies never trapped.
 */
import assert from "node:assert/strict";
import { after, afterEach, test } from "node:test";
import { probes } from "../../../runtime/index.js";
import { loadInstrumented } from "../../helpers/instrumented.js";
import { raw, specDoc, stopManagers, testManager } from "./helpers.js";

afterEach(stopManagers);
after(stopManagers);

const SOURCE = `export function add(a: number, b: number) { return a + b; }`;

test("each malformed field becomes one clear sentence; the good spec still applies", async () => {
  const m = await loadInstrumented<{ add(a: number, b: number): number }>(SOURCE, "src/validate1/math.ts");
  const t = m.qualified("add");
  const huge = "x".repeat(20_000);
  const cases: [string, unknown, RegExp][] = [
    ["not-object", "a string", /The spec must be an object, got a string/],
    ["array", [1, 2], /The spec must be an object, got an array/],
    [
      "no-target",
      { ...specDoc(t), target: undefined },
      /`target` must be a string like "src\/shop\/cart.ts:Cart.total", got nothing/,
    ],
    ["bad-target", specDoc("no-colon"), /`target` "no-colon" is not a qualified name/],
    ["long-target", specDoc("a:" + huge), /`target` is 20002 characters long; the limit is 1000/],
    ["no-instrument", { ...specDoc(t), instrument: undefined }, /`instrument` is missing/],
    ["instrument-array", { ...specDoc(t), instrument: [] }, /`instrument` must be an object, got an array/],
    ["type", specDoc(t, { type: 7 }), /`instrument.type` must be a non-empty string such as "log", got a number/],
    ["name", specDoc(t, { name: "" }), /`instrument.name` must be a non-empty string .* got an empty string/],
    ["value", specDoc(t, { value: null }), /`instrument.value` must be a non-empty expression string/],
    ["huge-value", specDoc(t, { value: huge }), /`instrument.value` is 20000 characters long; the limit is 10000/],
    ["event", specDoc(t, { event: "sometimes" }), /`instrument.event` "sometimes" is not an event/],
    ["event-type", specDoc(t, { event: 3 }), /`instrument.event` must be "call", "return", "end" or "line:N", got 3/],
    ["custom", specDoc(t, { custom: "x" }), /`instrument.custom` must be an object, got a string/],
    [
      "condition",
      specDoc(t, { custom: { condition: 1 } }),
      /`instrument.custom.condition` must be an expression string, got a number/,
    ],
    [
      "lifespan-neg",
      specDoc(t, {}, { lifespan: -1 }),
      /`lifespan` must be a finite number of minutes ≥ 0, or null .*got -1/,
    ],
    ["lifespan-inf", specDoc(t, {}, { lifespan: Infinity }), /got Infinity/],
    ["lifespan-str", specDoc(t, {}, { lifespan: "10" }), /`lifespan` must be .* got "10"/],
    [
      "lm-missing",
      specDoc(t, {}, { lastmodified: undefined }),
      /`lastmodified` must be a Date or an ISO 8601 date string .* got undefined/,
    ],
    ["lm-bad", specDoc(t, {}, { lastmodified: "yesterday" }), /`lastmodified` .* got "yesterday"/],
    ["lm-invalid-date", specDoc(t, {}, { lastmodified: new Date(NaN) }), /got an invalid Date/],
    ["selector", specDoc(t, {}, { selector: { app: 1 } }), /`selector.app` must be a string/],
    ["unknown-type", specDoc(t, { type: "lgo" }), /Unknown instrument type "lgo": use one of log, hist, incr, test/],
    ["expression", specDoc(t, { value: "a +" }), /Invalid value expression "a \+"/],
  ];
  const { mgr } = testManager();
  for (const [id, doc] of cases) mgr.specs.set(id, raw(doc));
  mgr.specs.set("good", specDoc(t));
  const report = await mgr.apply();
  assert.deepEqual(report.attached, ["good"]);
  const errs = new Map(report.refused.map((r) => [r.id, r.err]));
  for (const [id, , re] of cases) {
    assert.match(errs.get(id) ?? "(not refused)", re, id);
    assert.equal(mgr.status()[id]?.state, "error", id);
  }
  for (const err of errs.values()) assert.ok(err.length < 400, `short sentence: ${err}`);
  assert.equal(m.exports.add(1, 2), 3);
  assert.equal(probes.get(t)!.instruments.size, 1);
});

test("unknown fields are kept in the document and warned about once", async () => {
  const m = await loadInstrumented(SOURCE, "src/validate2/math.ts");
  const { mgr, lines } = testManager();
  const doc = specDoc(m.qualified("add"), { colour: "red" }, { owner: "ops" });
  mgr.specs.set("s1", doc);
  await mgr.apply();
  await mgr.apply();
  mgr.specs.set("s1", { ...doc, lifespan: 5 });
  await mgr.apply();
  assert.equal(lines.filter((l) => /Unknown spec field "owner" is kept but ignored/.test(l)).length, 1);
  assert.equal(lines.filter((l) => /Unknown instrument field "colour"/.test(l)).length, 1);
  assert.equal(mgr.specs.get("s1")!["owner"], "ops");
  assert.equal(mgr.status()["s1"]?.state, "applied");
});

test("getters are never invoked and Proxies never trapped", async () => {
  const m = await loadInstrumented(SOURCE, "src/validate3/math.ts");
  const t = m.qualified("add");
  let calls = 0;
  const withGetter = specDoc(t);
  Object.defineProperty(withGetter, "target", {
    enumerable: true,
    get() {
      calls++;
      return t;
    },
  });
  const traps = new Proxy(
    {},
    new Proxy(
      {},
      {
        get() {
          calls++;
          throw new Error("trap");
        },
      },
    ),
  );
  const { mgr } = testManager();
  mgr.specs.set("getter", withGetter);
  mgr.specs.set("proxy-instrument", specDoc(t, {}, { instrument: traps }));
  const report = await mgr.apply();
  const errs = new Map(report.refused.map((r) => [r.id, r.err]));
  assert.match(errs.get("getter")!, /`target` is a getter; a spec holds plain values only/);
  assert.match(errs.get("proxy-instrument")!, /`instrument` is a Proxy/);
  assert.equal(calls, 0);
});
