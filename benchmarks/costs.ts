/**
 * Costs beyond the off state (issue 15): what a user pays for instrumented code besides the
 * steady-state time of unprobed code, each against plain in one run:
 *
 * - per hit: ns per hit of a no-op "call" probe on the smallest hot functions of the third-party
 *   workloads and on larger ones (one process per function; blocks with the probe off and on
 *   alternate, each after its own warm-up; ns/hit = (on − off) ÷ hits per op, median of rounds);
 * - size: the workload's JavaScript after type stripping, raw and gzip, instrumented ÷ plain;
 * - heap: the bytes reachable (a heap snapshot) once a library's module graph is loaded, minus
 *   those before importing it, instrumented ÷ plain (median of several processes per build);
 * - warm-up: instructions per op by op index (callgrind, instructions.ts's flags): one process
 *   per build marks a ladder of op counts (callgrind-marks.ts), each bucket's instructions ÷ its
 *   ops, then the first hundred ops ÷ steady state;
 * - cold start: one process that loads every rxjs module that loads on its own plus the library
 *   workload and runs one op, instrumented ÷ plain (median of processes, alternating builds).
 *
 * The build-time ratios of the issue come from build-side.ts, already part of the run.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { BuildManifest } from "./build-workloads.js";
import type { WorkloadSpec } from "./catalog.js";
import type { ColdResult, DirectCall, HeapResult, OpsConfig, PerHitResult } from "./costs-child.js";
import { inParallel, NODE_FLAGS, valgrindVersion } from "./instructions.js";
import { countMarked } from "./callgrind-marks.js";
import { BUILDS, buildPath, WORK, type BuildKind } from "./paths.js";
import { median } from "./stats.js";

const CHILD = join(fileURLToPath(new URL(".", import.meta.url)), "costs-child.js");
const DIR = join(WORK, "costs");
const COMPARED: readonly BuildKind[] = ["plain", "diagnose"];

/** Functions the per-hit probe goes on: the smallest hot ones ("tiny") and larger ones. */
export interface PerHitTarget {
  readonly workload: string;
  readonly size: "tiny" | "larger";
  readonly target: string;
  readonly what: string;
  /** Called from a loop instead of through the workload (see DirectCall); `file` is inside the build. */
  readonly direct?: Omit<DirectCall, "file" | "calls"> & { readonly file: string };
}

export const PER_HIT_TARGETS: readonly PerHitTarget[] = [
  {
    workload: "markdown",
    size: "tiny",
    target: "src/markdown.ts:space",
    what: "1-line character predicate, called from a loop",
    direct: { file: "@lezer/markdown/src/markdown.ts", exportName: "space", args: "char-code" },
  },
  {
    workload: "lexer",
    size: "tiny",
    target: "src/scan/lexer_public.ts:Lexer.computeNewColumn",
    what: "1-line column update, called from a loop",
    direct: {
      file: "chevrotain/src/scan/lexer_public.ts",
      exportName: "Lexer",
      method: "computeNewColumn",
      args: "two-ints",
    },
  },
  {
    workload: "lexer",
    size: "larger",
    target: "src/scan/lexer_public.ts:Lexer.createFullToken",
    what: "token object of 9 fields, called from a loop",
    direct: {
      file: "chevrotain/src/scan/lexer_public.ts",
      exportName: "Lexer",
      method: "createFullToken",
      args: "token",
    },
  },
  {
    workload: "markdown",
    size: "larger",
    target: "src/markdown.ts:BlockContext.scanLine",
    what: "25-line line scanner, per line of a parse",
  },
  {
    workload: "lexer",
    size: "tiny",
    target: "src/scan/lexer_public.ts:Lexer.computeNewColumn",
    what: "the same, per token of a tokenize",
  },
  {
    workload: "library",
    size: "larger",
    target: "src/internal/Subscriber.ts:Subscriber.next",
    what: "rxjs Subscriber.next, per value of a pipeline",
  },
];

/** Workloads whose library the size, heap and warm-up measures cover. */
const THIRD_PARTY = (specs: readonly WorkloadSpec[]) => specs.filter((s) => s.libraries.length > 0);

export interface Ratio {
  readonly plain: number;
  readonly diagnose: number;
  readonly ratio: number;
}

