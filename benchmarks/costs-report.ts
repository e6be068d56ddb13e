/**
 * The "Costs beyond the off state" section (issue 15) from a run's `costs` result: the issue's
 * table (now vs goal), then one table per measure.
 *
 * Size, heap, warm-up and cold start depend on how an outlined function's copy is shipped, so
 * they show both instrumented builds. "now" and the goal's verdict are the Node loader's default,
 * deferred copies (site ABI 4); inline copies (ABI 3: `instrument()`'s default, the tsc plugin,
 * bundlers) are named beside them. A hit runs the same copy code in both builds: the per-hit rows
 * are measured on the inline build only.
 */
import type { CostsResult, Ratio } from "./costs.js";
import { NODE_FLAGS } from "./instructions.js";

/** The build ratios of the issue's table, read from build-side.ts's result when it ran. */
export interface BuildRatios {
  readonly instrumentVsStrip: number | null;
  readonly tspcVsTsc: number | null;
}

export interface CostRow {
  readonly measure: string;
  readonly now: string;
  readonly goal: string;
  /** Judged on the loader's default (deferred copies) where the row has both builds. */
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
export function costRows(c: CostsResult, build: BuildRatios): CostRow[] {
  const rows: CostRow[] = [];
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
  /** Deferred and inline ratios of one measure per workload. */
  const both = (ratios: readonly Pick<Ratio, "ratio" | "deferredRatio">[]) => ({
    deferred: ratios.map((r) => r.deferredRatio).filter(Number.isFinite),
    inline: ratios.map((r) => r.ratio).filter(Number.isFinite),
  });
  const nowOf = (b: ReturnType<typeof both>) => `${span(b.deferred, x2)} (inline ${span(b.inline, x2)})`;
  const raw = both("skipped" in c.size ? [] : c.size.map((s) => s.raw));
  const gz = both("skipped" in c.size ? [] : c.size.map((s) => s.gzip));
  rows.push({
    measure: "output size after type stripping, raw / gzip (copy text apart)",
    now: `${span(raw.deferred, x2)} / ${span(gz.deferred, x2)} (inline ${span(raw.inline, x2)} / ${span(gz.inline, x2)})`,
    goal: "≤ 2.0× / ≤ 1.6×",
    met: raw.deferred.length === 0 ? null : raw.deferred.every((n) => n <= 2) && gz.deferred.every((n) => n <= 1.6),
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
  const heap = both("skipped" in c.heap ? [] : c.heap.map((h) => h.bytes));
  rows.push({
    measure: "heap after loading a library, instrumented ÷ plain",
    now: nowOf(heap),
    goal: "≤ 1.5×",
    met: all(heap.deferred, (n) => n <= 1.5),
  });
  const warm = both(
    "skipped" in c.warmup
      ? []
      : c.warmup.measures.map((m) => ({ ratio: m.firstHundredRatio, deferredRatio: m.firstHundredDeferredRatio })),
  );
  rows.push({
    measure: "warm-up: instructions of the first hundred ops, instrumented ÷ plain",
    now: nowOf(warm),
    goal: "same as plain (≤ 1.05×)",
    met: all(warm.deferred, (n) => n <= 1.05),
  });
  const cold = both("skipped" in c.coldStart ? [] : [c.coldStart.loadAndFirstCallMs]);
  rows.push({
    measure: "cold start: load + first call of a large module graph",
    now: nowOf(cold),
    goal: "≤ 1.2×",
    met: all(cold.deferred, (n) => n <= 1.2),
  });
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
    ["measure (ratios: instrumented ÷ plain; loader default, deferred copies, then inline)", "now", "goal", ""],
    costRows(c, build).map((r) => [r.measure, r.now, r.goal, metCell(r.met)]),
  );
}

/** "1,234 KiB (2.88×)": a build's value and its ratio to plain. */
function withRatio(r: Ratio, build: "diagnose" | "deferred", fmt: (n: number) => string): string {
  return `${fmt(r[build])} (${x2(build === "diagnose" ? r.ratio : r.deferredRatio)})`;
}

export function costsText(c: CostsResult | undefined, build: BuildRatios): string {
  if (c === undefined) return "Not measured in this run.";
  const kb = (n: number) => `${(n / 1024).toLocaleString("en-US", { maximumFractionDigits: 0 })} KiB`;
  const parts = [
    "What a user pays besides the off state's steady-state time (issue 15), each against plain in this run. Goals are reported, never asserted.",
    "",
    "Size, heap, warm-up and cold start are measured for both instrumented builds: **deferred copies** (site ABI 4, the Node loader's default: an outlined function's instrumented copy is kept out of the module, in a cache file, and evaluated when a probe first needs it) and **inline copies** (ABI 3, what `instrument()`, the tsc plugin and the bundler plugins write). The table's *now* and its verdict are the loader's default, the inline figure in parentheses. A hit runs the same copy code in both builds, so the per-hit rows are measured on the inline build.",
    "",
    costsSummary(c, build),
    "",
    '**Per hit** of a no-op `"call"` probe (inline-copies build; one process per function: blocks with the probe off and on alternate, each after its own warm-up; (on − off) ÷ hits per op, median and min–max of the rounds):',
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
    "**Output size** of each workload's JavaScript (its module and its library's) after type stripping, each file gzipped alone; the deferred build's copy text is not in its modules but in one cache file per module, read only when a probe needs it:",
    "",
    "skipped" in c.size
      ? `Skipped: ${c.size.skipped}.`
      : mdTable(
          [
            "workload",
            "raw plain",
            "inline copies",
            "deferred copies",
            "copy text (cache files)",
            "gzip plain",
            "inline copies",
            "deferred copies",
            "copy text (cache files)",
          ],
          c.size.map((s) => [
            s.workload,
            kb(s.raw.plain),
            withRatio(s.raw, "diagnose", kb),
            withRatio(s.raw, "deferred", kb),
            kb(s.copies.raw),
            kb(s.gzip.plain),
            withRatio(s.gzip, "diagnose", kb),
            withRatio(s.gzip, "deferred", kb),
            kb(s.copies.gzip),
          ]),
        ),
    "",
    "**Heap**: the bytes reachable (the self sizes of a heap snapshot, which collects garbage first) once the workload's module graph is loaded, minus before importing it (median of processes; no probe on, so the deferred build's copy text is not loaded):",
    "",
    "skipped" in c.heap
      ? `Skipped: ${c.heap.skipped}.`
      : mdTable(
          ["workload", "processes per build", "plain", "inline copies", "deferred copies"],
          c.heap.map((h) => [
            h.workload,
            String(h.processes),
            kb(h.bytes.plain),
            withRatio(h.bytes, "diagnose", kb),
            withRatio(h.bytes, "deferred", kb),
          ]),
        ),
    "",
    `**Warm-up curve**: instructions per op by op index, in one fresh process per build (callgrind, Node with \`${NODE_FLAGS.join(" ")}\`; the instructions between the marks at ops a and b, over ops a+1…b):`,
    "",
  ];
  if ("skipped" in c.warmup) parts.push(`Skipped: ${c.warmup.skipped}.`);
  else {
    parts.push(`${c.warmup.tool}.`, "");
    const instr = (n: number) => Math.round(n).toLocaleString("en-US");
    for (const m of c.warmup.measures) {
      const s = m.firstHundredOverSteady;
      parts.push(
        mdTable(
          [`${m.workload}: ops`, "plain instr/op", "inline copies", "deferred copies"],
          m.buckets.map((b) => [
            b.steady ? `steady (${b.from + 1}–${b.to})` : b.to - b.from === 1 ? `${b.to}` : `${b.from + 1}–${b.to}`,
            instr(b.plain),
            withRatio(b, "diagnose", instr),
            withRatio(b, "deferred", instr),
          ]),
        ),
        "",
        `First hundred ops ÷ steady state: plain ${x2(s.plain)}, inline copies ${x2(s.diagnose)}, deferred copies ${x2(s.deferred)}; ÷ plain over the first hundred: inline ${x2(m.firstHundredRatio)}, deferred ${x2(m.firstHundredDeferredRatio)}.${m.errors.length ? ` Errors: ${m.errors.join("; ")}` : ""}`,
        "",
      );
    }
  }
  parts.push(
    "",
    "**Cold start**: one process loads a large module graph and runs one op (median of processes, builds in rotating order):",
    "",
  );
  if ("skipped" in c.coldStart) parts.push(`Skipped: ${c.coldStart.skipped}.`);
  else {
    const cs = c.coldStart;
    const ms = (n: number) => `${n.toFixed(0)} ms`;
    parts.push(
      `${cs.graph}: ${cs.modules} modules, ${cs.processes} processes per build. Load + first op: ${ms(cs.loadAndFirstCallMs.plain)} plain, ${withRatio(cs.loadAndFirstCallMs, "diagnose", ms)} inline copies, ${withRatio(cs.loadAndFirstCallMs, "deferred", ms)} deferred copies; whole process, spawn to exit: ${ms(cs.processMs.plain)} plain, ${withRatio(cs.processMs, "diagnose", ms)} inline, ${withRatio(cs.processMs, "deferred", ms)} deferred.`,
    );
  }
  return parts.join("\n");
}
