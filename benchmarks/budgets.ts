/**
 * Budgets, capture and redaction (issue 14): what a skipped hit costs, what the budget checks cost
 * while no budget is hit, and what capturing a 10 kB object costs. One child process (this file
 * with `--child`) builds a small instrumented module and times, in alternating rounds, a loop of
 * calls in each state; the parent returns the medians.
 *
 *   node dist/benchmarks/budgets.js [--quick]     prints JSON
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { capture, configureBudgets, Instrument, probes, type EventNamespace } from "../runtime/index.js";
import { formatValue } from "../runtime/instruments/format.js";
import { instrument } from "../transformer/index.js";
import { strip } from "./build-workloads.js";
import { WORK } from "./paths.js";

export interface BudgetsResult {
  /** ns per call of `work(i)` in each state (medians over rounds). */
  readonly callNs: {
    readonly untouched: number;
    /** A counting instrument outside the budgets (no limit, not timed). */
    readonly firing: number;
    /** The same instrument under the budgets (rate bucket, CPU sampling), no budget hit. */
    readonly firingBudgeted: number;
    /** Every hit skipped by the rate limit. */
    readonly skipped: number;
  };
  /** skipped − untouched: what a skipped hit costs. */
  readonly perSkippedHitNs: number;
  /** firingBudgeted ÷ firing. */
  readonly budgetCheckRatio: number;
  /** Microseconds to capture a 10 kB object, and to capture and format it as a log line does. */
  readonly captureUs: { readonly bytes: number; readonly capture: number; readonly captureAndFormat: number };
  readonly rounds: number;
}

const SELF = fileURLToPath(import.meta.url);
const SOURCE = `export function work(n: number): number { return n + 1; }\n`;

class Count extends Instrument {
  n = 0;
  override fire(_ns: EventNamespace): void {
    this.n++;
  }
}

/** A value of about 10 kB as JSON: a page of orders. */
export function tenKilobytes(): unknown {
  return {
    page: 1,
    orders: Array.from({ length: 40 }, (_, i) => ({
      id: `order-${i}`,
      customer: { name: `Customer ${i}`, email: `c${i}@example.com`, token: "secret-token" },
      items: [
        { sku: `sku-${i}-a`, qty: 2, price: 9.99 },
        { sku: `sku-${i}-b`, qty: 1, price: 24.5 },
      ],
      placed: new Date(0),
    })),
  };
}

async function child(quick: boolean): Promise<BudgetsResult> {
  const dir = join(WORK, "budgets");
  const file = join(dir, "src", "budgets.ts");
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "budgets", type: "module" }));
  const r = instrument(SOURCE, file, { root: dir, packageName: "budgets", module: "esm", sourceMap: false });
  const out = join(dir, "budgets.mjs");
  writeFileSync(out, strip(r.code, file).code);
  const m = (await import(pathToFileURL(out).href)) as { work(n: number): number };
  const target = "src/budgets.ts:work";
  const N = quick ? 200_000 : 2_000_000;
  const loop = (): number => {
    let s = 0;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) s += m.work(i);
    const ns = ((performance.now() - t0) * 1e6) / N;
    if (s === 0) throw new Error("unreachable");
    return ns;
  };
  // The CPU budget must not switch the budgeted instrument off while it is being measured.
  configureBudgets({ cpu: { fraction: Infinity } });
  const states: Record<keyof BudgetsResult["callNs"], () => (() => void) | undefined> = {
    untouched: () => undefined,
    firing: () => attach(target, new Count("c", "0")),
    firingBudgeted: () => attach(target, new Count("c", "0", { budget: true, rate: false })),
    skipped: () => {
      const inst = new Count("c", "0", { rate: { perSecond: 1e-9, burst: 1 } });
      return attach(target, inst);
    },
  };
  const rounds = quick ? 3 : 7;
  const samples: Record<string, number[]> = { untouched: [], firing: [], firingBudgeted: [], skipped: [] };
  for (let round = 0; round < rounds + 1; round++) {
    for (const [name, setup] of Object.entries(states)) {
      const stop = setup();
      const ns = loop();
      stop?.();
      if (round > 0) samples[name]!.push(ns); // round 0 warms up
    }
  }
  const callNs = Object.fromEntries(
    Object.entries(samples).map(([k, v]) => [k, median(v)]),
  ) as unknown as BudgetsResult["callNs"];

  const value = tenKilobytes();
  const bytes = JSON.stringify(value).length;
  const C = quick ? 300 : 3000;
  let t0 = performance.now();
  for (let i = 0; i < C; i++) capture(value);
  const captureUs = ((performance.now() - t0) * 1000) / C;
  t0 = performance.now();
  for (let i = 0; i < C; i++) formatValue(capture(value));
  const bothUs = ((performance.now() - t0) * 1000) / C;
  return {
    callNs,
    perSkippedHitNs: callNs.skipped - callNs.untouched,
    budgetCheckRatio: callNs.firingBudgeted / callNs.firing,
    captureUs: { bytes, capture: captureUs, captureAndFormat: bothUs },
    rounds,
  };
}

function attach(target: string, inst: Instrument): () => void {
  const p = probes.attachTo(target);
  p.instruments.set("b", inst);
  p.start();
  return () => p.stop();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs the child and returns its result, or the reason it failed. */
export function measureBudgets(quick: boolean, log: (line: string) => void): BudgetsResult | string {
  log("budgets: skipped hits, budget checks, capture of a 10 kB object");
  const r = spawnSync(process.execPath, [SELF, "--child", ...(quick ? ["--quick"] : [])], {
    encoding: "utf8",
    timeout: 120_000,
  });
  if (r.status !== 0) return `the child failed: ${(r.stderr || r.error?.message || "").trim().slice(0, 500)}`;
  return JSON.parse(r.stdout) as BudgetsResult;
}

if (process.argv[1] === SELF) {
  const quick = process.argv.includes("--quick");
  if (process.argv.includes("--child")) {
    child(quick).then(
      (r) => process.stdout.write(JSON.stringify(r)),
      (e: unknown) => {
        process.stderr.write(String((e as Error)?.stack ?? e));
        process.exit(1);
      },
    );
  } else {
    process.stdout.write(
      JSON.stringify(
        measureBudgets(quick, (l) => process.stderr.write(l + "\n")),
        null,
        2,
      ) + "\n",
    );
  }
}
