/**
 * Keeps the benchmark harness from rotting: runs `dist/benchmarks/run.js --quick` on ONE workload
 * (every variant, each in its own process) and checks the shape of results.json; then runs the
 * fixed-ops child (what the callgrind phase runs) under plain Node. No timing is asserted: the
 * numbers of a test run mean nothing. Both tests write `.tmp/bench/`, so they share this file and
 * run one after the other.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { buildWorkloads } from "../../benchmarks/build-workloads.js";
import { workloadByName } from "../../benchmarks/catalog.js";
import type { FixedOpsConfig, FixedOpsResult } from "../../benchmarks/child.js";
import { instructionVariants, NODE_FLAGS } from "../../benchmarks/instructions.js";
import { buildPath, DEFERRED_COPIES } from "../../benchmarks/paths.js";
import { VARIANTS, variantByName } from "../../benchmarks/variants.js";
import { warmupLadder, type CostsResult, type Ratio } from "../../benchmarks/costs.js";
import { costRows, costsText } from "../../benchmarks/costs-report.js";

const RUN = fileURLToPath(new URL("../../benchmarks/run.js", import.meta.url));
const CHILD = fileURLToPath(new URL("../../benchmarks/child.js", import.meta.url));
const COSTS_CHILD = fileURLToPath(new URL("../../benchmarks/costs-child.js", import.meta.url));

test("npm run bench -- --quick runs one workload end to end and writes results.json", () => {
  const out = mkdtempSync(join(tmpdir(), "diagnose-bench-"));
  try {
    const r = spawnSync(
      process.execPath,
      [RUN, "--quick", "--workload", "micro", "--no-build-side", "--no-scale", "--out", out],
      {
        encoding: "utf8",
        timeout: 180_000,
      },
    );
    assert.equal(r.status, 0, `bench failed:\n${r.stdout}\n${r.stderr}`);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Record<string, unknown> & {
      results: Record<string, unknown>[];
      variants: { name: string }[];
      targets: { target: string; met: unknown }[];
    };
    assert.equal(results["schema"], 2);
    assert.equal(results["mode"], "quick");
    // Propagation: spec changes applied by another real process on the file store.
    const propagation = results["propagation"] as {
      changes: number;
      appliedMs: { p99: number };
      statusMs: { p99: number };
    };
    assert.equal(propagation.changes, 10);
    assert.ok(propagation.appliedMs.p99 > 0 && propagation.statusMs.p99 > 0);
    const mgr = results["manager"] as { applyAllNewMs?: unknown; heapGrowthBytes?: unknown; skipped?: string };
    assert.equal(typeof mgr.applyAllNewMs, "number", `manager benchmark: ${mgr.skipped ?? "no result"}`);
    assert.equal(typeof mgr.heapGrowthBytes, "number");
    assert.equal(results["node"], process.version);
    const names = results.variants.map((v) => v.name);
    for (const v of [
      "plain",
      "untouched",
      "on-off",
      "call-noop",
      "line-2-locals",
      "log-null",
      "histogram-udp",
      "istanbul",
      "shim-off",
      "shim-on",
      "dc-off",
      "dc-on",
      "inspector-bp",
    ]) {
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
      assert.equal((row["roundRatios"] as unknown[]).length, 1, "quick mode is one round");
      assert.equal((row["processMedians"] as unknown[]).length, 1);
      const opt = row["optimization"] as {
        functions: Record<string, { status: string[]; inlinedInto: string[] }>;
        deoptsTotal: number;
      };
      assert.deepEqual(Object.keys(opt.functions).sort(), ["clamp", "op"]);
      assert.ok(opt.functions["op"]!.status.length > 0, "optimization status recorded");
      assert.equal(typeof opt.deoptsTotal, "number");
    }
    const plain = results.results.find((x) => x["variant"] === "plain")!;
    assert.equal(plain["ratioToPlain"], 1);
    const noop = results.results.find((x) => x["variant"] === "call-noop")!;
    assert.equal(noop["hitsPerOp"], 16, "the no-op call probe fires on every call of clamp");
    assert.ok(results.targets.length > 0);
    const instructions = results["instructions"] as { skipped?: string };
    assert.match(instructions.skipped ?? "", /--quick/, "no callgrind phase in --quick without --instructions");
    const safe = results["safeExpressions"] as { cases: { expression: string; ratio: number }[]; errors: string[] };
    assert.deepEqual(
      safe.cases.map((c) => c.expression),
      ["args[0].items.length > 3", "result.id"],
    );
    assert.ok(safe.cases.every((c) => c.ratio > 0) && safe.errors.length === 0);
    assert.ok(readFileSync(join(out, "benchmarks.md"), "utf8").startsWith("# Benchmarks"));
    const bp = results["breakpoints"] as {
      mainThread: Record<string, { medianMs: number; p99Ms: number }>;
      worker: Record<string, { medianMs: number }>;
      failpoint: { controlNs: number; incrNs: number; failpointNs: number };
    };
    for (const l of [
      bp.mainThread["hitToWait"]!,
      bp.mainThread["releaseToResume"]!,
      bp.worker["hitToWait"]!,
      bp.worker["releaseToResume"]!,
    ]) {
      assert.ok(l.medianMs >= 0 && Number.isFinite(l.medianMs), "breakpoint hand-off latency measured");
    }
    assert.ok(bp.failpoint.failpointNs > 0 && bp.failpoint.incrNs > 0, "armed failpoint cost measured");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("the fixed-ops child runs exactly n measured ops after a fixed warm-up, without timing or V8 flags", () => {
  const spec = workloadByName("micro");
  const build = buildWorkloads([spec], () => {}).workloads["micro"]!;
  const dir = mkdtempSync(join(tmpdir(), "diagnose-fixed-ops-"));
  try {
    const runChild = (variant: string, n: number): { result: FixedOpsResult; stdout: string } => {
      const cfg: FixedOpsConfig = {
        workload: "micro",
        variant,
        resultFile: join(dir, `${variant}.${n}.json`),
        udpPort: 0,
        probeLine: build.probeLine,
        entryFile: build.entryFile,
        entryLine: build.entryLine,
        fixedOps: { warm: 50, n },
      };
      // The callgrind phase's flags, without --allow-natives-syntax: fixed-ops mode must not
      // read %GetOptimizationStatus.
      const r = spawnSync(process.execPath, [...NODE_FLAGS, CHILD, JSON.stringify(cfg)], {
        encoding: "utf8",
        timeout: 60_000,
      });
      assert.equal(r.status, 0, `child failed:\n${r.stdout}\n${r.stderr}`);
      return { result: JSON.parse(readFileSync(cfg.resultFile, "utf8")) as FixedOpsResult, stdout: r.stdout };
    };
    const plain = runChild("plain", 200);
    assert.equal(plain.result.workload, "micro");
    assert.equal(plain.result.variant, "plain");
    assert.equal(plain.result.ops, 200);
    // 50 warm ops stand for 500 ms; after the variant's cycle and a full GC, 50 more.
    assert.equal(plain.result.warmOps, 100);
    assert.equal(plain.stdout, "", "no measuring markers or other output");
    // The on→off cycle (200 ms on, 400 ms off) is ops too: 20 + 40 more warm ops, same every run.
    const onOff = runChild("on-off", 200);
    assert.equal(onOff.result.ops, 200);
    assert.equal(onOff.result.warmOps, 160);
    // Zero measured ops is allowed and the measured ops really ran.
    const none = runChild("plain", 0);
    assert.equal(none.result.ops, 0);
    assert.equal(none.result.warmOps, 100);
    assert.notEqual(none.result.checksum, plain.result.checksum);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the deferred variants count the ABI-4 build: no copies in its modules; their on→off cycle evaluates the copy text written aside", () => {
  const build = buildWorkloads([workloadByName("micro")], () => {}).workloads["micro"]!;
  const deferredVariants = ["deferred-untouched", "deferred-on-off"].map(variantByName);
  for (const v of deferredVariants) assert.equal(v.build, "deferred", v.name);
  // Opt-in: neither the default matrix nor the default instruction phase runs them; named, they are counted.
  const defaults = VARIANTS.filter((v) => !v.optIn);
  assert.ok(deferredVariants.every((v) => !defaults.includes(v)));
  assert.deepEqual(instructionVariants(defaults, false), ["plain", "untouched", "on-off"]);
  assert.deepEqual(instructionVariants(deferredVariants, true), ["plain", "deferred-untouched", "deferred-on-off"]);

  // micro's clamp and op are outlined in both builds; only the inline build creates their copies in the module.
  const createsCopies = /\$dgO\d+ = \(\{/;
  const inline = readFileSync(buildPath("diagnose", "bench/micro.ts"), "utf8");
  const deferred = readFileSync(buildPath("deferred", "bench/micro.ts"), "utf8");
  assert.match(inline, createsCopies);
  assert.match(inline, /\babi: 3,/);
  assert.doesNotMatch(deferred, createsCopies);
  assert.match(deferred, /\babi: 4,/);
  const hash = /\bc: "([0-9a-f]{64})"/.exec(deferred)?.[1];
  assert.ok(hash !== undefined, "the deferred table names its copy text");
  const copyFile = join(DEFERRED_COPIES, `${hash}.js`);
  const text = readFileSync(copyFile, "utf8");
  assert.equal(createHash("sha256").update(text).digest("hex"), hash, "the table names the text that runs (stripped)");
  assert.match(text, createsCopies);

  const dir = mkdtempSync(join(tmpdir(), "diagnose-deferred-"));
  const runChild = (variant: string) => {
    const cfg: FixedOpsConfig = {
      workload: "micro",
      variant,
      resultFile: join(dir, `${variant}.json`),
      udpPort: 0,
      probeLine: build.probeLine,
      entryFile: build.entryFile,
      entryLine: build.entryLine,
      fixedOps: { warm: 50, n: 20 },
    };
    return spawnSync(process.execPath, [...NODE_FLAGS, CHILD, JSON.stringify(cfg)], {
      encoding: "utf8",
      timeout: 60_000,
    });
  };
  try {
    for (const v of deferredVariants) {
      const r = runChild(v.name);
      assert.equal(r.status, 0, `${v.name} failed:\n${r.stderr}`);
    }
    // Without the text the probe cannot switch on: the cycle really made the copies from that file.
    renameSync(copyFile, `${copyFile}.aside`);
    try {
      const r = runChild("deferred-on-off");
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /CopiesUnavailableError/);
      assert.equal(runChild("deferred-untouched").status, 0, "never switched on, the copies are never needed");
    } finally {
      renameSync(`${copyFile}.aside`, copyFile);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--quick runs the costs phases on a third-party workload (@lezer/markdown) and reports them against plain", () => {
  const out = mkdtempSync(join(tmpdir(), "diagnose-bench-costs-"));
  try {
    const off = [
      "--no-matrix",
      "--no-build-side",
      "--no-scale",
      "--no-breakpoints",
      "--no-propagation",
      "--no-manager",
      "--no-safe-expr",
    ];
    const r = spawnSync(process.execPath, [RUN, "--quick", "--workload", "markdown", ...off, "--out", out], {
      encoding: "utf8",
      timeout: 240_000,
    });
    assert.equal(r.status, 0, `bench failed:\n${r.stdout}\n${r.stderr}`);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as { costs: CostsResult };
    const c = results.costs;
    assert.ok(!("skipped" in c.perHit), "per hit measured");
    const space = c.perHit.find((m) => m.target === "src/markdown.ts:space");
    assert.ok(space !== undefined && space.error === undefined, `space: ${space?.error ?? "missing"}`);
    // Each op of the loop-driven measure is 1,000 calls, and the no-op probe saw every one.
    assert.equal(space.hitsPerOp, 1000);
    assert.equal(typeof space.nsPerHit, "number");
    const scan = c.perHit.find((m) => m.target === "src/markdown.ts:BlockContext.scanLine");
    assert.ok(
      scan !== undefined && scan.hitsPerOp !== null && scan.hitsPerOp > 10,
      "scanLine fires per line of a parse",
    );
    assert.ok(!("skipped" in c.size) && !("skipped" in c.heap));
    const size = c.size.find((s) => s.workload === "markdown")!;
    assert.ok(
      size.raw.plain > 50_000 && size.raw.ratio > 1 && size.gzip.ratio > 1,
      "instrumented output is larger than plain",
    );
    // Deferred copies: the modules lose their copies (smaller than inline, still above plain),
    // and the copy text they name is counted apart, from the cache files.
    assert.ok(size.raw.plain < size.raw.deferred && size.raw.deferred < size.raw.diagnose, "deferred modules");
    assert.equal(size.raw.deferredRatio, size.raw.deferred / size.raw.plain);
    assert.ok(size.copies.raw > 10_000 && size.copies.gzip > 0, "the copy text the deferred modules name");
    const heap = c.heap.find((h) => h.workload === "markdown")!;
    assert.ok(heap.bytes.plain > 0 && heap.bytes.diagnose > 0 && heap.bytes.deferred > 0 && heap.processes === 3);
    assert.ok(
      "skipped" in c.warmup && /--quick/.test(c.warmup.skipped),
      "no callgrind warm-up curve in --quick without --warmup",
    );
    assert.ok("skipped" in c.coldStart && /library/.test(c.coldStart.skipped), "cold start needs the rxjs build");
    const rows = costRows(c, { instrumentVsStrip: null, tspcVsTsc: null });
    assert.equal(rows.length, 8);
    const md = readFileSync(join(out, "benchmarks.md"), "utf8");
    assert.match(md, /## Costs beyond the off state/);
    assert.match(md, /src\/markdown\.ts:space/);
    assert.match(md, /\| workload +\| processes per build +\| plain +\| inline copies +\| deferred copies +\|/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

/** A measure whose inline and deferred builds sit on either side of a goal. */
const split = (plain: number, inline: number, deferred: number): Ratio => ({
  plain,
  diagnose: plain * inline,
  deferred: plain * deferred,
  ratio: inline,
  deferredRatio: deferred,
});

