/**
 * One (workload, variant) measurement, in its own process:
 *
 *   node --allow-natives-syntax --trace-deopt --trace-turbo-inlining dist/benchmarks/child.js '<config json>'
 *
 * Imports the variant's build of the workload, switches the variant on, calibrates a batch size,
 * warms up, runs the on→off cycle where the variant asks for it, then takes `samples` timed
 * samples of about `sampleMs` each (ns per operation). Markers on stdout delimit the measured
 * window for the parent's trace parser. Only after measuring does it read V8's optimization
 * status of the hot functions. The result goes to `resultFile` as JSON.
 *
 * With `fixedOps` in the config (the instruction-count phase, instructions.ts, which runs this
 * under callgrind) nothing is timed: it runs exactly `warm` ops, the variant's on→off cycle,
 * collects garbage fully (with --expose-gc), runs `warm` ops again, then marks, runs exactly `n`
 * measured ops and marks again (callgrind-marks.ts), and writes a `FixedOpsResult`.
 */
import { writeFileSync } from "node:fs";
import { setImmediate as tick } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { buildPath } from "./paths.js";
import { workloadByName, type WorkloadSpec } from "./catalog.js";
import { variantByName, type Variant, type VariantContext } from "./variants.js";
import { MEASURE_END, MEASURE_START, optimizationStatus } from "./v8-status.js";
import { mark } from "./callgrind-marks.js";

interface CommonConfig {
  readonly workload: string;
  readonly variant: string;
  readonly resultFile: string;
  readonly udpPort: number;
  readonly probeLine: number;
  readonly entryFile: string;
  readonly entryLine: number;
}

/** Timed mode (matrix.ts): warm up for a time, then timed samples. */
export interface ChildConfig extends CommonConfig {
  readonly warmupMs: number;
  readonly samples: number;
  readonly sampleMs: number;
}

/** Op counts of fixed-ops mode: `warm` ops of warm-up, then `n` measured ops (n may be 0). */
export interface FixedOps {
  readonly warm: number;
  readonly n: number;
}

export interface FixedOpsConfig extends CommonConfig {
  readonly fixedOps: FixedOps;
}

export interface ChildResult {
  readonly workload: string;
  readonly variant: string;
  /** ns per operation, one per sample. */
  readonly samples: number[];
  readonly opsPerSample: number;
  /** Probe (or peer hook) hits per operation while measuring; null when nothing counts hits. */
  readonly hitsPerOp: number | null;
  /** Raw `%GetOptimizationStatus` per hot function label. */
  readonly status: Record<string, number>;
  /** Functions the shim replaced (status is read from the original). */
  readonly checksum: number;
}

export interface FixedOpsResult {
  readonly workload: string;
  readonly variant: string;
  /** Ops run before the measured ones (warm-up and the variant's cycle). */
  readonly warmOps: number;
  /** Measured ops, as counted by the runner (the parent checks it is `fixedOps.n`). */
  readonly ops: number;
  readonly checksum: number;
}

type Op = (i: number) => number | Promise<number>;

let sink = 0;

function runSync(op: (i: number) => number, n: number, base: number): void {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += op(base + i);
  sink += acc;
}

async function runAsync(op: (i: number) => Promise<number>, n: number, base: number): Promise<void> {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += await op(base + i);
  sink += acc;
}

async function hotFunctions(
  spec: WorkloadSpec,
  build: Parameters<typeof buildPath>[0],
): Promise<Record<string, Function>> {
  const out: Record<string, Function> = {};
  for (const h of spec.hot) {
    const mod = (await import(pathToFileURL(buildPath(build, h.file)).href)) as Record<string, unknown>;
    let fn = mod[h.exportName] as Function | undefined;
    if (fn !== undefined && h.method !== undefined)
      fn = (fn as unknown as { prototype: Record<string, Function> }).prototype[h.method];
    if (typeof fn !== "function") continue;
    // A shimmer wrapper: report the wrapped original (the wrapper itself is never inlined away).
    const original = (fn as unknown as { __original?: Function }).__original;
    out[h.label] = original ?? fn;
  }
  return out;
}

/** The workload's `op` in the variant's build, and a runner of n ops (awaiting each op when async). */
interface Workload {
  readonly spec: WorkloadSpec;
  readonly variant: Variant;
  /** Runs n operations (continuing the op index); returns milliseconds. */
  run(n: number): Promise<number>;
  /** Operations run so far. */
  opsRun(): number;
}

async function loadWorkload(cfg: CommonConfig): Promise<Workload> {
  const spec = workloadByName(cfg.workload);
  const variant = variantByName(cfg.variant);
  variant.beforeImport?.();
  const mod = (await import(pathToFileURL(buildPath(variant.build, `bench/${spec.name}.ts`)).href)) as { op: Op };
  const op = mod.op;
  let base = 0;
  return {
    spec,
    variant,
    async run(n) {
      const t0 = performance.now();
      if (spec.async) await runAsync(op as (i: number) => Promise<number>, n, base);
      else runSync(op as (i: number) => number, n, base);
      const t = performance.now() - t0;
      base += n;
      return t;
    },
    opsRun: () => base,
  };
}

