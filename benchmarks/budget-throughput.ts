/**
 * The CPU budget under load (issue 14): a service whose probe has an expensive instrument (a log
 * instrument capturing and formatting a 10 kB object at every call, safe expressions, no rate
 * limit) keeps its throughput within a few percent of the unprobed service, because the budget
 * switches the instrument off once it has taken its share; without the budget the same probe
 * costs most of the throughput.
 *
 * Three child processes run side by side, at the same time (so they share the machine's load): the
 * service unprobed, probed under the default budget (1% of a core over a sliding 10 s window), and
 * probed outside the budget. Each child parses a 10 kB JSON order page and prices it, in a loop,
 * for the same wall time after a warm-up; it reports operations, its own CPU time, and the CPU
 * its instrument took, timed independently of the budget around each `fire`.
 *
 *   node dist/benchmarks/budget-throughput.js [--quick]     prints JSON
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DEFAULT_CPU_BUDGET, LogInstrument, probes, type EventNamespace } from "../runtime/index.js";
import { instrument } from "../transformer/index.js";
import { tenKilobytes } from "./budgets.js";
import { strip } from "./build-workloads.js";
import { WORK } from "./paths.js";

const VARIANTS = ["unprobed", "budgeted", "unbudgeted"] as const;
type Variant = (typeof VARIANTS)[number];

/** What one child measured. */
export interface ThroughputRun {
  readonly variant: Variant;
  readonly ops: number;
  readonly wallMs: number;
  /** The child's own CPU time (user + system) during the measured run. */
  readonly cpuMs: number;
  /**
   * CPU time (process.cpuUsage, so preemption on a loaded machine is not counted) of the
   * instrument's work, timed around each `fire` independently of the budget (which times wall clock).
   */
  readonly instrumentCpuMs: number;
  /** Hits the instrument handled. */
  readonly hits: number;
  /** Seconds into the run when the budget switched the instrument off; null if it did not. */
  readonly throttledAfterS: number | null;
}

export interface BudgetThroughputResult {
  readonly runs: readonly ThroughputRun[];
  /** Operations per second, and per CPU second of the child, as a ratio to the unprobed child. */
  readonly ratios: {
    readonly budgeted: { readonly opsPerS: number; readonly opsPerCpuS: number };
    readonly unbudgeted: { readonly opsPerS: number; readonly opsPerCpuS: number };
  };
  /**
   * The instrument's CPU time as a share of one core over the run (the budget's unit), and the
   * budget's share.
   */
  readonly instrumentShare: { readonly budgeted: number; readonly unbudgeted: number; readonly limit: number };
  readonly durationMs: number;
  /** The 1-minute load average when the children started, and the cores. */
  readonly load: number;
  readonly cores: number;
}

const SELF = fileURLToPath(import.meta.url);
const DIR = join(WORK, "budget-throughput");
const MODULE = join(DIR, "service.mjs");
const SOURCE = `export function price(order: { orders: { items: { qty: number; price: number }[] }[] }): number {
  let total = 0;
  for (const o of order.orders) for (const it of o.items) total += it.qty * it.price;
  return total;
}
`;

/** Compiles the service module once, for the children to import. */
function buildService(): void {
  const file = join(DIR, "src", "service.ts");
  mkdirSync(join(DIR, "src"), { recursive: true });
  writeFileSync(join(DIR, "package.json"), JSON.stringify({ name: "budget-throughput", type: "module" }));
  const r = instrument(SOURCE, file, { root: DIR, packageName: "budget-throughput", module: "esm", sourceMap: false });
  writeFileSync(MODULE, strip(r.code, file).code);
}