test("the issue-15 table judges size, heap, warm-up and cold start on the loader's default (deferred copies), inline named beside", () => {
  const costs = (inline: number, deferred: number): CostsResult => ({
    perHit: { skipped: "not in this test" },
    size: [
      {
        workload: "markdown",
        raw: split(100, inline, deferred),
        gzip: split(50, inline, deferred),
        copies: { raw: 30, gzip: 10 },
      },
    ],
    heap: [{ workload: "markdown", processes: 3, bytes: split(1000, inline, deferred) }],
    warmup: {
      tool: "valgrind",
      measures: [
        {
          workload: "markdown",
          buckets: [{ from: 0, to: 100, steady: false, ...split(10, inline, deferred) }],
          firstHundredOverSteady: { plain: 2, diagnose: 2, deferred: 2 },
          firstHundredRatio: inline,
          firstHundredDeferredRatio: deferred,
          errors: [],
        },
      ],
    },
    coldStart: {
      graph: "g",
      modules: 2,
      processes: 3,
      loadAndFirstCallMs: split(100, inline, deferred),
      processMs: split(200, inline, deferred),
    },
  });
  const judged = ["output size", "heap", "warm-up", "cold start"];
  const rowsOf = (inline: number, deferred: number) =>
    costRows(costs(inline, deferred), { instrumentVsStrip: null, tspcVsTsc: null }).filter((r) =>
      judged.some((j) => r.measure.startsWith(j)),
    );
  const good = rowsOf(3, 1.01);
  assert.equal(good.length, 4);
  for (const r of good) {
    assert.equal(r.met, true, `${r.measure}: met on deferred copies though inline is not`);
    assert.match(r.now, /^1\.01×.*\(inline 3\.00×/, r.measure);
  }
  for (const r of rowsOf(1.01, 3)) assert.equal(r.met, false, `${r.measure}: not met on deferred copies`);
  const text = costsText(costs(3, 1.01), { instrumentVsStrip: null, tspcVsTsc: null });
  assert.match(text, /\| deferred copies \| copy text \(cache files\) \|/);
  assert.match(text, /inline 3\.00×, deferred 1\.01×/);
});

test("the costs child's ops mode runs ops up to its last mark in a built workload (what the warm-up curve counts)", () => {
  buildWorkloads([workloadByName("markdown")], () => {});
  const dir = mkdtempSync(join(tmpdir(), "diagnose-costs-ops-"));
  try {
    const { edges, steady } = warmupLadder(true, 20);
    assert.deepEqual(edges, [0, 10, 100]);
    assert.deepEqual(steady, [100, 120]);
    assert.deepEqual(warmupLadder(false, 200, 1_000).steady, [1_000, 1_200]);
    for (const n of [0, 3]) {
      const resultFile = join(dir, `ops.${n}.json`);
      const cfg = { resultFile, module: buildPath("diagnose", "bench/markdown.ts"), marks: [0, n] };
      const r = spawnSync(process.execPath, [...NODE_FLAGS, COSTS_CHILD, "ops", JSON.stringify(cfg)], {
        encoding: "utf8",
        timeout: 60_000,
      });
      assert.equal(r.status, 0, `child failed:\n${r.stderr}`);
      assert.equal((JSON.parse(readFileSync(resultFile, "utf8")) as { n: number }).n, n);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
