/** The benchmark's phase switches: what runs in each mode and what each switch changes. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PHASES, PhaseSelection } from "../../benchmarks/phases.js";

test("the full run has every phase; --quick leaves out the callgrind ones until asked for", () => {
  const full = new PhaseSelection(false);
  for (const p of PHASES) assert.ok(full.has(p.name), p.name);
  const quick = new PhaseSelection(true);
  assert.equal(quick.has("instructions"), false);
  assert.equal(quick.has("warmup"), false);
  assert.equal(quick.has("matrix"), true);
  assert.equal(quick.skipped("instructions", true), "not part of --quick (add --instructions)");
  assert.ok(quick.apply("--instructions"));
  assert.equal(quick.has("instructions"), true);
});

test("--no-<phase> skips one phase, --only keeps just the listed ones, unknown names are errors", () => {
  const s = new PhaseSelection(false);
  assert.ok(s.apply("--no-fleet"));
  assert.equal(s.has("fleet"), false);
  assert.equal(s.skipped("fleet", false), "disabled with --no-fleet");
  assert.equal(s.apply("--no-such-phase"), false);
  s.only(["manager", "budgets"]);
  assert.deepEqual(
    PHASES.filter((p) => s.has(p.name)).map((p) => p.name),
    ["manager", "budgets"],
  );
  assert.throws(() => s.only(["nope"]), /no phase named nope/);
  assert.throws(() => s.has("nope"), /no benchmark phase named nope/);
});
