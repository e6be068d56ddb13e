/**
 * The transformer-limits benchmark (instrument() scale and recursion depth) runs and reports
 * sensible numbers at tiny sizes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { measureTransformerLimits } from "../../benchmarks/transformer-limits.js";

test("transformer limits: instrument() time per size and recursion depth plain / off / on", () => {
  const r = measureTransformerLimits([50, 200], () => {});
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.instrumentScale.map((row) => row.functions),
    [50, 200],
  );
  for (const row of r.instrumentScale) assert.ok(row.ms > 0 && row.usPerFunction > 0);
  assert.equal(r.perFunctionRatios[0], 1);
  const { plain, off, on, inPlaceOff, inPlaceOn } = r.recursion;
  for (const depth of [plain, off, on, inPlaceOff, inPlaceOn])
    assert.ok(depth !== null && depth > 1000, JSON.stringify(r.recursion));
  // Not `on < plain` for the outlined build: since its guard calls the copy directly (a call
  // TurboFan may inline), a probed `down` went deeper than the plain one (benchmarks/per-hit-notes.md);
  // in place, the site code's frames cost stack.
  assert.ok(inPlaceOn! < plain!, JSON.stringify(r.recursion));
});
