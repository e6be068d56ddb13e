/**
 * The scale measurements, in a child process (`--expose-gc`):
 *
 *   node --expose-gc dist/benchmarks/scale-child.js '{"build":"diagnose","dir":…,"modules":20,"probes":10000,…}'
 *
 * Loads every generated module (load time, heap and RSS growth), times the unprobed hot function
 * `m0.f0`, then (diagnose build) starts `probes` probes on other functions, times attach/detach,
 * and times `m0.f0` again while they are on.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as tick } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { median } from "./stats.js";

interface ScaleChildConfig {
  readonly build: "plain" | "diagnose";
  readonly dir: string;
  readonly modules: number;
  readonly functionsPerModule: number;
  readonly probes: number;
  readonly resultFile: string;
}

export interface ScaleChildResult {
  readonly build: string;
  readonly loadMs: number;
  readonly heapBytes: number;
  readonly rssBytes: number;
  readonly unprobedNsPerCall: number;
  readonly attach?: { readonly probes: number; readonly totalMs: number; readonly perProbeUs: number };
  /** One more probe attached and detached while `probes` are on (mean of 200). */
  readonly attachDetachOneUs?: number;
  readonly unprobedNsPerCallWhileProbed?: number;
  readonly detachAllMs?: number;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

let sink = 0;
function loop(f: (a: number, b: number) => number, n: number): void {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += f(i, 3);
  sink += acc;
}

async function nsPerCall(f: (a: number, b: number) => number): Promise<number> {
  let n = 1000;
  const end = performance.now() + 300;
  while (performance.now() < end) {
    const t0 = performance.now();
    loop(f, n);
    if (performance.now() - t0 < 5) n *= 2;
    await tick();
  }
  const samples: number[] = [];
  for (let s = 0; s < 7; s++) {
    const t0 = performance.now();
    loop(f, n);
    samples.push(((performance.now() - t0) * 1e6) / n);
    await tick();
  }
  return median(samples);
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? "") as ScaleChildConfig;
  const rt = cfg.build === "diagnose" ? await import("../runtime/index.js") : undefined;
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const mods: Record<string, (a: number, b: number) => number>[] = [];
  for (let m = 0; m < cfg.modules; m++)
    mods.push(await import(pathToFileURL(join(cfg.dir, cfg.build, `m${m}.js`)).href));
  const loadMs = performance.now() - t0;
  gc();
  const mem = process.memoryUsage();
  const hot = mods[0]!["f0"]!;
  const base: ScaleChildResult = {
    build: cfg.build,
    loadMs,
    heapBytes: mem.heapUsed - heap0,
    rssBytes: mem.rss - rss0,
    unprobedNsPerCall: await nsPerCall(hot),
  };
  if (rt === undefined) {
    writeFileSync(cfg.resultFile, JSON.stringify({ ...base, checksum: sink }));
    return;
  }

  class Noop extends rt.Instrument {
    override fire(): void {}
  }
  const targets: string[] = [];
  for (let k = 1; targets.length < cfg.probes; k++) {
    const m = k % cfg.modules;
    const f = Math.floor(k / cfg.modules);
    if (f >= cfg.functionsPerModule) break;
    targets.push(`scale/m${m}.ts:f${f}`);
  }
  const a0 = performance.now();
  for (const t of targets) {
    const p = rt.probes.attachTo(t);
    p.instruments.set("n", new Noop("n", "1", { event: "call" }));
    p.start();
  }
  const attachMs = performance.now() - a0;
  const active = rt.probes.list().filter((p) => p.status === "active").length;
  if (active !== targets.length) throw new Error(`only ${active} of ${targets.length} probes are active`);

  const extra = `scale/m0.ts:f${cfg.functionsPerModule - 1}`;
  const reps = 200;
  const o0 = performance.now();
  for (let r = 0; r < reps; r++) {
    const p = rt.probes.attachTo(extra);
    p.instruments.set("n", new Noop("n", "1", { event: "call" }));
    p.start();
    rt.probes.remove(extra);
  }
  const oneUs = ((performance.now() - o0) * 1000) / reps;

  const whileProbed = await nsPerCall(hot);
  const d0 = performance.now();
  for (const t of targets) rt.probes.remove(t);
  const detachMs = performance.now() - d0;
  const result: ScaleChildResult = {
    ...base,
    attach: { probes: targets.length, totalMs: attachMs, perProbeUs: (attachMs * 1000) / targets.length },
    attachDetachOneUs: oneUs,
    unprobedNsPerCallWhileProbed: whileProbed,
    detachAllMs: detachMs,
  };
  writeFileSync(cfg.resultFile, JSON.stringify({ ...result, checksum: sink }));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`scale child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
