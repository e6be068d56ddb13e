/**
 * Runner integration: a node:test test that times out while a call is parked. The runner aborts
 * `t.signal`; the breakpoint (given `signal: t.signal`) releases the call at once and the child
 * run ends long before the breakpoint's own timeout. The deliberately failing test runs in a child
 * `node --test`, so this suite stays green.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const FIXTURE = fileURLToPath(new URL("../../../../test/fixtures/breakpoints/times-out.test.mjs", import.meta.url));
const RUNTIME = new URL("../../../runtime/breakpoints/index.js", import.meta.url).href;
const HELPER = new URL("../../helpers/instrumented.js", import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), "diagnose-bp-runner-"));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill();
  try {
    rmSync(readFileSync(join(dir, "root"), "utf8"), { recursive: true, force: true });
  } catch {
    // The child never got that far.
  }
  rmSync(dir, { recursive: true, force: true });
});

test("node:test: a test that times out aborts t.signal, which releases the parked call", async () => {
  const out = join(dir, "outcome.json");
  // Without the parent runner's NODE_TEST_CONTEXT, the child reports like a top-level run.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(process.execPath, ["--test", "--test-reporter=tap", FIXTURE], {
    env: { ...env, BP_RUNTIME: RUNTIME, BP_HELPER: HELPER, BP_OUT: out, BP_ROOT: join(dir, "root") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  const ms = performance.now() - t0;
  assert.equal(code, 1, `the fixture's test must fail by timing out:\n${stdout}`);
  assert.match(stdout, /timed out after 300ms|cancelledByParent|testTimeoutFailure/, stdout);
  assert.ok(ms < 30_000, `the run ended in ${Math.round(ms)} ms, long before the breakpoint's 60 s timeout`);
  const outcome = JSON.parse(readFileSync(out, "utf8")) as Record<string, unknown>;
  assert.equal(outcome["released"], true);
  assert.equal(outcome["value"], 42);
  assert.match(
    String(outcome["waitError"]),
    /BreakpointAbortedError: Breakpoint on src\/job\.ts:job was aborted by its signal/,
  );
  assert.equal(outcome["closeError"], undefined, "the condition was met and the task ended: dispose is clean");
});
