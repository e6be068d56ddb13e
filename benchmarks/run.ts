/**
 * `npm run bench` — the benchmark suite (issue 4). Builds the workloads, runs every (workload,
 * variant) pair in its own timed process, counts instructions per op under callgrind, measures
 * the build side and scale, prints the ratio tables and writes results.json and the Markdown
 * report.
 *
 *   npm run bench                      full suite (~15 min) → benchmarks/results.json, docs/benchmarks.md
 *   npm run bench -- --quick           smoke run (under a minute)  → .tmp/bench/quick/
 *   options: --workload micro,handler  --variant plain,untouched  --out DIR
 *            --no-<phase> / --<phase> / --only a,b   (the phase table is in phases.ts)
 *
 * The instruction-count phase (instructions.ts, callgrind) runs in the full suite and not in
 * --quick unless --instructions is given; without valgrind on PATH it is skipped with the reason.
 *
 * Nothing here asserts a threshold: targets are reported (met / not met), never enforced.
 */
import { join } from "node:path";
import { buildWorkloads } from "./build-workloads.js";
import { instructionVariants, measureInstructions } from "./instructions.js";
import { measureBuildSide } from "./build-side.js";
import { measureBreakpoints } from "./breakpoints.js";
import { WORKLOADS, workloadByName } from "./catalog.js";
import { runMatrix, type TimingConfig } from "./matrix.js";
import { DOC, RESULTS_JSON, WORK } from "./paths.js";
import { describe, environment, printSummary, writeOutputs, type Results } from "./report.js";
import { measureManager } from "./manager.js";
import { measureFleet } from "./fleet.js";
import { measureSafeExpressions } from "./safe-expression.js";
import { measureBudgets } from "./budgets.js";
import { measureBudgetThroughput } from "./budget-throughput.js";
import { measureScale } from "./scale.js";
import { measurePropagation } from "./propagation.js";
import { measureTransformerLimits } from "./transformer-limits.js";
import { checkTargets } from "./targets.js";
import { measureCosts } from "./costs.js";
import { listenUdp } from "./udp-listener.js";
import { VARIANTS, variantByName } from "./variants.js";
import { PhaseSelection, usage } from "./phases.js";

interface Options {
  quick: boolean;
  workloads: string[] | undefined;
  variants: string[] | undefined;
  out: string | undefined;
  phases: PhaseSelection;
}

function parseArgs(argv: readonly string[]): Options {
  const quick = argv.includes("--quick");
  const o: Options = {
    quick,
    workloads: undefined,
    variants: undefined,
    out: undefined,
    phases: new PhaseSelection(quick),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--quick") continue;
    if (a === "--workload" || a === "--workloads") o.workloads = value().split(",");
    else if (a === "--variant" || a === "--variants") o.variants = value().split(",");
    else if (a === "--out") o.out = value();
    else if (a === "--only") o.phases.only(value().split(","));
    else if (!o.phases.apply(a))
      throw new Error(`Unknown option ${a}. Options: --quick, --workload a,b, --variant a,b, --out DIR. ${usage()}`);
  }
  return o;
}

// Five rounds: the ratios are medians of per-round pairs (paired.ts), and five pairs give a
// median that one disturbed round cannot move. The warm-up is shorter than it was with three
// rounds (500 ms) to keep the timed phase near six minutes (~0.9 s a process, 390 processes).
const FULL: TimingConfig = { rounds: 5, warmupMs: 300, samples: 5, sampleMs: 40 };
const QUICK: TimingConfig = { rounds: 1, warmupMs: 120, samples: 3, sampleMs: 15 };

