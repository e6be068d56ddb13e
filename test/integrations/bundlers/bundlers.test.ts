/**
 * The bundler plugins and the Jest transformer, each run with the real tool on one fixture app
 * (test/fixtures/bundlers/app): the app built by Vite, esbuild, webpack, Rollup and Rolldown runs
 * under Node with a probe switched on at run time, its thrown error's stack names the `.ts` line,
 * and the manifest the plugin wrote equals the Node loader's for the same sources. Vitest and Jest
 * run the fixture's own tests, which attach probes and assert they fired.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SiteManifest } from "../../../abi/manifest-format.js";
import { copyFixture, explain, REPO_ROOT, runNode, runWithLoader } from "../helpers.js";

/** Packages the fixture resolves from its own node_modules: links into this repository's. */
const LINKED = ["vite", "vitest", "esbuild", "webpack", "rollup", "rolldown", "jest", "@swc"];

/** Tool → the file its build writes (Rollup and webpack write CommonJS). */
const BUILDS: Record<string, string> = {
  vite: "main.js",
  esbuild: "main.js",
  webpack: "main.cjs",
  rollup: "main.cjs",
  rolldown: "main.js",
};

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

describe("bundler plugins and the Jest transformer, with the real tools", { timeout: 240_000 }, () => {
  let project: { dir: string; remove(): void };
  let loaderManifest: SiteManifest;

  before(() => {
    project = copyFixture("bundlers/app");
    const modules = join(project.dir, "node_modules");
    mkdirSync(modules);
    // "diagnose" resolves like an installed package: node_modules/diagnose → this repository.
    symlinkSync(REPO_ROOT, join(modules, "diagnose"), "dir");
    for (const name of LINKED) symlinkSync(join(REPO_ROOT, "node_modules", name), join(modules, name), "dir");
    const r = runWithLoader(["--enable-source-maps", "src/main.ts"], project.dir, {
      DIAGNOSE_MANIFEST: "out/loader/diagnose-sites.json",
    });
    assert.equal(r.status, 0, explain(r));
    assert.match(r.stdout, /^results \[7\]$/m, explain(r));
    loaderManifest = readJson(join(project.dir, "out/loader/diagnose-sites.json"));
    assert.deepEqual(
      loaderManifest.modules.map((m) => m.module),
      ["src/cart.ts", "src/main.ts"],
    );
  });

  after(() => project?.remove());

  for (const [tool, output] of Object.entries(BUILDS)) {
    it(`${tool}: the built app's probe fires, its stack names the .ts line, its sites are the loader's`, () => {
      const build = runNode(["build.mjs", tool], project.dir);
      assert.equal(build.status, 0, explain(build));
      const file = join(project.dir, "out", tool, output);
      assert.ok(existsSync(file), `${tool} wrote no ${output}\n${explain(build)}`);
      // The header's flag definer is bundled, not left to the runtime as an import of a data: URL.
      assert.doesNotMatch(readFileSync(file, "utf8"), /(?:import|require\()\s*["']data:/);

      const run = runNode(["--enable-source-maps", file], project.dir);
      assert.equal(run.status, 0, explain(run));
      // Switched on for one of three calls: one result seen.
      assert.match(run.stdout, /^results \[7\]$/m, explain(run));
      assert.match(run.stdout, /^thrown at at checkout \(.*src\/cart\.ts:19:\d+\)$/m, explain(run));

      const manifest = readJson<SiteManifest>(join(project.dir, "out", tool, "diagnose-sites.json"));
      assert.deepEqual(manifest, loaderManifest);
    });
  }

  it("vitest: the fixture's tests attach a probe that fires, and stacks name the .ts line", () => {
    const r = runNode([join("node_modules", "vitest", "vitest.mjs"), "run", "--color=false"], project.dir, {
      NO_COLOR: "1",
    });
    assert.equal(r.status, 0, explain(r));
    assert.match(r.stdout, /Tests\s+2 passed \(2\)/, explain(r));
    const manifest = readJson<SiteManifest>(join(project.dir, "out", "vitest", "diagnose-sites.json"));
    const cart = manifest.modules.find((m) => m.module === "src/cart.ts");
    assert.deepEqual(
      cart,
      loaderManifest.modules.find((m) => m.module === "src/cart.ts"),
    );
  });

  for (const format of ["commonjs", "module"] as const) {
    const esm = format === "module";
    it(`jest (${esm ? "native ESM, the ESM header" : "CommonJS, the CommonJS header"}): probes attached in the test file and in a setup file fire`, () => {
      const r = runNode(
        [
          ...(esm ? ["--experimental-vm-modules", "--no-warnings"] : []),
          join("node_modules", "jest", "bin", "jest.js"),
          "--ci",
          "--colors=false",
          "--config",
          esm ? "jest.esm.config.cjs" : "jest.config.cjs",
          "--cacheDirectory",
          join(project.dir, "out", `jest-cache-${format}`),
        ],
        project.dir,
        { EXPECTED_FORMAT: format },
      );
      assert.equal(r.status, 0, explain(r));
      assert.match(r.stderr, /Tests:\s+4 passed, 4 total/, explain(r));
    });
  }
});