function variantContext(cfg: CommonConfig, spec: WorkloadSpec, warm: (ms: number) => Promise<void>): VariantContext {
  return {
    spec,
    probeLine: cfg.probeLine,
    entryFile: cfg.entryFile,
    entryLine: cfg.entryLine,
    udpPort: cfg.udpPort,
    warm,
  };
}

async function timed(cfg: ChildConfig): Promise<ChildResult> {
  const { spec, variant, run } = await loadWorkload(cfg);

  // Batches of ~5 ms while warming; the event loop turns between them (UDP sends, timers).
  let batch = 1;
  let opsPerMs = 0;
  const warm = async (ms: number): Promise<void> => {
    const end = performance.now() + ms;
    do {
      const t = await run(batch);
      if (t > 0) opsPerMs = batch / t;
      batch = Math.max(1, Math.min(batch * 4, Math.round(opsPerMs * 5) || batch * 2));
      await tick();
    } while (performance.now() < end);
  };

  const active = await variant.setup(variantContext(cfg, spec, warm));
  await warm(cfg.warmupMs);
  await active.afterWarmup?.();
  await warm(Math.min(cfg.warmupMs, 100));

  const n = Math.max(1, Math.round(opsPerMs * cfg.sampleMs));
  const hits0 = active.hits();
  const samples: number[] = [];
  process.stdout.write(`${MEASURE_START}\n`);
  for (let s = 0; s < cfg.samples; s++) {
    const ms = await run(n);
    samples.push((ms * 1e6) / n);
    await tick();
  }
  process.stdout.write(`${MEASURE_END}\n`);
  const hits1 = active.hits();
  const hitsPerOp = hits0 === undefined || hits1 === undefined ? null : (hits1 - hits0) / (n * cfg.samples);

  const status = optimizationStatus(await hotFunctions(spec, variant.build));
  await active.close?.();
  return { workload: spec.name, variant: variant.name, samples, opsPerSample: n, hitsPerOp, status, checksum: sink };
}

/**
 * A warm-up of `fixedOps.warm` ops stands for this many ms of timed warm-up: a variant's
 * `ctx.warm(ms)` (the on→off cycle's 200 ms on, 400 ms off) runs `warm × ms / 500` ops.
 */
const FIXED_WARM_AS_MS = 500;

/**
 * Calls of the op loop per `warm` ops in fixed-ops mode. One long call per phase left the loop to
 * on-stack replacement, and each phase's first call compiled it again: inside the measured ops,
 * the handler workload's OSR compile (inlining the handler) took 13.4 ms in plain against 1.6 ms
 * instrumented (`--trace-opt`), which made plain count 1.2× the instrumented build's instructions.
 * Called 200 times, the loop is optimized as a function during warm-up.
 */
const FIXED_CHUNKS = 200;

/**
 * Fixed-ops mode: the same steps as `timed` with op counts instead of durations, and nothing
 * else — no clock-driven batches, no event-loop turns between them, no V8 status, no stdout — so
 * what runs between the marks is the same instruction for instruction in every run.
 */
async function fixedOps(cfg: FixedOpsConfig): Promise<FixedOpsResult> {
  const { spec, variant, run: runOnce, opsRun } = await loadWorkload(cfg);
  const { warm, n } = cfg.fixedOps;
  const chunk = Math.max(1, Math.round(warm / FIXED_CHUNKS));
  const run = async (ops: number): Promise<void> => {
    for (let done = 0; done < ops; done += chunk) await runOnce(Math.min(chunk, ops - done));
  };
  const warmFor = async (ms: number): Promise<void> =>
    void (await run(Math.max(1, Math.round((warm * ms) / FIXED_WARM_AS_MS))));
  const active = await variant.setup(variantContext(cfg, spec, warmFor));
  await warmFor(FIXED_WARM_AS_MS);
  await active.afterWarmup?.();
  // A full collection, so the measured ops start from the same old generation in every run:
  // where the last mark-compact fell during start-up decides when incremental marking (and its
  // write barriers) turns on, which moved the lexer's ops by up to 1.8× between runs. A forced
  // collection also flushes compiled code (`--trace-opt`: 61 of markdown's functions compiled
  // again inside the measured ops), so a full warm-up follows it and the recompiles fall there.
  // (Markdown still compiles 16–19 rarely reached functions inside its 300 measured ops.)
  (globalThis as { gc?: () => void }).gc?.();
  await warmFor(FIXED_WARM_AS_MS);
  const warmOps = opsRun();
  mark();
  await run(n);
  mark();
  const ops = opsRun() - warmOps;
  await active.close?.();
  return { workload: spec.name, variant: variant.name, warmOps, ops, checksum: sink };
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? "") as ChildConfig | FixedOpsConfig;
  const result = "fixedOps" in cfg ? await fixedOps(cfg) : await timed(cfg);
  writeFileSync(cfg.resultFile, JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
