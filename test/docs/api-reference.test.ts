/**
 * The generated API reference (docs/api, scripts/api-reference.ts) is current: `--check` passes on
 * the committed pages, and fails, naming the page, when one is edited, missing or left over.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { explain, REPO_ROOT, runNode, tempDir } from "../integrations/helpers.js";

const SCRIPT = join(REPO_ROOT, "dist", "scripts", "api-reference.js");

describe("API reference (docs/api)", { timeout: 120_000 }, () => {
  const temp = tempDir("api-reference");
  after(() => temp.remove());

  it("is current: npm run docs:api would change nothing", () => {
    const r = runNode([SCRIPT, "--check"], REPO_ROOT);
    assert.equal(r.status, 0, explain(r));
  });

  it("names every export of an entry point with its summary", () => {
    const page = readFileSync(join(REPO_ROOT, "docs", "api", "diagnose-jest.md"), "utf8");
    assert.match(page, /^## `createTransformer` \(function\)$/m);
    assert.match(page, /Makes a transformer; Jest calls this/);
    assert.match(readFileSync(join(REPO_ROOT, "docs", "api", "README.md"), "utf8"), /\[`diagnose\/opentelemetry`\]/);
  });

  it("--check fails on an edited, a missing and a left-over page, naming each", () => {
    const written = runNode([SCRIPT, "--out", temp.dir], REPO_ROOT);
    assert.equal(written.status, 0, explain(written));
    assert.equal(runNode([SCRIPT, "--check", "--out", temp.dir], REPO_ROOT).status, 0);
    writeFileSync(join(temp.dir, "diagnose-pino.md"), "# edited\n");
    rmSync(join(temp.dir, "diagnose-winston.md"));
    writeFileSync(join(temp.dir, "diagnose-gone.md"), "# an entry point that no longer exists\n");
    const r = runNode([SCRIPT, "--check", "--out", temp.dir], REPO_ROOT);
    assert.equal(r.status, 1, explain(r));
    assert.match(r.stderr, /diagnose-pino\.md/, explain(r));
    assert.match(r.stderr, /diagnose-winston\.md/, explain(r));
    assert.match(r.stderr, /diagnose-gone\.md \(no longer generated\)/, explain(r));
  });
});
