/**
 * Instructions per operation, counted by callgrind — the deterministic companion of the timed
 * matrix. On a shared 2-core machine the same build's processes differ by up to 1.5× in time,
 * while the number of instructions an op executes does not depend on the neighbours, provided V8
 * makes no decision by the clock or by chance:
 *
 * - `--predictable`: no background compiler or GC threads;
 * - `--predictable-gc-schedule`: fixed 4 MB semi-spaces and heap growth, instead of growth tuned
 *   by measured GC and allocation speeds (bytes per ms) that under valgrind are neither
 *   repeatable nor those of a real run. Without it, runs of one config were seen 431,000
 *   instructions apart (0.6% of the classes workload's measured ops);
 * - `--no-allocation-site-pretenuring`: whether V8 starts allocating an allocation site's objects
 *   in the old generation depends on how many of them a scavenge finds alive — on where the
 *   scavenge falls inside an op. On the chevrotain lexer that flipped from run to run: 464,000 or
 *   805,000 instructions per op for one config (pretenured token arrays are then collected by
 *   mark-compacts). Off, six runs were within 0.06%;
 * - `--expose-gc`: the child collects fully just before the measured ops, so they start from the
 *   same old generation (when incremental marking and its write barriers turn on depends on it).
 *
 * The flags are part of what is counted (classes measured 1.12× plain without the GC schedule
 * flag and 1.21× with it), so compare instruction ratios only between runs with the same flags.
 *
 * Per (workload, variant) one run of the fixed-ops child (child.ts) under
 *
 *   valgrind --tool=callgrind --dump-before=uv_get_constrained_memory \
 *     node <the flags above> child.js '<config>'
 *
 * The child runs `warm` ops, the variant's on→off cycle, a full GC and `warm` ops again, in 200
 * calls of its op loop (child.ts says why), then marks, runs the `n` measured ops and marks again;
 * callgrind-marks.ts reads the instructions between the marks.
 * instructions/op = that / n. Start-up and module loading are not in it, so they cannot add noise
 * (they did when this subtracted two processes: see callgrind-marks.ts). Two runs go at a time
 * (instruction counts are not affected by load). What this cannot see: cache misses, branch
 * mispredictions, memory stalls — an instruction is not a nanosecond — which is why the timed
 * ratios stay.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildManifest } from "./build-workloads.js";
import { countMarked, MARK_FUNCTION } from "./callgrind-marks.js";
import type { WorkloadSpec } from "./catalog.js";
import type { FixedOpsConfig, FixedOpsResult } from "./child.js";
import { WORK } from "./paths.js";
import type { Variant } from "./variants.js";

/** Variants counted by default: the baseline and the two off states the bars are about. */
export const INSTRUCTION_VARIANTS = ["plain", "untouched", "on-off"] as const;
/**
 * Variants that may be counted when asked for with --variant. The others need an event loop that
 * turns (UDP, inspector) or a probe that is on, whose cost per hit the timed matrix already shows
 * far above any noise; istanbul and the deferred-copies build (site ABI 4, opt-in) are left out by
 * default only to keep the phase short.
 */
export const COUNTABLE_VARIANTS = [
  ...INSTRUCTION_VARIANTS,
  "deferred-untouched",
  "deferred-on-off",
  "istanbul",
  "shim-off",
  "dc-off",
] as const;

/** Runs at a time: one per core of the 2-core machine the suite was written on. */
const PARALLEL = 2;
/**
 * A bound for a hung run, not a budget: markdown's 3,000 + 3,000 ops took over 300 s a run while
 * other work loaded the 2-core machine (load ~11), and were killed at 5 minutes.
 */
const RUN_TIMEOUT_MS = 900_000;

export interface InstructionResult {
  readonly workload: string;
  readonly variant: string;
  /** Instructions between the marks around the n measured ops, ÷ n; NaN when the run failed. */
  readonly instructionsPerOp: number;
  /** instructionsPerOp ÷ plain's, same workload. */
  readonly ratioToPlain: number;
  /** Op counts: `warm` warm-up ops (before the variant's cycle), `n` measured ops. */
  readonly ops: { readonly warm: number; readonly n: number };
  /** Instructions of the n measured ops, and of the whole run. */
  readonly collected: { readonly measured: number | null; readonly run: number | null };
  readonly errors: string[];
}

export interface InstructionsSection {
  readonly tool: string;
  readonly command: string;
  readonly seconds: number;
  readonly results: InstructionResult[];
}

const CHILD = join(fileURLToPath(new URL(".", import.meta.url)), "child.js");
/** Node flags of the counted runs (see the header: no decision by the clock or by chance). */
export const NODE_FLAGS = [
  "--predictable",
  "--predictable-gc-schedule",
  "--no-allocation-site-pretenuring",
  "--expose-gc",
];

