/**
 * Keeps the benchmark harness from rotting: runs `dist/benchmarks/run.js --quick` on ONE workload
 * (every variant, each in its own process) and checks the shape of results.json. No timing is
 * asserted: the numbers of a test run mean nothing.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const RUN = fileURLToPath(new URL("../../benchmarks/run.js", import.meta.url));

test("npm run bench -- --quick runs one workload end to end and writes results.json", () => {
  const out = mkdtempSync(join(tmpdir(), "diagnose-bench-"));
  try {
    const r = spawnSync(process.execPath, [RUN, "--quick", "--workload", "micro", "--no-build-side", "--no-scale", "--out", out], {
      encoding: "utf8",
      timeout: 180_000,
    });
    assert.equal(r.status, 0, `bench failed:\n${r.stdout}\n${r.stderr}`);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Record<string, unknown> & {
      results: Record<string, unknown>[];
      variants: { name: string }[];
      targets: { target: string; met: unknown }[];
    };
    assert.equal(results["schema"], 1);
    assert.equal(results["mode"], "quick");
    assert.equal(results["node"], process.version);
    const names = results.variants.map((v) => v.name);
    for (const v of ["plain", "untouched", "on-off", "call-noop", "line-2-locals", "log-null", "histogram-udp", "istanbul", "shim-off", "shim-on", "dc-off", "dc-on", "inspector-bp"]) {
      assert.ok(names.includes(v), `variant ${v} missing`);
    }
    assert.equal(results.results.length, names.length);
    for (const row of results.results) {
      assert.equal(row["workload"], "micro");
      assert.deepEqual(row["errors"], [], `${String(row["variant"])} failed`);
      const ns = row["nsPerOp"] as Record<string, number>;
      for (const k of ["median", "min", "max", "iqrPct", "n"]) assert.equal(typeof ns[k], "number", `nsPerOp.${k}`);
      assert.ok(ns["median"]! > 0);
      assert.equal(typeof row["ratioToPlain"], "number");
      const opt = row["optimization"] as { functions: Record<string, { status: string[]; inlinedInto: string[] }>; deoptsTotal: number };
      assert.deepEqual(Object.keys(opt.functions).sort(), ["clamp", "op"]);
      assert.ok(opt.functions["op"]!.status.length > 0, "optimization status recorded");
      assert.equal(typeof opt.deoptsTotal, "number");
    }
    const plain = results.results.find((x) => x["variant"] === "plain")!;
    assert.equal(plain["ratioToPlain"], 1);
    const noop = results.results.find((x) => x["variant"] === "call-noop")!;
    assert.equal(noop["hitsPerOp"], 16, "the no-op call probe fires on every call of clamp");
    assert.ok(results.targets.length > 0);
    assert.ok(readFileSync(join(out, "benchmarks.md"), "utf8").startsWith("# Benchmarks"));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
