/**
 * One process of the "costs beyond the off state" phase (costs.ts). The mode is the first
 * argument, its JSON config the second; the result is written as JSON to `resultFile`.
 *
 * - heap:   the bytes of every object reachable (a heap snapshot), before and after importing one
 *           build of a workload's module graph (nothing run), so the library's code and its site
 *           tables are what grows;
 * - cold:   import a generated entry that loads a large module graph, then call the workload's
 *           `op` once; the time of both from this process's start and from just before the import;
 * - ops:    import a workload and run ops up to the last of `marks`, calling callgrind-marks.ts's
 *           `mark()` when the op count reaches each of them (callgrind counts each interval);
 * - perhit: in the instrumented build, alternate blocks with a no-op "call" probe off and on
 *           (each after its own warm-up) and report ns per op of each block and hits per op.
 */
import { writeFileSync } from "node:fs";
import { getHeapSnapshot } from "node:v8";
import { pathToFileURL } from "node:url";
import { mark } from "./callgrind-marks.js";

export interface HeapConfig {
  readonly resultFile: string;
  readonly module: string;
}
export interface HeapResult {
  readonly before: number;
  readonly after: number;
}

export interface ColdConfig {
  readonly resultFile: string;
  /** The generated entry module exporting `op`. */
  readonly entry: string;
}
export interface ColdResult {
  /** ms from just before the import to the end of the first op. */
  readonly loadAndFirstCallMs: number;
  /** ms from the process's time origin to the end of the first op. */
  readonly sinceStartMs: number;
  readonly modules: number;
}

export interface OpsConfig {
  readonly resultFile: string;
  readonly module: string;
  /** Op counts at which to mark, ascending, from 0: ops (a, b] are counted between marks a and b. */
  readonly marks: readonly number[];
}

/**
 * Calling the probed function itself from a loop of `calls` (one "op"), instead of the workload:
 * for a tiny function the workload's own time hides a per-hit cost under its run-to-run noise.
 * `file` is the instrumented module holding it; a method is called on an object whose prototype
 * is the class's (these methods read no instance state).
 */
export interface DirectCall {
  readonly file: string;
  readonly exportName: string;
  readonly method?: string;
  readonly args: "char-code" | "two-ints" | "token";
  readonly calls: number;
}

export interface PerHitConfig {
  readonly resultFile: string;
  readonly module: string;
  readonly direct?: DirectCall;
  /** Qualified name the probe attaches to. */
  readonly target: string;
  readonly rounds: number;
  readonly warmMs: number;
  readonly blockMs: number;
}
export interface PerHitRound {
  readonly offNsPerOp: number;
  readonly onNsPerOp: number;
  readonly hitsPerOp: number;
}
export interface PerHitResult {
  readonly rounds: PerHitRound[];
  readonly error?: string;
}

type Op = (i: number) => number;
let sink = 0;

async function loadOp(module: string): Promise<Op> {
  const mod = (await import(pathToFileURL(module).href)) as { op?: Op };
  if (typeof mod.op !== "function") throw new Error(`${module} exports no op()`);
  return mod.op;
}

/**
 * The bytes of every object reachable now: the sum of the self sizes in a heap snapshot (which
 * collects garbage first). `heapUsed` after a full GC was bimodal here: two runs of one build read
 * 845 and 1,070 KB for the same import; snapshots of one build agree to the byte.
 */
async function reachableBytes(): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
  const snapshot = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
    snapshot: { meta: { node_fields: string[] } };
    nodes: number[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const selfSize = fields.indexOf("self_size");
  let total = 0;
  for (let i = selfSize; i < snapshot.nodes.length; i += fields.length) total += snapshot.nodes[i]!;
  return total;
}

async function heap(cfg: HeapConfig): Promise<HeapResult> {
  const before = await reachableBytes();
  const op = await loadOp(cfg.module);
  sink += typeof op === "function" ? 1 : 0;
  return { before, after: await reachableBytes() };
}

async function cold(cfg: ColdConfig): Promise<ColdResult> {
  const t0 = performance.now();
  const mod = (await import(pathToFileURL(cfg.entry).href)) as { op: Op; modules: number };
  sink += mod.op(0);
  const t1 = performance.now();
  return { loadAndFirstCallMs: t1 - t0, sinceStartMs: t1, modules: mod.modules };
}