export interface PerHitMeasure extends PerHitTarget {
  readonly nsPerHit: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly hitsPerOp: number | null;
  readonly offNsPerOp: number | null;
  /** On ÷ off, time per op (median of rounds). */
  readonly opRatio: number | null;
  readonly error?: string;
}

export interface WarmupBucket {
  /** Ops (first, last], 1-based; `steady` is the last bucket. */
  readonly from: number;
  readonly to: number;
  readonly steady: boolean;
  readonly plain: number;
  readonly diagnose: number;
  readonly ratio: number;
}

export interface WarmupMeasure {
  readonly workload: string;
  readonly buckets: WarmupBucket[];
  /** Mean instructions/op of the first hundred ops ÷ steady state, per build. */
  readonly firstHundredOverSteady: { readonly plain: number; readonly diagnose: number };
  /** The diagnose build's first hundred ops ÷ plain's. */
  readonly firstHundredRatio: number;
  readonly errors: string[];
}

export interface CostsResult {
  readonly perHit: PerHitMeasure[] | { skipped: string };
  readonly size: { workload: string; raw: Ratio; gzip: Ratio }[] | { skipped: string };
  readonly heap: { workload: string; processes: number; bytes: Ratio }[] | { skipped: string };
  readonly warmup: { tool: string; measures: WarmupMeasure[] } | { skipped: string };
  readonly coldStart:
    | { graph: string; modules: number; processes: number; loadAndFirstCallMs: Ratio; processMs: Ratio }
    | { skipped: string };
}

export interface CostsOptions {
  readonly quick: boolean;
  readonly perHit: boolean;
  readonly size: boolean;
  readonly heap: boolean;
  /** undefined: the mode's default (on in full, off in --quick), as for the instruction phase. */
  readonly warmup: boolean | undefined;
  readonly coldStart: boolean;
}

interface ChildRun {
  readonly ok: boolean;
  readonly stderr: string;
  readonly ms: number;
}

function runChild(args: readonly string[], prefix: readonly string[] = []): Promise<ChildRun> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const cmd = prefix[0] ?? process.execPath;
    const argv = prefix.length > 0 ? [...prefix.slice(1), process.execPath, ...args] : [...args];
    const child = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
    const err: Buffer[] = [];
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, stderr: Buffer.concat(err).toString("utf8"), ms: performance.now() - t0 });
    });
  });
}

function firstError(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("=="))
    .slice(0, 3)
    .join(" | ");
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

const ratio = (plain: number, diagnose: number): Ratio => ({ plain, diagnose, ratio: diagnose / plain });

// ---------------------------------------------------------------------------------------------
// per hit

async function measurePerHit(
  specs: readonly WorkloadSpec[],
  quick: boolean,
  log: (line: string) => void,
): Promise<PerHitMeasure[]> {
  const names = new Set(specs.map((s) => s.name));
  const out: PerHitMeasure[] = [];
  for (const t of PER_HIT_TARGETS.filter((x) => names.has(x.workload))) {
    const resultFile = join(DIR, `perhit.${out.length}.json`);
    const cfg = {
      resultFile,
      module: buildPath("diagnose", `bench/${t.workload}.ts`),
      target: t.target,
      ...(t.direct ? { direct: { ...t.direct, file: buildPath("diagnose", t.direct.file), calls: 1_000 } } : {}),
      rounds: quick ? 3 : 9,
      warmMs: quick ? 80 : 300,
      blockMs: quick ? 40 : 150,
    };
    const run = await runChild([CHILD, "perhit", JSON.stringify(cfg)]);
    const empty = { nsPerHit: null, min: null, max: null, hitsPerOp: null, offNsPerOp: null, opRatio: null };
    if (!run.ok) {
      out.push({ ...t, ...empty, error: firstError(run.stderr) });
      continue;
    }
    const r = readJson<PerHitResult>(resultFile);
    const perHit = r.rounds.filter((x) => x.hitsPerOp > 0).map((x) => (x.onNsPerOp - x.offNsPerOp) / x.hitsPerOp);
    const m: PerHitMeasure =
      perHit.length === 0
        ? { ...t, ...empty, error: r.error ?? "the probe never fired (is the target hot in this workload?)" }
        : {
            ...t,
            nsPerHit: median(perHit),
            min: Math.min(...perHit),
            max: Math.max(...perHit),
            hitsPerOp: median(r.rounds.map((x) => x.hitsPerOp)),
            offNsPerOp: median(r.rounds.map((x) => x.offNsPerOp)),
            opRatio: median(r.rounds.map((x) => x.onNsPerOp / x.offNsPerOp)),
            ...(r.error ? { error: r.error } : {}),
          };
    log(
      `  per hit: ${t.target} (${t.workload}${t.direct ? ", from a loop" : ""}): ${m.nsPerHit === null ? `failed (${m.error})` : `+${m.nsPerHit.toFixed(0)} ns/hit, ${m.hitsPerOp?.toFixed(0)} hits/op`}`,
    );
    out.push(m);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// size

function jsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...jsFiles(p));
    else if (e.name.endsWith(".js")) out.push(p);
  }
  return out.sort();
}

