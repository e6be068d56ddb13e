/**
 * Runs every (workload, variant) pair in its own Node process (`process.execPath`, so the suite
 * measures whichever Node runs it), `rounds` times, interleaving the variants so slow drift of a
 * shared machine hits all of them alike; then pairs each round's processes with plain's of the
 * same round (paired.ts) and attaches V8's view.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildManifest } from "./build-workloads.js";
import type { WorkloadSpec } from "./catalog.js";
import type { ChildConfig, ChildResult } from "./child.js";
import { WORK } from "./paths.js";
import { pairedExtraPerHit, pairedRatio } from "./paired.js";
import { median, summarize, type Summary } from "./stats.js";
import type { UdpListener } from "./udp-listener.js";
import { decodeStatus, parseTraces, shortStatus } from "./v8-status.js";
import type { Variant, VariantKind } from "./variants.js";

export const CHILD_FLAGS = ["--allow-natives-syntax", "--trace-deopt", "--trace-turbo-inlining"];

export interface TimingConfig {
  readonly rounds: number;
  readonly warmupMs: number;
  readonly samples: number;
  readonly sampleMs: number;
}

export interface HotStatus {
  /** Short word per process (TF, ML, SP, IGN, lazy). */
  readonly status: string[];
  readonly flags: string[];
  /** Callers it was inlined into (any process). */
  readonly inlinedInto: string[];
  readonly deopts: number;
}

export interface PairResult {
  readonly workload: string;
  readonly variant: string;
  readonly kind: VariantKind;
  /** Over the per-process medians (one per round): median, min, max, IQR %, processes. */
  readonly nsPerOp: Summary;
  /** Median ns/op of each round's process, in round order; null where the process failed. */
  readonly processMedians: (number | null)[];
  /** Median interquartile range of the samples inside one process, in % (within-process noise). */
  readonly sampleIqrPct: number;
  /** Median over rounds of (this round's process median ÷ plain's process median, same round). */
  readonly ratioToPlain: number;
  /** Min and max of those per-round ratios. */
  readonly ratioSpread: { readonly min: number; readonly max: number };
  /** The per-round ratios, in round order; null where either process failed. */
  readonly roundRatios: (number | null)[];
  readonly hitsPerOp: number | null;
  /** Median over rounds of (ns/op − ns/op of this variant's "off" state, same round) / hits per op. */
  readonly extraNsPerHit: number | null;
  /** Min and max of the per-round extra ns per hit. */
  readonly extraSpread: { readonly min: number; readonly max: number } | null;
  /** The variant the extra cost is measured against. */
  readonly extraAgainst: string | null;
  readonly optimization: {
    readonly functions: Record<string, HotStatus>;
    readonly deoptsTotal: number;
    readonly deoptsWhileMeasuring: number;
    readonly deoptReasons: Record<string, number>;
  };
  readonly errors: string[];
}

/** What the extra per-hit cost of an active variant is measured against. */
const OFF_STATE: Record<string, string> = {
  "call-noop": "untouched",
  "line-2-locals": "untouched",
  "log-null": "untouched",
  "histogram-udp": "untouched",
  "shim-on": "shim-off",
  "dc-on": "dc-off",
  "inspector-bp": "plain",
};

const CHILD = join(fileURLToPath(new URL(".", import.meta.url)), "child.js");

interface Run {
  result: ChildResult | undefined;
  stdout: string;
  error: string | undefined;
}

function runChild(cfg: ChildConfig, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CHILD_FLAGS, CHILD, JSON.stringify(cfg)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      if (code !== 0) {
        const text = Buffer.concat(err).toString("utf8").trim().split("\n").slice(0, 6).join(" | ");
        resolve({ result: undefined, stdout, error: `exit ${code ?? signal}: ${text}` });
        return;
      }
      try {
        resolve({ result: JSON.parse(readFileSync(cfg.resultFile, "utf8")) as ChildResult, stdout, error: undefined });
      } catch (e) {
        resolve({ result: undefined, stdout, error: `no result: ${String(e)}` });
      }
    });
  });
}

