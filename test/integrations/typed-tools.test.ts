/**
 * Type-checking pipelines over instrumented TypeScript (issue 16), with the real tools on one
 * fixture library (test/fixtures/typed-tools: generics, classes, `this` types and parameters, an
 * accessor pair, a private member): webpack 5 + ts-loader with type checking on, and Jest 30 +
 * ts-jest with diagnostics on behind `diagnose/jest` (CommonJS, and native ESM with `useESM`).
 * Each builds and runs green and a probe switched on at run time fires. Each has a control that
 * shows the checker really looks: the untyped instrumented form fails ts-loader, and a type error
 * in a test file fails ts-jest.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SiteManifest } from "../../abi/manifest-format.js";
import { copyFixture, explain, REPO_ROOT, runNode } from "./helpers.js";

/** Packages the fixture resolves from its own node_modules: links into this repository's. */
const LINKED = ["webpack", "ts-loader", "ts-jest", "jest", "typescript", "@jest", "@types"];

describe("type-checking pipelines over instrumented TypeScript", { timeout: 240_000 }, () => {
  let project: { dir: string; remove(): void };

  before(() => {
    project = copyFixture("typed-tools");
    const modules = join(project.dir, "node_modules");
    mkdirSync(modules);
    symlinkSync(REPO_ROOT, join(modules, "diagnose"), "dir");
    for (const name of LINKED) symlinkSync(join(REPO_ROOT, "node_modules", name), join(modules, name), "dir");
  });

  after(() => project?.remove());

  const jest = (config: string, env: Record<string, string> = {}) =>
    runNode(
      [
        ...(env["EXPECTED_FORMAT"] === "module" ? ["--experimental-vm-modules", "--no-warnings"] : []),
        join("node_modules", "jest", "bin", "jest.js"),
        "--ci",
        "--colors=false",
        "--config",
        config,
        "--cacheDirectory",
        join(project.dir, "out", `cache-${config}`),
      ],
      project.dir,
      env,
    );

  it("webpack + ts-loader (type checking on): the build is clean and a probe switched on at run time fires", () => {
    const build = runNode(["build-webpack.mjs"], project.dir);
    assert.equal(build.status, 0, explain(build));
    const run = runNode(["--enable-source-maps", join("out", "webpack", "main.js")], project.dir);
    assert.equal(run.status, 0, explain(run));
    assert.match(run.stdout, /^results \[7\]$/m, explain(run));
    assert.match(run.stdout, /^library 2 \{"x":1,"y":2\} 2 items$/m, explain(run));
    assert.match(run.stdout, /^sum 3$/m, explain(run));
    const manifest = JSON.parse(readFileSync(join(project.dir, "out", "webpack", "diagnose-sites.json"), "utf8"));
    const names = (manifest as SiteManifest).modules.flatMap((m) => m.functions.map((f) => f.name));
    assert.ok(names.includes("src/collection.ts:Counter.total"), names.join("\n"));
  });

  it("webpack + ts-loader, control: the untyped instrumented form is rejected by the type checker", () => {
    const build = runNode(["build-webpack.mjs"], project.dir, { DIAGNOSE_TYPES: "false" });
    assert.notEqual(build.status, 0, explain(build));
    assert.match(build.stderr, /TS7034: Variable '\$dgE' implicitly has type 'any'/, explain(build));
  });

  it("jest + ts-jest (diagnostics on) behind diagnose/jest: the tests pass and a probe fires", () => {
    const r = jest("jest.config.cjs", { EXPECTED_FORMAT: "commonjs" });
    assert.equal(r.status, 0, explain(r));
    assert.match(r.stderr, /Tests:\s+4 passed, 4 total/, explain(r));
  });

  it("jest native ESM + ts-jest useESM: ES modules with the ESM header, and a probe fires", () => {
    const r = jest("jest.esm.config.cjs", { EXPECTED_FORMAT: "module" });
    assert.equal(r.status, 0, explain(r));
    assert.match(r.stderr, /Tests:\s+4 passed, 4 total/, explain(r));
  });

  it("jest + ts-jest, control: a type error in a test file fails the suite", () => {
    const r = jest("jest.control.config.cjs");
    assert.notEqual(r.status, 0, explain(r));
    // ts-jest colours its diagnostics whatever the terminal.
    const plain = r.stderr.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
    assert.match(plain, /TS2322: Type 'number' is not assignable to type 'string'/, explain(r));
  });
});
