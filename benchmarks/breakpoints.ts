/**
 * Breakpoint hand-off latency (issue 13): how long after a call reaches a breakpoint the test's
 * `wait()` resumes, and how long after `release()` the parked call goes on — on the test's thread
 * (an async function parked on a promise) and in a worker thread (a synchronous function parked
 * with `Atomics.wait`). The seed polled every 100 ms each way; the target is ≤ 1 ms. Median and
 * p99 over `rounds` hand-offs, each after a warm-up.
 *
 * Also the cost per call of an armed `error` failpoint whose condition is false (a spec through a
 * manager with `failpoints: true`), beside a plain `incr` instrument and a dormant control function
 * of the same module, as ratios measured in one run (interleaved rounds, median ns per call).
 *
 * Runs inside the bench process (`npm run bench`, `--quick`), or alone:
 * `node dist/benchmarks/breakpoints.js [--quick]`.
 */
import { transformSync } from "@swc/core";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { Breakpoint } from "../runtime/breakpoints/index.js";
import { IncrementInstrument, InstrumentManager, memoryStore, probes } from "../runtime/index.js";
import { instrument } from "../transformer/index.js";
import { WORK } from "./paths.js";
import { median, quantile } from "./stats.js";

export interface Latency {
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly n: number;
}
export interface BreakpointsResult {
  readonly rounds: number;
  readonly mainThread: { readonly hitToWait: Latency; readonly releaseToResume: Latency };
  readonly worker: { readonly hitToWait: Latency; readonly releaseToResume: Latency };
  readonly targetMs: 1;
  /** Per-call cost of an armed error failpoint whose condition is false; absent in older results. */
  readonly failpoint?: FailpointCost;
}

export interface FailpointCost {
  readonly rounds: number;
  /** Median ns per call: the dormant control, with a plain `incr`, with the armed failpoint. */
  readonly controlNs: number;
  readonly incrNs: number;
  readonly failpointNs: number;
  /** Medians of the per-round ratios. */
  readonly incrRatio: number;
  readonly failpointRatio: number;
  readonly failpointVsIncr: number;
}

const SOURCE = `
export async function parkedAsync(i: number) {
  return i;
}
export async function driveAsync(n: number) {
  const resumed: number[] = [];
  for (let i = 0; i < n; i++) {
    await parkedAsync(i);
    resumed.push(performance.timeOrigin + performance.now());
  }
  return resumed;
}
export function parkedSync(i: number) {
  return i;
}
export function control(a: number, b: number) {
  return a + b;
}
export function counted(a: number, b: number) {
  return a + b;
}
export function guarded(a: number, b: number) {
  return a + b;
}
export function driveSync(n: number) {
  const resumed: number[] = [];
  for (let i = 0; i < n; i++) {
    parkedSync(i);
    resumed.push(performance.timeOrigin + performance.now());
  }
  return resumed;
}
`;

function latency(xs: number[]): Latency {
  return { medianMs: quantile(xs, 0.5), p99Ms: quantile(xs, 0.99), maxMs: Math.max(...xs), n: xs.length };
}

const abs = () => performance.timeOrigin + performance.now();

/** Parks `n` calls one after another; returns the two latencies of each hand-off. */
async function handOffs(
  bp: Breakpoint,
  start: () => Promise<unknown>,
  n: number,
  warm: number,
): Promise<{ hit: number[]; release: number[] }> {
  const task = start();
  const hit: number[] = [];
  const releasedAt: number[] = [];
  for (let i = 0; i < n; i++) {
    const h = await bp.wait();
    hit.push(abs() - (performance.timeOrigin + h.time));
    releasedAt.push(abs());
    bp.release();
  }
  const resumed = (await task) as number[];
  const release = resumed.map((t, i) => t - releasedAt[i]!);
  return { hit: hit.slice(warm), release: release.slice(warm) };
}