export async function runMatrix(
  specs: readonly WorkloadSpec[],
  variants: readonly Variant[],
  manifest: BuildManifest,
  timing: TimingConfig,
  udp: UdpListener,
  log: (line: string) => void,
): Promise<PairResult[]> {
  const dir = join(WORK, "results");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const runs = new Map<string, Run[]>();
  const key = (w: string, v: string) => `${w}\0${v}`;
  let count = 0;
  const total = timing.rounds * specs.length * variants.length;
  for (let round = 0; round < timing.rounds; round++) {
    for (const spec of specs) {
      const build = manifest.workloads[spec.name]!;
      // Odd rounds run the variants in reverse, so no variant always runs right after another.
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) {
        const cfg: ChildConfig = {
          workload: spec.name,
          variant: variant.name,
          warmupMs: timing.warmupMs,
          samples: timing.samples,
          sampleMs: timing.sampleMs,
          resultFile: join(dir, `${spec.name}.${variant.name}.${round}.json`),
          udpPort: udp.port,
          probeLine: build.probeLine,
          entryFile: build.entryFile,
          entryLine: build.entryLine,
        };
        const run = await runChild(cfg, 120_000);
        count++;
        const med = run.result === undefined ? "failed" : `${summarize(run.result.samples).median.toFixed(1)} ns/op`;
        log(`  [${count}/${total}] ${spec.name} / ${variant.name}: ${med}${run.error ? ` (${run.error})` : ""}`);
        const list = runs.get(key(spec.name, variant.name)) ?? [];
        list.push(run);
        runs.set(key(spec.name, variant.name), list);
      }
    }
  }

  const out: PairResult[] = [];
  // Runs are pushed in round order, so index r of a pair's list is round r.
  const roundMedians = (w: string, v: string): (number | null)[] =>
    Array.from({ length: timing.rounds }, (_, r) => {
      const result = runs.get(key(w, v))?.[r]?.result;
      return result === undefined ? null : summarize(result.samples).median;
    });
  for (const spec of specs) {
    const plain = roundMedians(spec.name, "plain");
    for (const v of variants) {
      const list = runs.get(key(spec.name, v.name)) ?? [];
      const ok = list.filter((r) => r.result !== undefined).map((r) => r.result!);
      const medians = roundMedians(spec.name, v.name);
      const okMedians = medians.filter((m): m is number => m !== null);
      const nsPerOp = okMedians.length ? summarize(okMedians) : { median: NaN, min: NaN, max: NaN, iqrPct: NaN, n: 0 };
      const ratio = pairedRatio(medians, plain);
      const hits = ok.map((r) => r.hitsPerOp).filter((h): h is number => h !== null);
      const hitsPerOp = hits.length ? hits.reduce((a, b) => a + b, 0) / hits.length : null;
      const against = OFF_STATE[v.name] ?? null;
      const extra =
        against !== null && hitsPerOp !== null && hitsPerOp > 0 && variants.some((x) => x.name === against)
          ? pairedExtraPerHit(medians, roundMedians(spec.name, against), hitsPerOp)
          : null;
      const names = spec.hot.map((h) => h.v8Name);
      const traces = list.map((r) => parseTraces(r.stdout, names));
      const functions: Record<string, HotStatus> = {};
      for (const h of spec.hot) {
        const statuses = ok.map((r) => r.status[h.label]).filter((s): s is number => s !== undefined);
        functions[h.label] = {
          status: statuses.map(shortStatus),
          flags: statuses.length ? decodeStatus(statuses[statuses.length - 1]!) : [],
          inlinedInto: [...new Set(traces.flatMap((t) => t.inlinedInto[h.v8Name] ?? []))].sort(),
          deopts: traces.reduce((n, t) => n + (t.deopts.byFunction[h.v8Name] ?? 0), 0),
        };
      }
      const reasons: Record<string, number> = {};
      for (const t of traces) for (const [r, n] of Object.entries(t.deopts.reasons)) reasons[r] = (reasons[r] ?? 0) + n;
      out.push({
        workload: spec.name,
        variant: v.name,
        kind: v.kind,
        nsPerOp,
        processMedians: medians,
        sampleIqrPct: median(ok.map((r) => summarize(r.samples).iqrPct)),
        ratioToPlain: ratio.median,
        ratioSpread: { min: ratio.min, max: ratio.max },
        roundRatios: ratio.perRound,
        hitsPerOp,
        extraNsPerHit: extra === null || Number.isNaN(extra.median) ? null : extra.median,
        extraSpread: extra === null || Number.isNaN(extra.median) ? null : { min: extra.min, max: extra.max },
        extraAgainst: extra === null || Number.isNaN(extra.median) ? null : against,
        optimization: {
          functions,
          deoptsTotal: traces.reduce((n, t) => n + t.deopts.total, 0),
          deoptsWhileMeasuring: traces.reduce((n, t) => n + t.deopts.measured, 0),
          deoptReasons: reasons,
        },
        errors: list.map((r) => r.error).filter((e): e is string => e !== undefined),
      });
    }
  }
  return out;
}