async function ops(cfg: OpsConfig): Promise<{ n: number }> {
  const op = await loadOp(cfg.module);
  let i = 0;
  for (const edge of cfg.marks) {
    for (; i < edge; i++) sink += op(i);
    mark();
  }
  return { n: i };
}

async function perHit(cfg: PerHitConfig): Promise<PerHitResult> {
  const rt = await import("../runtime/index.js");
  const op = cfg.direct === undefined ? await loadOp(cfg.module) : await directOp(cfg.direct);
  class Noop extends rt.Instrument {
    count = 0;
    override fire(): void {
      this.count++;
    }
  }
  let base = 0;
  let opsPerMs = 0;
  const runFor = (ms: number): { ns: number; n: number } => {
    // Batches sized from the last rate, so the clock is read rarely.
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    let batch = Math.max(1, Math.round(opsPerMs));
    while (t - t0 < ms) {
      for (let i = 0; i < batch; i++) sink += op(base++);
      n += batch;
      t = performance.now();
      batch = Math.max(1, Math.min(batch * 2, Math.round((n / Math.max(t - t0, 0.001)) * 2)));
    }
    opsPerMs = n / (t - t0);
    return { ns: ((t - t0) * 1e6) / n, n };
  };
  const inst = new Noop("costs", "1", { event: "call" });
  const rounds: PerHitRound[] = [];
  runFor(cfg.warmMs);
  for (let r = 0; r < cfg.rounds; r++) {
    runFor(cfg.warmMs / 2);
    const off = runFor(cfg.blockMs);
    const probe = rt.probes.attachTo(cfg.target);
    probe.instruments.set("costs", inst);
    probe.start();
    if (probe.status !== "active")
      return { rounds, error: `probe ${cfg.target} is ${probe.status}: ${probe.error?.message ?? ""}` };
    runFor(cfg.warmMs / 2);
    const hits0 = inst.count;
    const on = runFor(cfg.blockMs);
    const hits = inst.count - hits0;
    probe.stop();
    rt.probes.remove(cfg.target);
    rounds.push({ offNsPerOp: off.ns, onNsPerOp: on.ns, hitsPerOp: hits / on.n });
  }
  return { rounds };
}

async function directOp(d: DirectCall): Promise<Op> {
  const mod = (await import(pathToFileURL(d.file).href)) as Record<string, unknown>;
  const exported = mod[d.exportName] as ((...a: unknown[]) => unknown) | undefined;
  if (typeof exported !== "function") throw new Error(`${d.file} exports no function ${d.exportName}`);
  const self = d.method === undefined ? undefined : Object.create(exported.prototype as object);
  const fn = (d.method === undefined ? exported : (exported.prototype as Record<string, unknown>)[d.method]) as (
    ...a: unknown[]
  ) => unknown;
  if (typeof fn !== "function") throw new Error(`${d.exportName}.${String(d.method)} is not a function`);
  const n = d.calls;
  if (d.args === "char-code") {
    return (i) => {
      let acc = 0;
      for (let k = 0; k < n; k++) if (fn.call(self, (i + k) & 7 ? 97 : 32)) acc++;
      return acc;
    };
  }
  if (d.args === "two-ints") {
    return (i) => {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += fn.call(self, i & 255, k & 15) as number;
      return acc;
    };
  }
  return (i) => {
    let acc = 0;
    for (let k = 0; k < n; k++)
      acc += (fn.call(self, "tok", k, 3, null, i & 255, k & 63, 3) as { endOffset: number }).endOffset;
    return acc;
  };
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  const cfg = JSON.parse(process.argv[3] ?? "") as { resultFile: string };
  let result: unknown;
  if (mode === "heap") result = await heap(cfg as HeapConfig);
  else if (mode === "cold") result = await cold(cfg as ColdConfig);
  else if (mode === "ops") result = await ops(cfg as OpsConfig);
  else if (mode === "perhit") result = await perHit(cfg as PerHitConfig);
  else throw new Error(`unknown mode ${String(mode)}: heap, cold, ops or perhit`);
  writeFileSync(cfg.resultFile, JSON.stringify({ ...(result as object), sink: sink === 0.5 ? 1 : 0 }));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`costs child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