async function main(): Promise<void> {
  const started = performance.now();
  const opts = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stdout.write(line + "\n");
  const timing = opts.quick ? QUICK : FULL;
  let specs = opts.workloads ? opts.workloads.map(workloadByName) : [...WORKLOADS];
  const variants = opts.variants ? opts.variants.map(variantByName) : VARIANTS.filter((v) => !v.optIn);
  if (!variants.some((v) => v.name === "plain")) variants.unshift(variantByName("plain"));

  const manifest = buildWorkloads(specs, log);
  for (const [lib, why] of Object.entries(manifest.missing)) log(`skipping workloads that need ${lib}: ${why}`);
  specs = specs.filter((s) => manifest.workloads[s.name] !== undefined);

  const udp = await listenUdp();
  log(
    `running ${specs.length} workloads × ${variants.length} variants × ${timing.rounds} round(s), each in its own process (${process.execPath})`,
  );
  const on = (phase: string): boolean => opts.phases.has(phase);
  const skip = (phase: string): string => opts.phases.skipped(phase, opts.quick);
  const results = on("matrix") ? await runMatrix(specs, variants, manifest, timing, udp, log) : [];
  await new Promise((r) => setTimeout(r, 100));
  const received = udp.received();
  await udp.close();

  // After the timed matrix, never alongside it: two callgrind runs keep both cores busy.
  const instructions = on("instructions")
    ? await measureInstructions(specs, instructionVariants(variants, opts.variants !== undefined), manifest, log)
    : skip("instructions");

  const buildSide = on("build-side")
    ? measureBuildSide(opts.quick ? 1 : 3, opts.quick ? "internal/util" : undefined, log)
    : skip("build-side");
  // Fewer changes in --quick: each waits for another process to apply it and report.
  const propagation = on("propagation") ? await measurePropagation(opts.quick ? 10 : 50, log) : skip("propagation");
  // Sizes ×4 apart: a linear instrument() keeps the time per function flat across them.
  const limits = on("scale")
    ? measureTransformerLimits(opts.quick ? [500, 2_000, 8_000] : [2_000, 8_000, 32_000], log)
    : undefined;
  const scale = on("scale")
    ? measureScale(opts.quick ? 10_000 : 100_000, opts.quick ? 1_000 : 10_000, log)
    : skip("scale");
  const breakpoints = on("breakpoints") ? await measureBreakpoints(opts.quick ? 200 : 2_000, log) : skip("breakpoints");
  const safeExpressions = on("safe-expr")
    ? await measureSafeExpressions(opts.quick, on("instructions"), log)
    : skip("safe-expr");

  const costs = await measureCosts(
    specs,
    manifest,
    {
      quick: opts.quick,
      perHit: on("per-hit"),
      size: on("size"),
      heap: on("heap"),
      warmup: on("warmup"),
      coldStart: on("cold-start"),
    },
    log,
  );

  const managerResult = on("manager") ? measureManager(opts.quick, log) : skip("manager");
  const fleet = on("fleet") ? await measureFleet(opts.quick, log) : skip("fleet");
  const budgets = on("budgets") ? measureBudgets(opts.quick, log) : skip("budgets");
  const budgetThroughput = on("budget-throughput")
    ? await measureBudgetThroughput(opts.quick, log)
    : skip("budget-throughput");

  const r: Results = {
    schema: 2,
    mode: opts.quick ? "quick" : "full",
    date: new Date().toISOString(),
    ...environment(),
    timing,
    seconds: (performance.now() - started) / 1000,
    ...describe(specs, variants, manifest),
    results,
    instructions: typeof instructions === "string" ? { skipped: instructions } : instructions,
    targets: checkTargets(specs, results, typeof instructions === "string" ? [] : instructions.results),
    buildSide: typeof buildSide === "string" ? { skipped: buildSide } : buildSide,
    scale: typeof scale === "string" ? { skipped: scale } : scale,
    breakpoints: typeof breakpoints === "string" ? { skipped: breakpoints } : breakpoints,
    propagation: typeof propagation === "string" ? { skipped: propagation } : propagation,
    manager: typeof managerResult === "string" ? { skipped: managerResult } : managerResult,
    safeExpressions: typeof safeExpressions === "string" ? { skipped: safeExpressions } : safeExpressions,
    budgets: typeof budgets === "string" ? { skipped: budgets } : budgets,
    budgetThroughput: typeof budgetThroughput === "string" ? { skipped: budgetThroughput } : budgetThroughput,
    ...(limits ? { transformerLimits: limits } : {}),
    fleet: typeof fleet === "string" ? { skipped: fleet } : fleet,
    costs,
    udp: received,
  };
  const outDir = opts.out ?? (opts.quick ? join(WORK, "quick") : undefined);
  const jsonFile = outDir ? join(outDir, "results.json") : RESULTS_JSON;
  const mdFile = outDir ? join(outDir, "benchmarks.md") : DOC;
  writeOutputs(r, jsonFile, mdFile);
  printSummary(r, log);
  log("");
  log(`wrote ${jsonFile} and ${mdFile} (${r.seconds.toFixed(0)} s)`);
  const failed = results.filter((x) => x.errors.length > 0);
  const failedCounts = typeof instructions === "string" ? [] : instructions.results.filter((x) => x.errors.length > 0);
  if (failed.length + failedCounts.length > 0) {
    log(`${failed.length + failedCounts.length} pair(s) had failing processes:`);
    for (const f of failed) log(`  ${f.workload} / ${f.variant}: ${f.errors.join("; ")}`);
    for (const f of failedCounts) log(`  ${f.workload} / ${f.variant} (callgrind): ${f.errors.join("; ")}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