/** The workload's own module and its library's modules, as built. */
function workloadFiles(build: BuildKind, spec: WorkloadSpec): string[] {
  return [buildPath(build, `bench/${spec.name}.ts`), ...spec.libraries.flatMap((l) => jsFiles(join(BUILDS, build, l)))];
}

export function measureSizes(specs: readonly WorkloadSpec[]): { workload: string; raw: Ratio; gzip: Ratio }[] {
  return specs.map((spec) => {
    const total = (build: BuildKind) => {
      let raw = 0;
      let gzip = 0;
      for (const f of workloadFiles(build, spec)) {
        const code = readFileSync(f);
        raw += code.length;
        gzip += gzipSync(code).length;
      }
      return { raw, gzip };
    };
    const p = total("plain");
    const d = total("diagnose");
    return { workload: spec.name, raw: ratio(p.raw, d.raw), gzip: ratio(p.gzip, d.gzip) };
  });
}

// ---------------------------------------------------------------------------------------------
// heap

async function measureHeap(specs: readonly WorkloadSpec[], processes: number, log: (line: string) => void) {
  const out: { workload: string; processes: number; bytes: Ratio }[] = [];
  for (const spec of specs) {
    const grown: Record<string, number[]> = { plain: [], diagnose: [] };
    for (let i = 0; i < processes; i++) {
      for (const build of COMPARED) {
        const resultFile = join(DIR, `heap.${spec.name}.${build}.${i}.json`);
        const run = await runChild([
          CHILD,
          "heap",
          JSON.stringify({ resultFile, module: buildPath(build, `bench/${spec.name}.ts`) }),
        ]);
        if (!run.ok) throw new Error(`heap child (${spec.name}, ${build}) failed: ${firstError(run.stderr)}`);
        const r = readJson<HeapResult>(resultFile);
        grown[build]!.push(r.after - r.before);
      }
    }
    const bytes = ratio(median(grown["plain"]!), median(grown["diagnose"]!));
    log(
      `  heap: ${spec.name}: ${(bytes.plain / 1024).toFixed(0)} KB plain, ${(bytes.diagnose / 1024).toFixed(0)} KB instrumented (${bytes.ratio.toFixed(2)}×)`,
    );
    out.push({ workload: spec.name, processes, bytes });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// warm-up curve

/**
 * Op counts marked in one process: buckets (a, b] of the first hundred ops, then `steadyOps` ops
 * from `steadyFrom` on. Steady means after the op count the instruction phase warms up with
 * (catalog.ts `instructionOps`): at op 100 the lexer's TurboFan compiles were still coming, so a
 * steady bucket of ops 101–300 read 835,000 instructions per op for plain against 464,000 warm.
 */
export function warmupLadder(
  quick: boolean,
  steadyOps: number,
  steadyFrom = 100,
): { edges: number[]; steady: [number, number] } {
  const from = Math.max(100, steadyFrom);
  return quick
    ? { edges: [0, 10, 100], steady: [from, from + steadyOps] }
    : { edges: [0, 1, 2, 5, 10, 20, 50, 100], steady: [from, from + steadyOps] };
}

async function measureWarmup(specs: readonly WorkloadSpec[], quick: boolean, log: (line: string) => void) {
  const version = valgrindVersion();
  if (version === undefined) return { skipped: "valgrind is not on PATH (install valgrind to count instructions)" };
  const measures: WarmupMeasure[] = [];
  for (const spec of specs) {
    // 200 steady ops read as steady as more would; more only lengthen the runs.
    const steadyOps = quick ? 100 : Math.min(spec.instructionOps, 200);
    const { edges, steady } = warmupLadder(quick, steadyOps, quick ? 100 : spec.instructionOps);
    const marks = [...new Set([...edges, ...steady])].sort((a, b) => a - b);
    const errors: string[] = [];
    // One process per build: the intervals between its marks are the buckets, so start-up (which
    // differs from process to process) is in none of them.
    const jobs = COMPARED.map((build) => async (): Promise<[string, number[] | undefined]> => {
      const resultFile = join(DIR, `ops.${spec.name}.${build}.json`);
      const cfg: OpsConfig = { resultFile, module: buildPath(build, `bench/${spec.name}.ts`), marks };
      const run = await countMarked([...NODE_FLAGS, CHILD, "ops", JSON.stringify(cfg)], marks.length);
      if ("error" in run) {
        errors.push(`${build}: ${run.error}`);
        return [build, undefined];
      }
      return [build, run.intervals];
    });
    log(`  warm-up: ${spec.name}: ${jobs.length} callgrind runs, one per build`);
    const results = await inParallel(jobs, 2);
    /** Instructions per op over ops (a, b]: the intervals between marks a and b. */
    const perOp = (build: string, a: number, b: number) => {
      const intervals = results.find(([x]) => x === build)?.[1];
      if (intervals === undefined) return NaN;
      let sum = 0;
      for (let k = marks.indexOf(a); k < marks.indexOf(b); k++) sum += intervals[k]!;
      return sum / (b - a);
    };
    const bucket = (a: number, b: number, isSteady: boolean): WarmupBucket => {
      const plain = perOp("plain", a, b);
      const diagnose = perOp("diagnose", a, b);
      return { from: a, to: b, steady: isSteady, plain, diagnose, ratio: diagnose / plain };
    };
    const buckets = edges.slice(1).map((b, i) => bucket(edges[i]!, b, false));
    buckets.push(bucket(steady[0], steady[1], true));
    const first = (build: string) => perOp(build, 0, 100);
    const steadyOf = (build: string) => perOp(build, steady[0], steady[1]);
    measures.push({
      workload: spec.name,
      buckets,
      firstHundredOverSteady: {
        plain: first("plain") / steadyOf("plain"),
        diagnose: first("diagnose") / steadyOf("diagnose"),
      },
      firstHundredRatio: first("diagnose") / first("plain"),
      errors,
    });
  }
  return { tool: version, measures };
}

// ---------------------------------------------------------------------------------------------
// cold start

/** Every rxjs module of a build that loads on its own (type-only re-exports do not), in one process. */
async function loadableRxjs(): Promise<string[]> {
  const root = join(BUILDS, "plain");
  const files = jsFiles(join(root, "rxjs", "src", "internal")).map((f) => relative(root, f).split("\\").join("/"));
  const resultFile = join(DIR, "loadable.json");
  const probe = join(root, "costs-loadable.mjs");
  writeFileSync(
    probe,
    `import { writeFileSync } from "node:fs";\nconst files = ${JSON.stringify(files)};\nconst ok = [];\nfor (const f of files) { try { await import("./" + f); ok.push(f); } catch {} }\nwriteFileSync(${JSON.stringify(resultFile)}, JSON.stringify(ok));\n`,
  );
  const run = await runChild([probe]);
  if (!run.ok) throw new Error(`listing loadable rxjs modules failed: ${firstError(run.stderr)}`);
  return readJson<string[]>(resultFile);
}

async function measureColdStart(specs: readonly WorkloadSpec[], processes: number, log: (line: string) => void) {
  if (!specs.some((s) => s.name === "library") || !existsSync(buildPath("plain", "bench/library.ts")))
    return { skipped: "the library workload (rxjs) is not built in this run (add --workload library)" };
  const modules = await loadableRxjs();
  const entry = (build: BuildKind) => {
    const file = join(BUILDS, build, "costs-cold-entry.mjs");
    // Static imports: the graph is linked and evaluated as one, as an application's start-up would.
    const lines = modules.map((m) => `import "./${m}";`);
    writeFileSync(
      file,
      `${lines.join("\n")}\nexport { op } from "./bench/library.js";\nexport const modules = ${modules.length + 1};\n`,
    );
    return file;
  };
  const entries = { plain: entry("plain"), diagnose: entry("diagnose") };
  const load: Record<string, number[]> = { plain: [], diagnose: [] };
  const wall: Record<string, number[]> = { plain: [], diagnose: [] };
  // One unmeasured run each: the first process after a build pays for the disk cache.
  for (const build of COMPARED)
    await runChild([
      CHILD,
      "cold",
      JSON.stringify({ resultFile: join(DIR, "cold.warm.json"), entry: entries[build as "plain"] }),
    ]);
  for (let i = 0; i < processes; i++) {
    for (const build of i % 2 === 0 ? COMPARED : [...COMPARED].reverse()) {
      const resultFile = join(DIR, `cold.${build}.${i}.json`);
      const run = await runChild([CHILD, "cold", JSON.stringify({ resultFile, entry: entries[build as "plain"] })]);
      if (!run.ok) throw new Error(`cold-start child (${build}) failed: ${firstError(run.stderr)}`);
      load[build]!.push(readJson<ColdResult>(resultFile).loadAndFirstCallMs);
      wall[build]!.push(run.ms);
    }
  }
  const loadAndFirstCallMs = ratio(median(load["plain"]!), median(load["diagnose"]!));
  const processMs = ratio(median(wall["plain"]!), median(wall["diagnose"]!));
  log(
    `  cold start: ${modules.length + 1} modules: load + first op ${loadAndFirstCallMs.plain.toFixed(1)} → ${loadAndFirstCallMs.diagnose.toFixed(1)} ms (${loadAndFirstCallMs.ratio.toFixed(2)}×), whole process ${processMs.ratio.toFixed(2)}×`,
  );
  return {
    graph: "every rxjs/src/internal module that loads on its own + the library workload",
    modules: modules.length + 1,
    processes,
    loadAndFirstCallMs,
    processMs,
  };
}

// ---------------------------------------------------------------------------------------------

export async function measureCosts(
  specs: readonly WorkloadSpec[],
  manifest: BuildManifest,
  opts: CostsOptions,
  log: (line: string) => void,
): Promise<CostsResult> {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const built = specs.filter((s) => manifest.workloads[s.name] !== undefined);
  const third = THIRD_PARTY(built);
  const none = (what: string) => ({ skipped: `no third-party workload selected for ${what}` });
  log("costs beyond the off state:");
  const perHit = !opts.perHit ? { skipped: "disabled with --no-per-hit" } : await measurePerHit(built, opts.quick, log);
  const size = !opts.size
    ? { skipped: "disabled with --no-size" }
    : third.length === 0
      ? none("sizes")
      : measureSizes(third);
  const heap = !opts.heap
    ? { skipped: "disabled with --no-heap" }
    : third.length === 0
      ? none("heap")
      : // Snapshots are deterministic: three processes only show that they agree.
        await measureHeap(third, 3, log);
  const warmupOn = opts.warmup ?? !opts.quick;
  // --quick counts one workload's curve, with three buckets: callgrind runs are ~50× slower.
  const warmupSpecs = opts.quick ? third.slice(0, 1) : third;
  const warmup = !warmupOn
    ? { skipped: opts.quick ? "not part of --quick (add --warmup)" : "disabled with --no-warmup" }
    : warmupSpecs.length === 0
      ? none("the warm-up curve")
      : await measureWarmup(warmupSpecs, opts.quick, log);
  const coldStart = !opts.coldStart
    ? { skipped: "disabled with --no-cold-start" }
    : await measureColdStart(built, opts.quick ? 3 : 11, log);
  return { perHit, size, heap, warmup, coldStart };
}

// ---------------------------------------------------------------------------------------------
// report

/** The build ratios of the issue's table, read from build-side.ts's result when it ran. */
export interface BuildRatios {
  readonly instrumentVsStrip: number | null;
  readonly tspcVsTsc: number | null;
}

interface Row {
  readonly measure: string;
  readonly now: string;
  readonly goal: string;
  readonly met: boolean | null;
}

const x2 = (n: number) => `${n.toFixed(2)}×`;
function span(values: readonly number[], fmt: (n: number) => string): string {
  if (values.length === 0) return "not measured";
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi || fmt(lo) === fmt(hi) ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
}

/** The issue's table, filled from this run: now vs goal (reported, never asserted). */
export function costRows(c: CostsResult, build: BuildRatios): Row[] {
  const rows: Row[] = [];
  const all = (xs: readonly number[], ok: (n: number) => boolean) => (xs.length === 0 ? null : xs.every(ok));
  // Loop-driven measures when a size has them: through a whole workload a few hits per op sit
  // under its run-to-run noise on a shared machine.
  const hits = (size: "tiny" | "larger") => {
    const ok = "skipped" in c.perHit ? [] : c.perHit.filter((m) => m.size === size && m.nsPerHit !== null);
    const direct = ok.filter((m) => m.direct !== undefined);
    return (direct.length > 0 ? direct : ok).map((m) => m.nsPerHit!);
  };
  const ns = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(0)} ns`;
  const tiny = hits("tiny");
  const larger = hits("larger");
  rows.push({
    measure: 'no-op "call" probe on a tiny hot function, per hit',
    now: span(tiny, ns),
    goal: "≤ 50 ns on every workload",
    met: all(tiny, (n) => n <= 50),
  });
  rows.push({
    measure: "same on larger functions",
    now: span(larger, ns),
    goal: "≤ 30 ns",
    met: all(larger, (n) => n <= 30),
  });
  const raw = "skipped" in c.size ? [] : c.size.map((s) => s.raw.ratio);
  const gz = "skipped" in c.size ? [] : c.size.map((s) => s.gzip.ratio);
  rows.push({
    measure: "output size after type stripping, raw / gzip",
    now: `${span(raw, x2)} / ${span(gz, x2)}`,
    goal: "≤ 2.0× / ≤ 1.6×",
    met: raw.length === 0 ? null : raw.every((n) => n <= 2) && gz.every((n) => n <= 1.6),
  });
  const one = (n: number | null, goal: number) => ({
    now: n === null ? "not measured" : x2(n),
    met: n === null ? null : n <= goal,
  });
  rows.push({
    measure: "`instrument()` + strip vs plain SWC strip, in-process, warmed",
    ...one(build.instrumentVsStrip, 3),
    goal: "≤ 3×",
  });
  rows.push({ measure: "`tspc` with the plugin vs `tsc`", ...one(build.tspcVsTsc, 1.3), goal: "≤ 1.3×" });
  const heap = "skipped" in c.heap ? [] : c.heap.map((h) => h.bytes.ratio);
  rows.push({
    measure: "heap after loading a library, instrumented ÷ plain",
    now: span(heap, x2),
    goal: "≤ 1.5×",
    met: all(heap, (n) => n <= 1.5),
  });
  const warm =
    "skipped" in c.warmup ? [] : c.warmup.measures.map((m) => m.firstHundredRatio).filter((n) => Number.isFinite(n));
  rows.push({
    measure: "warm-up: instructions of the first hundred ops, instrumented ÷ plain",
    now: span(warm, x2),
    goal: "same as plain (≤ 1.05×)",
    met: all(warm, (n) => n <= 1.05),
  });
  const cold = "skipped" in c.coldStart ? null : c.coldStart.loadAndFirstCallMs.ratio;
  rows.push({ measure: "cold start: load + first call of a large module graph", ...one(cold, 1.2), goal: "≤ 1.2×" });
  return rows;
}

function mdTable(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

const metCell = (m: boolean | null) => (m === null ? "—" : m ? "met" : "not met");

export function costsSummary(c: CostsResult, build: BuildRatios): string {
  return mdTable(
    ["measure (ratios: instrumented ÷ plain)", "now", "goal", ""],
    costRows(c, build).map((r) => [r.measure, r.now, r.goal, metCell(r.met)]),
  );
}

export function costsText(c: CostsResult | undefined, build: BuildRatios): string {
  if (c === undefined) return "Not measured in this run.";
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const parts = [
    "What a user pays besides the off state's steady-state time (issue 15), each against plain in this run. Goals are reported, never asserted.",
    "",
    costsSummary(c, build),
    "",
    '**Per hit** of a no-op `"call"` probe (instrumented build; one process per function: blocks with the probe off and on alternate, each after its own warm-up; (on − off) ÷ hits per op, median and min–max of the rounds):',
    "",
    "skipped" in c.perHit
      ? `Skipped: ${c.perHit.skipped}.`
      : mdTable(
          ["workload", "function", "size", "called", "hits/op", "ns/op off", "op on ÷ off", "ns/hit (min–max)"],
          c.perHit.map((m) => [
            m.workload,
            `\`${m.target}\` (${m.what})`,
            m.size,
            m.direct ? "loop of 1,000 calls per op" : "by the workload",
            m.hitsPerOp === null ? "—" : m.hitsPerOp.toFixed(0),
            m.offNsPerOp === null ? "—" : m.offNsPerOp.toFixed(0),
            m.opRatio === null ? "—" : x2(m.opRatio),
            m.nsPerHit === null
              ? `failed: ${m.error ?? "?"}`
              : `+${m.nsPerHit.toFixed(0)} (${m.min!.toFixed(0)}–${m.max!.toFixed(0)})`,
          ]),
        ),
    "",
    "**Output size** of each workload's JavaScript (its module and its library's) after type stripping:",
    "",
    "skipped" in c.size
      ? `Skipped: ${c.size.skipped}.`
      : mdTable(
          ["workload", "raw plain → instrumented", "raw ratio", "gzip plain → instrumented", "gzip ratio"],
          c.size.map((s) => [
            s.workload,
            `${kb(s.raw.plain)} → ${kb(s.raw.diagnose)}`,
            x2(s.raw.ratio),
            `${kb(s.gzip.plain)} → ${kb(s.gzip.diagnose)}`,
            x2(s.gzip.ratio),
          ]),
        ),
    "",
    "**Heap**: the bytes reachable (the self sizes of a heap snapshot, which collects garbage first) once the workload's module graph is loaded, minus before importing it (median of processes):",
    "",
    "skipped" in c.heap
      ? `Skipped: ${c.heap.skipped}.`
      : mdTable(
          ["workload", "processes per build", "plain", "instrumented", "ratio"],
          c.heap.map((h) => [
            h.workload,
            String(h.processes),
            kb(h.bytes.plain),
            kb(h.bytes.diagnose),
            x2(h.bytes.ratio),
          ]),
        ),
    "",
    `**Warm-up curve**: instructions per op by op index, in one fresh process per build (callgrind, Node with \`${NODE_FLAGS.join(" ")}\`; the instructions between the marks at ops a and b, over ops a+1…b):`,
    "",
  ];
  if ("skipped" in c.warmup) parts.push(`Skipped: ${c.warmup.skipped}.`);
  else {
    parts.push(`${c.warmup.tool}.`, "");
    for (const m of c.warmup.measures) {
      parts.push(
        mdTable(
          [`${m.workload}: ops`, "plain instr/op", "instrumented instr/op", "ratio"],
          m.buckets.map((b) => [
            b.steady ? `steady (${b.from + 1}–${b.to})` : b.to - b.from === 1 ? `${b.to}` : `${b.from + 1}–${b.to}`,
            b.plain.toFixed(0),
            b.diagnose.toFixed(0),
            x2(b.ratio),
          ]),
        ),
        "",
        `First hundred ops ÷ steady state: plain ${x2(m.firstHundredOverSteady.plain)}, instrumented ${x2(m.firstHundredOverSteady.diagnose)}; instrumented ÷ plain over the first hundred: ${x2(m.firstHundredRatio)}.${m.errors.length ? ` Errors: ${m.errors.join("; ")}` : ""}`,
        "",
      );
    }
  }
  parts.push(
    "",
    "**Cold start**: one process loads a large module graph and runs one op (median of processes, builds alternating):",
    "",
  );
  if ("skipped" in c.coldStart) parts.push(`Skipped: ${c.coldStart.skipped}.`);
  else {
    const cs = c.coldStart;
    parts.push(
      `${cs.graph}: ${cs.modules} modules, ${cs.processes} processes per build. Load + first op: ${cs.loadAndFirstCallMs.plain.toFixed(0)} ms plain, ${cs.loadAndFirstCallMs.diagnose.toFixed(0)} ms instrumented (${x2(cs.loadAndFirstCallMs.ratio)}); whole process, spawn to exit: ${cs.processMs.plain.toFixed(0)} → ${cs.processMs.diagnose.toFixed(0)} ms (${x2(cs.processMs.ratio)}).`,
    );
  }
  return parts.join("\n");
}
