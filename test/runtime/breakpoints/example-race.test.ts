/** examples/race: the oversell race reproduced by a Breakpoint test, run with the real Node loader. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const RUNNER = fileURLToPath(new URL("../../../../examples/race/run-example.mjs", import.meta.url));

test("examples/race: both of its Breakpoint tests pass under the diagnose loader", () => {
  const r = spawnSync(process.execPath, [RUNNER], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /ℹ pass 2/);
  assert.match(r.stdout, /ℹ fail 0/);
});
