/**
 * exit-guard.ts, run as the suite runs it: a real `node --test --import` on two files of its own,
 * one that leaves an interval running after its test and one that closes everything.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { makeTempFolder } from "./temp.js";

const GUARD = fileURLToPath(new URL("./exit-guard.js", import.meta.url));

test("a file still holding a handle after its last test fails, naming it; a clean file passes at once", () => {
  const dir = makeTempFolder("exit-guard");
  const leak = join(dir, "leak.test.mjs");
  const clean = join(dir, "clean.test.mjs");
  writeFileSync(
    leak,
    `import { test } from "node:test";\ntest("leaves an interval", () => { setInterval(() => {}, 1000); });\n`,
  );
  writeFileSync(
    clean,
    `import { test } from "node:test";\ntest("closes what it opens", () => { clearInterval(setInterval(() => {}, 1000)); });\n`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, DIAGNOSE_TEST_EXIT_GRACE_MS: "300" };
  delete env["NODE_TEST_CONTEXT"];
  const run = (file: string) =>
    spawnSync(process.execPath, ["--test", "--test-reporter=tap", "--import", GUARD, file], {
      encoding: "utf8",
      env,
      timeout: 60_000,
    });

  const leaked = run(leak);
  assert.notEqual(leaked.signal, "SIGTERM", "the runner was still waiting on the leaking file");
  assert.equal(leaked.status, 1, leaked.stdout);
  assert.match(
    leaked.stdout + leaked.stderr,
    /exit guard: .*leak\.test\.mjs still has handles open 0\.3 s after its last test: .*Timeout/,
  );

  const ok = run(clean);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.doesNotMatch(ok.stdout + ok.stderr, /exit guard/);
});
