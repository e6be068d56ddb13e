/**
 * Runner integration with Vitest: the real Vitest CLI runs test/fixtures/breakpoints/vitest, whose
 * sources the Diagnose Vite plugin instruments. One breakpoint test passes; the other times out
 * while a call is parked, Vitest aborts `context.signal`, and the breakpoint (given that signal)
 * releases the call, which then finishes with its own result. The failing run is the child's, so
 * this suite stays green.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { copyFixture, explain, REPO_ROOT, runNode } from "../../integrations/helpers.js";

/** Packages the fixture resolves from its own node_modules: links into this repository's. */
const LINKED = ["vite", "vitest", "@swc"];

interface JsonReport {
  testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
}

let project: { dir: string; remove(): void };
before(() => {
  project = copyFixture("breakpoints/vitest");
  const modules = join(project.dir, "node_modules");
  mkdirSync(modules);
  // "diagnose" resolves like an installed package: node_modules/diagnose → this repository.
  symlinkSync(REPO_ROOT, join(modules, "diagnose"), "dir");
  for (const name of LINKED) symlinkSync(join(REPO_ROOT, "node_modules", name), join(modules, name), "dir");
});
after(() => project?.remove());

test("Vitest: a test that times out aborts context.signal, which releases the parked call", {
  timeout: 120_000,
}, () => {
  const out = join(project.dir, "outcome.json");
  const report = join(project.dir, "report.json");
  const r = runNode(
    [join("node_modules", "vitest", "vitest.mjs"), "run", "--color=false", "--reporter=json", `--outputFile=${report}`],
    project.dir,
    { BP_OUT: out },
  );
  assert.equal(r.status, 1, `the fixture's second test must fail by timing out\n${explain(r)}`);

  const results = (JSON.parse(readFileSync(report, "utf8")) as JsonReport).testResults.flatMap(
    (f) => f.assertionResults,
  );
  const byTitle = new Map(results.map((a) => [a.title, a]));
  assert.equal(byTitle.get("a breakpoint parks a call until the test releases it")?.status, "passed", explain(r));
  const timedOut = byTitle.get("times out while a call is parked: context.signal releases it");
  assert.equal(timedOut?.status, "failed", explain(r));
  // Vitest's JSON report keeps only the timeout's stack; its message is the signal's reason below.
  assert.ok(timedOut.failureMessages.length > 0, explain(r));

  // Released by the signal, not by the breakpoint's own 60 s timeout (which would have thrown a
  // BreakpointTimeoutError into the call instead of letting it return 42).
  const outcome = JSON.parse(readFileSync(out, "utf8")) as Record<string, unknown>;
  assert.equal(outcome["released"], true, JSON.stringify(outcome));
  assert.equal(outcome["value"], 42);
  assert.equal(outcome["taskError"], undefined);
  assert.match(
    String(outcome["waitError"]),
    /BreakpointAbortedError: Breakpoint on src\/job\.ts:job was aborted by its signal \(Error: Test timed out in 300ms/,
  );
  assert.equal(outcome["closeError"], undefined, "the condition was met and the task ended: dispose is clean");
});