async function child(variant: Variant, durationMs: number): Promise<ThroughputRun> {
  const m = (await import(pathToFileURL(MODULE).href)) as { price(order: unknown): number };
  const body = JSON.stringify(tenKilobytes());
  let sink = 0;
  const op = (): void => {
    sink += m.price(JSON.parse(body));
  };
  const warmUntil = performance.now() + 500;
  while (performance.now() < warmUntil) op();

  let instrumentCpuMs = 0;
  let hits = 0;
  let inst: LogInstrument | undefined;
  if (variant !== "unprobed") {
    class TimedLog extends LogInstrument {
      override fire(ns: EventNamespace): void {
        const c0 = process.cpuUsage();
        try {
          super.fire(ns);
        } finally {
          const c = process.cpuUsage(c0);
          instrumentCpuMs += (c.user + c.system) / 1000;
          hits++;
        }
      }
    }
    // As a spec would make it (safe expressions), with no rate limit and no line limit: only the
    // CPU budget stands between the expensive instrument and the service.
    inst = new TimedLog("order", "order", {
      expressions: "safe",
      budget: variant === "budgeted",
      rate: false,
      linesPerSecond: Infinity,
      sink: (line: string) => {
        sink += line.length;
      },
    });
    const p = probes.attachTo("src/service.ts:price");
    p.instruments.set("log", inst);
    p.start();
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + durationMs;
  let ops = 0;
  let throttledAt: number | null = null;
  while (performance.now() < end) {
    for (let i = 0; i < 20; i++) op();
    ops += 20;
    if (throttledAt === null && inst?.throttled !== undefined) throttledAt = performance.now();
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (sink === 0) throw new Error("unreachable");
  return {
    variant,
    ops,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    instrumentCpuMs,
    hits,
    throttledAfterS: throttledAt === null ? null : (throttledAt - t0) / 1000,
  };
}

function runChild(variant: Variant, durationMs: number): Promise<ThroughputRun> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [SELF, "--child", variant, String(durationMs)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    c.on("error", reject);
    c.on("close", (code) => {
      if (code === 0) resolve(JSON.parse(out) as ThroughputRun);
      else reject(new Error(`the ${variant} child exited with ${code}: ${err.trim().slice(0, 500)}`));
    });
  });
}

/** Runs the three children side by side and returns the ratios, or the reason it failed. */
export async function measureBudgetThroughput(
  quick: boolean,
  log: (line: string) => void,
): Promise<BudgetThroughputResult | string> {
  // The default window is 10 s: the full run lasts one window, --quick a few seconds.
  const durationMs = quick ? 4_000 : DEFAULT_CPU_BUDGET.windowMs;
  log(`budget-throughput: an expensive probe under load, three services side by side for ${durationMs / 1000} s`);
  try {
    buildService();
    const { loadavg, availableParallelism } = await import("node:os");
    const load = loadavg()[0]!;
    const runs = await Promise.all(VARIANTS.map((v) => runChild(v, durationMs)));
    const by = (v: Variant): ThroughputRun => runs.find((r) => r.variant === v)!;
    const perS = (r: ThroughputRun): number => r.ops / r.wallMs;
    const perCpuS = (r: ThroughputRun): number => r.ops / r.cpuMs;
    const base = by("unprobed");
    const ratio = (v: Variant) => ({ opsPerS: perS(by(v)) / perS(base), opsPerCpuS: perCpuS(by(v)) / perCpuS(base) });
    return {
      runs,
      ratios: { budgeted: ratio("budgeted"), unbudgeted: ratio("unbudgeted") },
      instrumentShare: {
        budgeted: by("budgeted").instrumentCpuMs / by("budgeted").wallMs,
        unbudgeted: by("unbudgeted").instrumentCpuMs / by("unbudgeted").wallMs,
        limit: DEFAULT_CPU_BUDGET.fraction,
      },
      durationMs,
      load,
      cores: availableParallelism(),
    };
  } catch (error) {
    return String((error as Error)?.message ?? error);
  }
}

if (process.argv[1] === SELF) {
  if (process.argv[2] === "--child") {
    child(process.argv[3] as Variant, Number(process.argv[4])).then(
      (r) => process.stdout.write(JSON.stringify(r)),
      (e: unknown) => {
        process.stderr.write(String((e as Error)?.stack ?? e));
        process.exit(1);
      },
    );
  } else {
    measureBudgetThroughput(process.argv.includes("--quick"), (l) => process.stderr.write(`${l}\n`)).then((r) =>
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    );
  }
}
