/**
 * Breakpoint hand-off latency (issue 13): how long after a call reaches a breakpoint the test's
 * `wait()` resumes, and how long after `release()` the parked call goes on — on the test's thread
 * (an async function parked on a promise) and in a worker thread (a synchronous function parked
 * with `Atomics.wait`). The seed polled every 100 ms each way; the target is ≤ 1 ms. Median and
 * p99 over `rounds` hand-offs, each after a warm-up.
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
import { instrument } from "../transformer/index.js";
import { WORK } from "./paths.js";
import { quantile } from "./stats.js";

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
  const m = (await import(pathToFileURL(out).href)) as { driveAsync(n: number): Promise<number[]> };
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
  };
  log(`breakpoint hand-off (${rounds} each, ms): ${breakpointsLine(r)}`);
  return r;
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
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const quick = process.argv.includes("--quick");
  measureBreakpoints(quick ? 200 : 2_000, (l) => process.stdout.write(l + "\n")).catch((err: unknown) => {
    process.stderr.write(`breakpoint bench failed: ${String(err)}\n`);
    process.exitCode = 1;
  });
}