export async function measureBreakpoints(rounds: number, log: (line: string) => void): Promise<BreakpointsResult> {
  const root = join(WORK, "breakpoints");
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, "src"), { recursive: true });
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "bp-bench", type: "module" }));
  const file = join(root, "src", "handoff.ts");
  writeFileSync(file, SOURCE);
  const code = transformSync(instrument(SOURCE, file, { root, module: "esm", sourceMap: false }).code, {
    filename: file,
    jsc: { parser: { syntax: "typescript" }, target: "es2022" },
    module: { type: "es6" },
  }).code;
  const out = join(root, "handoff.mjs");
  writeFileSync(out, code);
  const m = (await import(pathToFileURL(out).href)) as { driveAsync(n: number): Promise<number[]> } & Record<
    "control" | "counted" | "guarded",
    Fn
  >;
  const warm = Math.min(50, Math.floor(rounds / 4));
  const total = rounds + warm;

  const main = await (async () => {
    await using bp = Breakpoint.block("src/handoff.ts:parkedAsync", { timeoutMs: 30_000 });
    return await handOffs(bp, () => bp.start(() => m.driveAsync(total)), total, warm);
  })();
  const worker = await (async () => {
    await using bp = Breakpoint.block("src/handoff.ts:parkedSync", { timeoutMs: 30_000 });
    return await handOffs(bp, () => bp.startWorker(pathToFileURL(out), "driveSync", total), total, warm);
  })();
  const r: BreakpointsResult = {
    rounds,
    mainThread: { hitToWait: latency(main.hit), releaseToResume: latency(main.release) },
    worker: { hitToWait: latency(worker.hit), releaseToResume: latency(worker.release) },
    targetMs: 1,
    failpoint: await measureFailpoint(m, rounds >= 1_000 ? 15 : 5),
  };
  log(`breakpoint hand-off (${rounds} each, ms): ${breakpointsLine(r)}`);
  log(`armed error failpoint, condition false (ns/call): ${failpointLine(r.failpoint!)}`);
  return r;
}

type Fn = (a: number, b: number) => number;
type Loop = (calls: number) => number;

/** A timing loop per function (a shared loop would time a polymorphic call site). */
function loopOf(fn: Fn): Loop {
  const make = new Function(
    "fn",
    "return function loop(calls) { let s = 0; const t0 = process.hrtime.bigint(); for (let i = 0; i < calls; i++) s += fn(i, 3); const ns = Number(process.hrtime.bigint() - t0) / calls; return s === 0.5 ? -ns : ns; };",
  ) as (fn: Fn) => Loop;
  return make(fn);
}

/**
 * `counted` carries a plain `incr` (attached in code: no rate limit, every call counts), `guarded`
 * an `error` failpoint spec whose condition never holds; `control` stays dormant.
 */
async function measureFailpoint(
  m: Record<"control" | "counted" | "guarded", Fn>,
  rounds: number,
): Promise<FailpointCost> {
  const mgr = new InstrumentManager({ store: memoryStore(), processId: "bench:failpoint", failpoints: true });
  mgr.specs.set("fp", {
    target: "src/handoff.ts:guarded",
    instrument: { type: "error", name: "bench", value: "1", custom: { message: "never", condition: "a < 0" } },
    lastmodified: new Date(),
    applied: {},
  });
  const report = await mgr.apply();
  if (report.attached[0] !== "fp") throw new Error(`the failpoint spec was not applied: ${JSON.stringify(report)}`);
  const probe = probes.attachTo("src/handoff.ts:counted");
  // Counted in memory: a UDP datagram per call would time the kernel, not the instrument.
  let counted = 0;
  const client = { histogram: () => undefined, increment: (_name: string, value: number) => (counted += value) };
  probe.instruments.set("n", new IncrementInstrument("bench.failpoint.n", "1", { client }));
  probe.start();
  try {
    const loops = { control: loopOf(m.control), incr: loopOf(m.counted), failpoint: loopOf(m.guarded) };
    const calls = 200_000;
    for (const l of Object.values(loops)) l(calls); // warm-up: compile every path before timing
    const ns = { control: [] as number[], incr: [] as number[], failpoint: [] as number[] };
    for (let r = 0; r < rounds; r++)
      for (const k of ["control", "incr", "failpoint"] as const) ns[k].push(loops[k](calls));
    const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]!));
    if (counted === 0) throw new Error("the incr instrument never fired");
    return {
      rounds,
      controlNs: median(ns.control),
      incrNs: median(ns.incr),
      failpointNs: median(ns.failpoint),
      incrRatio: ratio(ns.incr, ns.control),
      failpointRatio: ratio(ns.failpoint, ns.control),
      failpointVsIncr: ratio(ns.failpoint, ns.incr),
    };
  } finally {
    probes.remove("src/handoff.ts:counted");
    await mgr.stop();
  }
}