/** `valgrind-3.19.0`, or undefined when valgrind is not on PATH. */
export function valgrindVersion(): string | undefined {
  const r = spawnSync("valgrind", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The total from callgrind's closing summary (`==123== Collected : 766767109`). */
export function parseCollected(stderr: string): number | undefined {
  const m = /^==\d+== Collected : (\d+)\s*$/m.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

interface Count {
  readonly measured: number | undefined;
  readonly run: number | undefined;
  readonly error: string | undefined;
}

async function countInstructions(cfg: FixedOpsConfig): Promise<Count> {
  const r = await countMarked([...NODE_FLAGS, CHILD, JSON.stringify(cfg)], 2, RUN_TIMEOUT_MS);
  const fail = (why: string): Count => ({ measured: undefined, run: undefined, error: why });
  if ("error" in r) return fail(r.error);
  let result: FixedOpsResult;
  try {
    result = JSON.parse(readFileSync(cfg.resultFile, "utf8")) as FixedOpsResult;
  } catch (e) {
    return fail(`no result: ${String(e)}`);
  }
  // The child must have run exactly the ops asked for between its marks.
  if (result.ops !== cfg.fixedOps.n) return fail(`ran ${result.ops} ops, not ${cfg.fixedOps.n}`);
  return { measured: r.intervals[0], run: r.total, error: undefined };
}

/** Runs `jobs` with at most `limit` at a time, in order of start. */
export async function inParallel<T>(jobs: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

/** The variants to count: the countable ones among those selected, plain always first. */
export function instructionVariants(selected: readonly Variant[], explicit: boolean): string[] {
  const wanted: readonly string[] = explicit ? COUNTABLE_VARIANTS : INSTRUCTION_VARIANTS;
  const names = selected.map((v) => v.name).filter((n) => wanted.includes(n) && n !== "plain");
  return ["plain", ...names];
}

export async function measureInstructions(
  specs: readonly WorkloadSpec[],
  variantNames: readonly string[],
  manifest: BuildManifest,
  log: (line: string) => void,
): Promise<InstructionsSection | string> {
  const version = valgrindVersion();
  if (version === undefined) return "valgrind is not on PATH (install valgrind to count instructions)";
  const started = performance.now();
  const dir = join(WORK, "instructions");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  const pairs = specs.flatMap((spec) => variantNames.map((variant) => ({ spec, variant })));
  let done = 0;
  const jobs = pairs.map(({ spec, variant }) => async (): Promise<Count> => {
    const build = manifest.workloads[spec.name]!;
    const n = spec.instructionOps;
    const cfg: FixedOpsConfig = {
      workload: spec.name,
      variant,
      resultFile: join(dir, `${spec.name}.${variant}.json`),
      udpPort: 0,
      probeLine: build.probeLine,
      entryFile: build.entryFile,
      entryLine: build.entryLine,
      fixedOps: { warm: spec.instructionOps, n },
    };
    const count = await countInstructions(cfg);
    done++;
    const what =
      count.measured === undefined
        ? `failed (${count.error})`
        : `${Math.round(count.measured / n).toLocaleString("en-US")} instructions per op`;
    log(`  [${done}/${pairs.length}] ${spec.name} / ${variant}, ${n} measured ops: ${what}`);
    return count;
  });
  log(`instructions: ${pairs.length} callgrind runs, ${PARALLEL} at a time (${version})`);
  const counts = await inParallel(jobs, PARALLEL);

  const perOp = pairs.map(({ spec }, i) => {
    const c = counts[i]!;
    return c.measured === undefined ? NaN : c.measured / spec.instructionOps;
  });
  const results = pairs.map(({ spec, variant }, i): InstructionResult => {
    const c = counts[i]!;
    const plainIndex = pairs.findIndex((p) => p.spec === spec && p.variant === "plain");
    const plain = plainIndex < 0 ? NaN : perOp[plainIndex]!;
    return {
      workload: spec.name,
      variant,
      instructionsPerOp: perOp[i]!,
      ratioToPlain: perOp[i]! / plain,
      ops: { warm: spec.instructionOps, n: spec.instructionOps },
      collected: { measured: c.measured ?? null, run: c.run ?? null },
      errors: c.error === undefined ? [] : [c.error],
    };
  });
  return {
    tool: version,
    command: `valgrind --tool=callgrind --dump-before=${MARK_FUNCTION} node ${NODE_FLAGS.join(" ")} dist/benchmarks/child.js '<fixed-ops config>'`,
    seconds: (performance.now() - started) / 1000,
    results,
  };
}
