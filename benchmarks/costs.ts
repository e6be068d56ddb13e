/**
 * Costs beyond the off state (issue 15): what a user pays for instrumented code besides the
 * steady-state time of unprobed code, each against plain in one run:
 *
 * - per hit: ns per hit of a no-op "call" probe on the smallest hot functions of the third-party
 *   workloads and on larger ones (one process per function; blocks with the probe off and on
 *   alternate, each after its own warm-up; ns/hit = (on − off) ÷ hits per op, median of rounds);
 * - size: the workload's JavaScript after type stripping, raw and gzip, instrumented ÷ plain;
 *   for the deferred build, the copy text its modules name (a cache file, read only when a probe
 *   needs it) is counted apart;
 * - heap: the bytes reachable (a heap snapshot) once a library's module graph is loaded, minus
 *   those before importing it, instrumented ÷ plain (median of several processes per build); no
 *   probe, so the deferred build's copy text stays on disk;
 * - warm-up: instructions per op by op index (callgrind, instructions.ts's flags): one process
 *   per build marks a ladder of op counts (callgrind-marks.ts), each bucket's instructions ÷ its
 *   ops, then the first hundred ops ÷ steady state;
 * - cold start: one process that loads every rxjs module that loads on its own plus the library
 *   workload and runs one op, instrumented ÷ plain (median of processes, builds in rotating order).
 *
 * Those four compare both instrumented builds: inline copies (`diagnose`, site ABI 3, what
 * `instrument()` writes by default) and deferred copies (`deferred`, ABI 4, what the Node loader
 * writes by default). A hit runs the same copy code in both, so the per-hit measures use the first.
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
import { BUILDS, buildPath, DEFERRED_COPIES, WORK, type BuildKind } from "./paths.js";
import { median } from "./stats.js";

const CHILD = join(fileURLToPath(new URL(".", import.meta.url)), "costs-child.js");
const DIR = join(WORK, "costs");
/**
 * A bound for a hung callgrind run, not a budget: markdown's 3,200 ops can take over 5 minutes
 * while other work loads the 2-core machine (as in instructions.ts).
 */
const TIMEOUT_MS = 900_000;
const COMPARED = ["plain", "diagnose", "deferred"] as const satisfies readonly BuildKind[];
type Compared = (typeof COMPARED)[number];

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

/** One measure of the three builds, and each instrumented build ÷ plain. */
export interface Ratio {
  readonly plain: number;
  /** Inline copies (site ABI 3). */
  readonly diagnose: number;
  /** Deferred copies (site ABI 4): the Node loader's default. */
  readonly deferred: number;
  /** diagnose ÷ plain. */
  readonly ratio: number;
  /** deferred ÷ plain. */
  readonly deferredRatio: number;
}

