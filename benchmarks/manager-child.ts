/**
 * The manager measurements, in a child process (`--expose-gc`):
 *
 *   node --expose-gc dist/benchmarks/manager-child.js '{"dir":…,"specs":1000,"cycles":10000,"resultFile":…}'
 *
 * With `"byHandOnly": true` it measures only the floor, in a process of its own: the same
 * instruments attached through the probes API, the process's first round (cold, as the first
 * apply is) and the median of the warmed rounds — no manager code has run in that process.
 *
 * apply() with `specs` specs on distinct functions: all new (the process's first, cold, and the
 * median of rounds after WARM_ROUNDS of warm-up: V8 needs a few rounds to optimise the manager's
 * and the registry's code, so an early median measures the tier-up), then none changed (median of
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
  readonly byHandOnly?: boolean;
}

/** What the child writes with `byHandOnly`. */
export interface ByHandChildResult {
  /** The process's first round of attaching by hand (cold). */
  readonly byHandFirstMs: number;
  readonly byHandMs: number;
}

export interface ManagerChildResult {
  readonly specs: number;
  /** The first apply of the process (cold: V8 compiles the manager's code and each flag's first write). */
  readonly applyAllNewFirstMs: number;
  /** Median of the warmed rounds (the first WARM_ROUNDS rounds are warm-up). */
  readonly applyAllNewMs: number;
  /** The same instruments attached and started through the probes API directly, warmed the same way: the floor of "all new". */
  readonly byHandMs: number;
  /** The same, as the first round of a process that ran no manager code (the floor of the cold apply); set by manager.ts. */
  readonly byHandFirstMs?: number;
  readonly applyNoneChangedMs: number;
  /** The store's own `list()` of the same 1,000 specs (part of every apply). */
  readonly storeListMs: number;
  /** apply() of the same number of new specs all on one target, then their removal (one probe, many instruments). */
  readonly applyOneTargetMs?: number;
  readonly removeOneTargetMs?: number;
  readonly cycles: number;
  readonly churnMs: number;
  readonly heapGrowthBytes: number;
  /** target ns/call ÷ control ns/call. */
  readonly ratioNeverTouched: number;
  readonly ratioAfterOnOff: number;
  readonly ratioAfterChurn: number;
}

type Fn = (a: number, b: number) => number;

/** Rounds of "all new" before the measured ones (the process's first round is reported on its own). */
const WARM_ROUNDS = 4;
const MEASURED_ROUNDS = 7;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

type Loop = (calls: number) => number;

/**
 * A timing loop of its own per function: a shared loop would see both functions at one call site
 * and time a polymorphic call instead of the function.
 */
function loopOf(fn: Fn): Loop {
  const make = new Function(
    "fn",
    "return function loop(calls) { let s = 0; const t0 = process.hrtime.bigint(); for (let i = 0; i < calls; i++) s += fn(i, 3); const ns = Number(process.hrtime.bigint() - t0) / calls; return s === 0.5 ? -ns : ns; };",
  ) as (fn: Fn) => Loop;
  return make(fn);
}

/** Target ÷ control, interleaved; the fastest round of each (the least disturbed by other load). */
function ratio(target: Loop, control: Loop): number {
  let t = Infinity;
  let c = Infinity;
  for (let r = 0; r < 21; r++) {
    t = Math.min(t, target(200_000));
    c = Math.min(c, control(200_000));
  }
  return t / c;
}

type Runtime = typeof import("../runtime/index.js");

const module = "bench/fns.ts";
const WARMED_ROUNDS = WARM_ROUNDS + MEASURED_ROUNDS;

/**
 * Attaches and starts `specs` instruments through the probes API, one per function, then removes
 * them, WARMED_ROUNDS times: the first round's time and the median of the rounds after warm-up.
 */
function byHand(d: Runtime, specs: number): ByHandChildResult {
  const rounds: number[] = [];
  let first = 0;
  for (let round = 0; round < WARMED_ROUNDS; round++) {
    const t = performance.now();
    for (let i = 0; i < specs; i++) {
      const p = d.probes.attachTo(`${module}:f${i + 2}`);
      p.instruments.set(`s${i}`, new d.IncrementInstrument(`n.f${i + 2}`, "1", { expressions: "safe" }));
      p.start();
    }
    const ms = performance.now() - t;
    if (round === 0) first = ms;
    if (round >= WARM_ROUNDS) rounds.push(ms);
    for (let i = 0; i < specs; i++) d.probes.remove(`${module}:f${i + 2}`);
  }
  return { byHandFirstMs: first, byHandMs: median(rounds) };
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]!) as ManagerChildConfig;
  const d = (await import(cfg.runtime)) as Runtime;
  const mod = (await import(pathToFileURL(join(cfg.dir, "fns.js")).href)) as Record<string, Fn>;
  if (cfg.byHandOnly === true) {
    writeFileSync(cfg.resultFile, JSON.stringify(byHand(d, cfg.specs)));
    return;
  }
  const mgr = new d.InstrumentManager({ processId: "bench" });
  mgr.errorOutput = { write: () => true };
  const doc = (fn: string) => ({
    target: `${module}:${fn}`,
    instrument: { type: "incr", name: `n.${fn}`, value: "1" },
    lifespan: null,
    lastmodified: new Date(),
    applied: {},
  });
  const target = loopOf(mod["f0"]!);
  const control = loopOf(mod["f1"]!);
  // Warm both before the first ratio, so neither is measured while being optimised.
  target(1_000_000);
  control(1_000_000);
  const ratioNeverTouched = ratio(target, control);

  // apply(): all new, then none changed. Functions f2… carry the specs.
  const allNew: number[] = [];
  let t = 0;
  let applyAllNewFirstMs = 0;
  const rounds = WARMED_ROUNDS;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < cfg.specs; i++) mgr.specs.set(`s${i}`, doc(`f${i + 2}`));
    t = performance.now();
    const r1 = await mgr.apply();
    const ms = performance.now() - t;
    if (round === 0) applyAllNewFirstMs = ms;
    if (round >= WARM_ROUNDS) allNew.push(ms);
    if (r1.attached.length !== cfg.specs)
      throw new Error(`attached ${r1.attached.length} of ${cfg.specs}: ${JSON.stringify(r1.refused.slice(0, 2))}`);
    if (round < rounds - 1) {
      mgr.specs.clear();
      await mgr.apply();
    }
  }
  const applyAllNewMs = median(allNew);
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
  const oneTarget: number[] = [];
  const oneTargetRemove: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < cfg.specs; i++) mgr.specs.set(`t${i}`, doc("f2"));
    t = performance.now();
    const r = await mgr.apply();
    oneTarget.push(performance.now() - t);
    if (r.attached.length !== cfg.specs) throw new Error(`one target: attached ${r.attached.length}`);
    mgr.specs.clear();
    t = performance.now();
    await mgr.apply();
    oneTargetRemove.push(performance.now() - t);
  }
  const { byHandMs } = byHand(d, cfg.specs);

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
    applyAllNewFirstMs,
    applyAllNewMs,
    byHandMs,
    applyNoneChangedMs: median(unchanged),
    storeListMs: median(lists),
    applyOneTargetMs: median(oneTarget),
    removeOneTargetMs: median(oneTargetRemove),
    cycles: cfg.cycles,
    churnMs,
    heapGrowthBytes,
    ratioNeverTouched,
    ratioAfterOnOff,
    ratioAfterChurn,
  };
  writeFileSync(cfg.resultFile, JSON.stringify(result));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
