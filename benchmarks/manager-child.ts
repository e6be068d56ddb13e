/**
 * The manager measurements, in a child process (`--expose-gc`):
 *
 *   node --expose-gc dist/benchmarks/manager-child.js '{"dir":…,"specs":1000,"cycles":10000,"resultFile":…}'
 *
 * apply() with `specs` specs on distinct functions: all new, then none changed (median of
 * repeats); churn: `cycles` add/remove cycles of one spec, each applied, with the heap before and
 * after (after gc); and the target's per-call cost never touched, after one on→off cycle and
 * after the churn, each as a ratio to a control function of the same module measured alongside.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { median } from "./stats.js";

interface ManagerChildConfig {
  readonly dir: string;
  readonly specs: number;
  readonly cycles: number;
  readonly resultFile: string;
  readonly runtime: string;
}

export interface ManagerChildResult {
  readonly specs: number;
  readonly applyAllNewMs: number;
  readonly applyNoneChangedMs: number;
  /** The store's own `list()` of the same 1,000 specs (part of every apply). */
  readonly storeListMs: number;
  readonly cycles: number;
  readonly churnMs: number;
  readonly heapGrowthBytes: number;
  /** target ns/call ÷ control ns/call. */
  readonly ratioNeverTouched: number;
  readonly ratioAfterOnOff: number;
  readonly ratioAfterChurn: number;
}

type Fn = (a: number, b: number) => number;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
let sink = 0;

function nsPerCall(fn: Fn, calls: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) sink += fn(i, 3);
  return Number(process.hrtime.bigint() - t0) / calls;
}

/** Target ÷ control, interleaved, median of rounds. */
function ratio(target: Fn, control: Fn): number {
  const rs: number[] = [];
  for (let r = 0; r < 15; r++) rs.push(nsPerCall(target, 200_000) / nsPerCall(control, 200_000));
  return median(rs);
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]!) as ManagerChildConfig;
  const d = (await import(cfg.runtime)) as typeof import("../runtime/index.js");
  const mod = (await import(pathToFileURL(join(cfg.dir, "fns.js")).href)) as Record<string, Fn>;
  const module = "bench/fns.ts";
  const mgr = new d.InstrumentManager({ processId: "bench" });
  mgr.errorOutput = { write: () => true };
  const doc = (fn: string) => ({
    target: `${module}:${fn}`,
    instrument: { type: "incr", name: `n.${fn}`, value: "1" },
    lifespan: null,
    lastmodified: new Date(),
    applied: {},
  });
  const target = mod["f0"]!;
  const control = mod["f1"]!;
  // Warm both before the first ratio, so neither is measured while being optimised.
  nsPerCall(target, 1_000_000);
  nsPerCall(control, 1_000_000);
  const ratioNeverTouched = ratio(target, control);

  // apply(): all new, then none changed. Functions f2… carry the specs.
  for (let i = 0; i < cfg.specs; i++) mgr.specs.set(`s${i}`, doc(`f${i + 2}`));
  let t = performance.now();
  const r1 = await mgr.apply();
  const applyAllNewMs = performance.now() - t;
  if (r1.attached.length !== cfg.specs) throw new Error(`attached ${r1.attached.length} of ${cfg.specs}: ${JSON.stringify(r1.refused.slice(0, 2))}`);
  const unchanged: number[] = [];
  const lists: number[] = [];
  for (let k = 0; k < 15; k++) {
    t = performance.now();
    await mgr.store.list();
    lists.push(performance.now() - t);
    t = performance.now();
    const r = await mgr.apply();
    unchanged.push(performance.now() - t);
    if (r.unchanged !== cfg.specs) throw new Error(`unchanged ${r.unchanged}`);
  }
  mgr.specs.clear();
  await mgr.apply();

  // One on→off cycle on the target.
  mgr.specs.set("churn", doc("f0"));
  await mgr.apply();
  mgr.specs.delete("churn");
  await mgr.apply();
  const ratioAfterOnOff = ratio(target, control);

  gc();
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  t = performance.now();
  for (let c = 0; c < cfg.cycles; c++) {
    mgr.specs.set("churn", doc("f0"));
    await mgr.apply();
    mgr.specs.delete("churn");
    await mgr.apply();
  }
  const churnMs = performance.now() - t;
  await new Promise((r) => setTimeout(r, 100));
  gc();
  gc();
  const heapGrowthBytes = process.memoryUsage().heapUsed - heap0;
  const ratioAfterChurn = ratio(target, control);
  await mgr.stop();

  const result: ManagerChildResult = {
    specs: cfg.specs,
    applyAllNewMs,
    applyNoneChangedMs: median(unchanged),
    storeListMs: median(lists),
    cycles: cfg.cycles,
    churnMs,
    heapGrowthBytes,
    ratioNeverTouched,
    ratioAfterOnOff,
    ratioAfterChurn,
  };
  writeFileSync(cfg.resultFile, JSON.stringify(result));
  if (sink === 0.5) process.stdout.write("");
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