export interface SizeMeasure {
  readonly workload: string;
  readonly raw: Ratio;
  readonly gzip: Ratio;
  /** The deferred build's copy text (not in its modules): bytes raw and gzip, each file alone. */
  readonly copies: { readonly raw: number; readonly gzip: number };
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

/** Instructions per op over ops (from, to], 1-based, per build; `steady` is the last bucket. */
export interface WarmupBucket extends Ratio {
  readonly from: number;
  readonly to: number;
  readonly steady: boolean;
}

export interface WarmupMeasure {
  readonly workload: string;
  readonly buckets: WarmupBucket[];
  /** Mean instructions/op of the first hundred ops ÷ steady state, per build. */
  readonly firstHundredOverSteady: Readonly<Record<Compared, number>>;
  /** The diagnose build's first hundred ops ÷ plain's. */
  readonly firstHundredRatio: number;
  /** The deferred build's first hundred ops ÷ plain's. */
  readonly firstHundredDeferredRatio: number;
  readonly errors: string[];
}

export interface CostsResult {
  readonly perHit: PerHitMeasure[] | { skipped: string };
  readonly size: SizeMeasure[] | { skipped: string };
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

const ratio = (v: Readonly<Record<Compared, number>>): Ratio => ({
  ...v,
  ratio: v.diagnose / v.plain,
  deferredRatio: v.deferred / v.plain,
});

/** One value per build, from a function of the build. */
const perBuild = <T>(f: (build: Compared) => T): Record<Compared, T> => ({
  plain: f("plain"),
  diagnose: f("diagnose"),
  deferred: f("deferred"),
});

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

/** Bytes raw and gzip (each file compressed alone, as served or cached one by one). */
function bytesOf(files: readonly string[]): { raw: number; gzip: number } {
  let raw = 0;
  let gzip = 0;
  for (const f of files) {
    const code = readFileSync(f);
    raw += code.length;
    gzip += gzipSync(code).length;
  }
  return { raw, gzip };
}

/** The copy text files a deferred build's modules name in their tables (`c`, site ABI 4). */
function copyFiles(modules: readonly string[]): string[] {
  const hashes = new Set<string>();
  for (const m of modules)
    for (const [, h] of readFileSync(m, "utf8").matchAll(/\bc:\s*"([0-9a-f]{64})"/g)) hashes.add(h!);
  return [...hashes].map((h) => join(DEFERRED_COPIES, `${h}.js`));
}

export function measureSizes(specs: readonly WorkloadSpec[]): SizeMeasure[] {
  return specs.map((spec) => {
    const sizes = perBuild((build) => bytesOf(workloadFiles(build, spec)));
    return {
      workload: spec.name,
      raw: ratio(perBuild((b) => sizes[b].raw)),
      gzip: ratio(perBuild((b) => sizes[b].gzip)),
      copies: bytesOf(copyFiles(workloadFiles("deferred", spec))),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// heap

async function measureHeap(specs: readonly WorkloadSpec[], processes: number, log: (line: string) => void) {
  const out: { workload: string; processes: number; bytes: Ratio }[] = [];
  for (const spec of specs) {
    const grown = perBuild((): number[] => []);
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
        grown[build].push(r.after - r.before);
      }
    }
    const bytes = ratio(perBuild((b) => median(grown[b])));
    const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
    log(
      `  heap: ${spec.name}: ${kb(bytes.plain)} plain, ${kb(bytes.diagnose)} inline copies (${bytes.ratio.toFixed(2)}×), ${kb(bytes.deferred)} deferred (${bytes.deferredRatio.toFixed(2)}×)`,
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
  const plans = specs.map((spec) => {
    // 200 steady ops read as steady as more would; more only lengthen the runs.
    const steadyOps = quick ? 100 : Math.min(spec.instructionOps, 200);
    const { edges, steady } = warmupLadder(quick, steadyOps, quick ? 100 : spec.instructionOps);
    const marks = [...new Set([...edges, ...steady])].sort((a, b) => a - b);
    return { spec, edges, steady, marks, errors: [] as string[], intervals: new Map<Compared, number[]>() };
  });
  // One process per (workload, build): the intervals between its marks are the buckets, so
  // start-up (which differs from process to process) is in none of them. All in one pool of two.
  const jobs = plans.flatMap((plan) =>
    COMPARED.map((build) => async () => {
      const resultFile = join(DIR, `ops.${plan.spec.name}.${build}.json`);
      const module = buildPath(build, `bench/${plan.spec.name}.ts`);
      const cfg: OpsConfig = { resultFile, module, marks: plan.marks };
      const run = await countMarked([...NODE_FLAGS, CHILD, "ops", JSON.stringify(cfg)], plan.marks.length, TIMEOUT_MS);
      if ("error" in run) plan.errors.push(`${build}: ${run.error}`);
      else plan.intervals.set(build, run.intervals);
    }),
  );
  log(`  warm-up: ${jobs.length} callgrind runs, one per workload and build, two at a time`);
  await inParallel(jobs, 2);
  const measures = plans.map(({ spec, edges, steady, marks, errors, intervals }): WarmupMeasure => {
    /** Instructions per op over ops (a, b]: the intervals between marks a and b. */
    const perOp = (build: Compared, a: number, b: number) => {
      const counts = intervals.get(build);
      if (counts === undefined) return NaN;
      let sum = 0;
      for (let k = marks.indexOf(a); k < marks.indexOf(b); k++) sum += counts[k]!;
      return sum / (b - a);
    };
    const bucket = (from: number, to: number, isSteady: boolean): WarmupBucket => ({
      from,
      to,
      steady: isSteady,
      ...ratio(perBuild((build) => perOp(build, from, to))),
    });
    const buckets = edges.slice(1).map((b, i) => bucket(edges[i]!, b, false));
    buckets.push(bucket(steady[0], steady[1], true));
    const first = ratio(perBuild((build) => perOp(build, 0, 100)));
    return {
      workload: spec.name,
      buckets,
      firstHundredOverSteady: perBuild((build) => first[build] / perOp(build, steady[0], steady[1])),
      firstHundredRatio: first.ratio,
      firstHundredDeferredRatio: first.deferredRatio,
      errors,
    };
  });
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
  const entries = perBuild(entry);
  const load = perBuild((): number[] => []);
  const wall = perBuild((): number[] => []);
  // One unmeasured run each: the first process after a build pays for the disk cache.
  for (const build of COMPARED)
    await runChild([CHILD, "cold", JSON.stringify({ resultFile: join(DIR, "cold.warm.json"), entry: entries[build] })]);
  for (let i = 0; i < processes; i++) {
    // Rotating order: each build is first, second and third equally often over three rounds.
    for (const build of COMPARED.map((_, k) => COMPARED[(i + k) % COMPARED.length]!)) {
      const resultFile = join(DIR, `cold.${build}.${i}.json`);
      const run = await runChild([CHILD, "cold", JSON.stringify({ resultFile, entry: entries[build] })]);
      if (!run.ok) throw new Error(`cold-start child (${build}) failed: ${firstError(run.stderr)}`);
      load[build].push(readJson<ColdResult>(resultFile).loadAndFirstCallMs);
      wall[build].push(run.ms);
    }
  }
  const loadAndFirstCallMs = ratio(perBuild((b) => median(load[b])));
  const processMs = ratio(perBuild((b) => median(wall[b])));
  const ms = (r: Ratio, b: "diagnose" | "deferred") =>
    `${r[b].toFixed(1)} ms (${(b === "diagnose" ? r.ratio : r.deferredRatio).toFixed(2)}×)`;
  log(
    `  cold start: ${modules.length + 1} modules: load + first op ${loadAndFirstCallMs.plain.toFixed(1)} ms plain, ${ms(loadAndFirstCallMs, "diagnose")} inline copies, ${ms(loadAndFirstCallMs, "deferred")} deferred; whole process ${processMs.ratio.toFixed(2)}× / ${processMs.deferredRatio.toFixed(2)}×`,
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
  // Cold start before the warm-up curve: it is timed, and the callgrind runs take many minutes.
  const coldStart = !opts.coldStart
    ? { skipped: "disabled with --no-cold-start" }
    : await measureColdStart(built, opts.quick ? 3 : 12, log);
  const warmupOn = opts.warmup ?? !opts.quick;
  // --quick counts one workload's curve, with three buckets: callgrind runs are ~50× slower.
  const warmupSpecs = opts.quick ? third.slice(0, 1) : third;
  const warmup = !warmupOn
    ? { skipped: opts.quick ? "not part of --quick (add --warmup)" : "disabled with --no-warmup" }
    : warmupSpecs.length === 0
      ? none("the warm-up curve")
      : await measureWarmup(warmupSpecs, opts.quick, log);
  return { perHit, size, heap, warmup, coldStart };
}