function failpointLine(f: FailpointCost): string {
  return (
    `control ${f.controlNs.toFixed(1)}, incr ${f.incrNs.toFixed(1)} (×${f.incrRatio.toFixed(1)}), ` +
    `failpoint ${f.failpointNs.toFixed(1)} (×${f.failpointRatio.toFixed(1)}; ×${f.failpointVsIncr.toFixed(2)} of incr)`
  );
}

export function breakpointsLine(r: BreakpointsResult): string {
  const f = (l: Latency) => `median ${l.medianMs.toFixed(3)}, p99 ${l.p99Ms.toFixed(3)}`;
  return (
    `main thread hit→wait ${f(r.mainThread.hitToWait)}; release→resume ${f(r.mainThread.releaseToResume)} | ` +
    `worker hit→wait ${f(r.worker.hitToWait)}; release→resume ${f(r.worker.releaseToResume)}`
  );
}

/** The docs/benchmarks.md section. */
export function breakpointsText(r: BreakpointsResult | { skipped: string }): string {
  if ("skipped" in r) return `Skipped: ${r.skipped}.`;
  const row = (what: string, l: Latency) =>
    `| ${what} | ${l.medianMs.toFixed(3)} ms | ${l.p99Ms.toFixed(3)} ms | ${l.maxMs.toFixed(3)} ms | ${l.p99Ms <= r.targetMs ? "met" : "not met"} |`;
  return [
    `Hand-off latency of a Breakpoint (${r.rounds} hand-offs each, after a warm-up; target ≤ ${r.targetMs} ms, where the seed polled every 100 ms):`,
    "",
    "| hand-off | median | p99 | max | p99 ≤ 1 ms |",
    "|---|---|---|---|---|",
    row("test thread: call parked → `wait()` resumes", r.mainThread.hitToWait),
    row("test thread: `release()` → the call goes on", r.mainThread.releaseToResume),
    row("worker thread: call parked → `wait()` resumes", r.worker.hitToWait),
    row("worker thread: `release()` → the call goes on", r.worker.releaseToResume),
    ...(r.failpoint === undefined
      ? []
      : [
          "",
          `An armed \`error\` failpoint whose condition is false (\`a < 0\`), per call, beside a plain \`incr\` ` +
            `instrument and a dormant control function of the same module (median of ${r.failpoint.rounds} interleaved rounds; ` +
            `ratios are medians of per-round ratios):`,
          "",
          "| function | ns/call | × control |",
          "|---|---|---|",
          `| dormant control | ${r.failpoint.controlNs.toFixed(1)} | 1.0 |`,
          `| plain \`incr\` | ${r.failpoint.incrNs.toFixed(1)} | ${r.failpoint.incrRatio.toFixed(1)} |`,
          `| armed \`error\` failpoint, condition false | ${r.failpoint.failpointNs.toFixed(1)} | ${r.failpoint.failpointRatio.toFixed(1)} (${r.failpoint.failpointVsIncr.toFixed(2)} × incr) |`,
        ]),
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const quick = process.argv.includes("--quick");
  measureBreakpoints(quick ? 200 : 2_000, (l) => process.stdout.write(l + "\n")).catch((err: unknown) => {
    process.stderr.write(`breakpoint bench failed: ${String(err)}\n`);
    process.exitCode = 1;
  });
}
