/**
 * callgrind-marks.ts: the instructions between a child's marks, read from callgrind's dumps.
 * The last test runs a real Node child under valgrind (skipped, with the reason, without it).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { countMarked, intervalsOf, parseTotals } from "../../benchmarks/callgrind-marks.js";

test("a dump's total is its totals line (or summary line)", () => {
  assert.equal(parseTotals("version: 1\ncreator: callgrind-3.19.0\n\nfn=(1)\n0 3\n\ntotals: 428004728\n"), 428004728);
  assert.equal(parseTotals("events: Ir\nsummary: 77410292\n"), 77410292);
  assert.equal(parseTotals("events: Ir\nfn=(1) totals: 5\n"), undefined);
});

test("the intervals are the dumps of every mark but the first, counted from the last dump", () => {
  // Dump 1 is Node's own call during start-up; dumps 2, 3, 4 are the child's three marks.
  const dumps = new Map([
    [1, 400],
    [2, 70],
    [3, 13],
    [4, 116],
  ]);
  assert.deepEqual(intervalsOf(dumps, 3), [13, 116]);
  assert.deepEqual(intervalsOf(dumps, 4), [70, 13, 116]);
  assert.match(String(intervalsOf(dumps, 5)), /4 callgrind dumps, expected at least 5/);
  assert.match(
    String(
      intervalsOf(
        new Map([
          [1, 1],
          [3, 3],
        ]),
        3,
      ),
    ),
    /dump 2 is missing/,
  );
});

const valgrind = spawnSync("valgrind", ["--version"]).status === 0;

test("a real child's marks split its run: ten times the loop, about ten times the instructions", {
  skip: valgrind ? false : "valgrind is not on PATH",
}, async () => {
  const script = `
      const mark = () => process.constrainedMemory();
      const loop = (n) => { let s = 0.5; for (let i = 0; i < n; i++) s += Math.sqrt(i); return s; };
      // Warm until optimized, so both measured loops run the same code. One call of 2e5 was not
      // enough on Node 24 (Maglev first, then TurboFan): its optimizing compile, on the main thread
      // under --predictable, fell inside the 1e5 loop and the ratio read 1.33x.
      for (let k = 0; k < 20; k++) loop(1e5);
      let sink = 0;
      mark(); sink += loop(1e5); mark(); sink += loop(1e6); mark();
      if (!(sink > 0)) process.exit(3);
    `;
  const run = await countMarked(["--predictable", "-e", script], 3);
  assert.ok(!("error" in run), "error" in run ? run.error : "");
  const [small, large] = run.intervals;
  assert.equal(run.intervals.length, 2);
  assert.ok(small! > 1e5, `the 1e5 loop counted ${small}`);
  const ratio = large! / small!;
  assert.ok(ratio > 8 && ratio < 12, `1e6 ÷ 1e5 iterations counted ${ratio.toFixed(2)}×`);
  assert.ok(run.total > small! + large!, "the run's total includes start-up");
});

test("a child that fails reports its exit, not intervals", {
  skip: valgrind ? false : "valgrind is not on PATH",
}, async () => {
  const run = await countMarked(["-e", "process.constrainedMemory(); process.exit(3)"], 2);
  assert.ok("error" in run);
  assert.match(run.error, /exit 3/);
});
