/**
 * Instructions per operation, counted by callgrind — the deterministic companion of the timed
 * matrix. On a shared 2-core machine the same build's processes differ by up to 1.5× in time,
 * while the number of instructions an op executes does not depend on the neighbours, provided V8
 * makes no decision by the clock: `--predictable` (no background compiler or GC threads) and
 * `--predictable-gc-schedule` (fixed 4 MB semi-spaces and heap growth, instead of growth tuned
 * by measured GC and allocation speeds in bytes per ms — speeds that under valgrind are neither
 * repeatable nor those of a real run). Without the second flag, runs of one config were seen
 * 431,000 instructions apart (0.6% of the classes workload's measured ops); with it, ~10,000.
 * The GC schedule is part of what is counted: classes measured 1.12× plain without the flag and
 * 1.21× with it (plain 3,566 → 3,184 instructions/op, untouched 3,991 → 3,860), so compare
 * instruction ratios only between runs with the same flags.
 *
 * Per (workload, variant) two runs of the fixed-ops child (child.ts) under
 *
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *     node --predictable --predictable-gc-schedule child.js '<config>'
 *
 * identical except for the measured ops: I(warm + n ops) and I(warm + 0 ops). Start-up, module
 * loading, warm-up and the variant's on→off cycle are the same in both and cancel:
 * instructions/op = (I₁ − I₀) / n. Two runs go at a time (instruction counts are not affected
 * by load). What this cannot see: cache misses, branch mispredictions, memory stalls — an
 * instruction is not a nanosecond — which is why the timed ratios stay.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildManifest } from "./build-workloads.js";
import type { WorkloadSpec } from "./catalog.js";
import type { FixedOpsConfig, FixedOpsResult } from "./child.js";
import { WORK } from "./paths.js";
import type { Variant } from "./variants.js";

/** Variants counted by default: the baseline and the two off states the bars are about. */
export const INSTRUCTION_VARIANTS = ["plain", "untouched", "on-off"] as const;
/**
 * Variants that may be counted when asked for with --variant. The others need an event loop that
 * turns (UDP, inspector) or a probe that is on, whose cost per hit the timed matrix already shows
 * far above any noise; istanbul is left out by default only to keep the phase short.
 */
export const COUNTABLE_VARIANTS = [...INSTRUCTION_VARIANTS, "istanbul", "shim-off", "dc-off"] as const;

/** Runs at a time: one per core of the 2-core machine the suite was written on. */
const PARALLEL = 2;
const RUN_TIMEOUT_MS = 300_000;

export interface InstructionResult {
  readonly workload: string;
  readonly variant: string;
  /** (collected with n ops − collected with 0 ops) / n; NaN when a run failed. */
  readonly instructionsPerOp: number;
  /** instructionsPerOp ÷ plain's, same workload. */
  readonly ratioToPlain: number;
  /** Op counts: `warm` warm-up ops (before the variant's cycle), `n` measured ops. */
  readonly ops: { readonly warm: number; readonly n: number };
  /** Total instructions callgrind collected in each of the two runs. */
  readonly collected: { readonly withOps: number | null; readonly withoutOps: number | null };
  readonly errors: string[];
}

export interface InstructionsSection {
  readonly tool: string;
  readonly command: string;
  readonly seconds: number;
  readonly results: InstructionResult[];
}

const CHILD = join(fileURLToPath(new URL(".", import.meta.url)), "child.js");
const VALGRIND_ARGS = ["--tool=callgrind", "--callgrind-out-file=/dev/null"];
/** Node flags of the counted runs (see the header: no decision by the clock). */
export const NODE_FLAGS = ["--predictable", "--predictable-gc-schedule"];

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
  readonly collected: number | undefined;
  readonly error: string | undefined;
}

function countInstructions(cfg: FixedOpsConfig): Promise<Count> {
  return new Promise((resolve) => {
    const child = spawn("valgrind", [...VALGRIND_ARGS, process.execPath, ...NODE_FLAGS, CHILD, JSON.stringify(cfg)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    const err: Buffer[] = [];
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString("utf8");
      const fail = (why: string) => resolve({ collected: undefined, error: why });
      if (code !== 0) {
        const text = stderr
          .split("\n")
          .filter((l) => !l.startsWith("=="))
          .slice(0, 6)
          .join(" | ");
        return fail(`exit ${code ?? signal}: ${text}`);
      }
      let result: FixedOpsResult;
      try {
        result = JSON.parse(readFileSync(cfg.resultFile, "utf8")) as FixedOpsResult;
      } catch (e) {
        return fail(`no result: ${String(e)}`);
      }
      // Guards the subtraction: the child must have run exactly the ops asked for.
      if (result.ops !== cfg.fixedOps.n) return fail(`ran ${result.ops} ops, not ${cfg.fixedOps.n}`);
      const collected = parseCollected(stderr);
      resolve(
        collected === undefined
          ? { collected, error: "no `Collected :` line from callgrind" }
          : { collected, error: undefined },
      );
    });
  });
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
  const total = pairs.length * 2;
  let done = 0;
  const jobs = pairs.flatMap(({ spec, variant }) =>
    [spec.instructionOps, 0].map((n) => async (): Promise<Count> => {
      const build = manifest.workloads[spec.name]!;
      const cfg: FixedOpsConfig = {
        workload: spec.name,
        variant,
        resultFile: join(dir, `${spec.name}.${variant}.${n}.json`),
        udpPort: 0,
        probeLine: build.probeLine,
        entryFile: build.entryFile,
        entryLine: build.entryLine,
        fixedOps: { warm: spec.instructionOps, n },
      };
      const count = await countInstructions(cfg);
      done++;
      const what =
        count.collected === undefined
          ? `failed (${count.error})`
          : `${count.collected.toLocaleString("en-US")} instructions`;
      log(`  [${done}/${total}] ${spec.name} / ${variant}, ${n} measured ops: ${what}`);
      return count;
    }),
  );
  log(`instructions: ${pairs.length} pairs × 2 callgrind runs, ${PARALLEL} at a time (${version})`);
  const counts = await inParallel(jobs, PARALLEL);

  const perOp = pairs.map(({ spec }, i) => {
    const withOps = counts[2 * i]!;
    const withoutOps = counts[2 * i + 1]!;
    const value =
      withOps.collected !== undefined && withoutOps.collected !== undefined
        ? (withOps.collected - withoutOps.collected) / spec.instructionOps
        : NaN;
    return { withOps, withoutOps, value };
  });
  const results = pairs.map(({ spec, variant }, i): InstructionResult => {
    const { withOps, withoutOps, value } = perOp[i]!;
    const plainIndex = pairs.findIndex((p) => p.spec === spec && p.variant === "plain");
    const plain = plainIndex < 0 ? NaN : perOp[plainIndex]!.value;
    return {
      workload: spec.name,
      variant,
      instructionsPerOp: value,
      ratioToPlain: value / plain,
      ops: { warm: spec.instructionOps, n: spec.instructionOps },
      collected: { withOps: withOps.collected ?? null, withoutOps: withoutOps.collected ?? null },
      errors: [withOps.error, withoutOps.error].filter((e): e is string => e !== undefined),
    };
  });
  return {
    tool: version,
    command: `valgrind ${VALGRIND_ARGS.join(" ")} node ${NODE_FLAGS.join(" ")} dist/benchmarks/child.js '<fixed-ops config>'`,
    seconds: (performance.now() - started) / 1000,
    results,
  };
}
