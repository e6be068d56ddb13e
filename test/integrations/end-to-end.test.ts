/**
 * End to end through the loader: a fixture app run with `node --import diagnose/register`
 * imports the runtime (`diagnose`), attaches probes by qualified name and prints what they saw.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { copyFixture, explain, LOADER_MODES, REPO_ROOT, runWithLoader } from "./helpers.js";

const RUNTIME = join(REPO_ROOT, "dist", "runtime", "index.js");

describe("loader + runtime end to end", () => {
  for (const mode of LOADER_MODES) {
    it(`observes probes attached by qualified name (${mode ?? "default API"})`, (t) => {
      if (!existsSync(RUNTIME)) {
        t.skip("the runtime entry (runtime/index.ts) is not built yet");
        return;
      }
      const project = copyFixture("node-loader/probe");
      try {
        // The fixture resolves "diagnose" like an installed package: node_modules/diagnose → repo.
        mkdirSync(join(project.dir, "node_modules"));
        symlinkSync(REPO_ROOT, join(project.dir, "node_modules", "diagnose"), "dir");
        const r = runWithLoader(["src/app.ts"], project.dir, { DIAGNOSE_LOADER: mode });
        assert.equal(r.status, 0, explain(r));
        assert.match(r.stdout, /^total 5$/m);
        assert.match(r.stdout, /^after remove 6$/m);
        const seen = r.stdout.split("\n").filter((l) => l.startsWith("seen "));
        // Argument at the call, a local at line 9, the result at the return; nothing after remove().
        assert.deepEqual(seen, ["seen call [2]", "seen line9 [7]", "seen return [5]"], explain(r));
      } finally {
        project.remove();
      }
    });
  }
});
