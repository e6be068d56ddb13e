/**
 * V8's view of the hot functions: `%GetOptimizationStatus` decoded to readable flags (read in the
 * child after measuring, through `new Function` so no natives syntax is in the timed code), and
 * the inlining and deoptimization traces (`--trace-turbo-inlining`, `--trace-deopt`) the child
 * prints on stdout, parsed by the parent.
 */

/** Bits of `%GetOptimizationStatus` (V8's OptimizationStatus enum, V8 11–12 / Node 20–24). */
const STATUS_BITS: readonly [number, string][] = [
  [1 << 0, "function"],
  [1 << 1, "never-optimize"],
  [1 << 2, "always-optimize"],
  [1 << 3, "maybe-deopted"],
  [1 << 4, "optimized"],
  [1 << 5, "maglev"],
  [1 << 6, "turbofan"],
  [1 << 7, "interpreted"],
  [1 << 8, "marked-for-optimization"],
  [1 << 9, "marked-for-concurrent-optimization"],
  [1 << 10, "optimizing-concurrently"],
  [1 << 11, "executing"],
  [1 << 12, "topmost-turbofan"],
  [1 << 13, "lite-mode"],
  [1 << 14, "marked-for-deoptimization"],
  [1 << 15, "baseline"],
  [1 << 16, "topmost-interpreted"],
  [1 << 17, "topmost-baseline"],
  [1 << 18, "lazy"],
  [1 << 19, "topmost-maglev"],
];

export function decodeStatus(status: number): string[] {
  return STATUS_BITS.filter(([bit]) => (status & bit) !== 0)
    .map(([, name]) => name)
    .filter((n) => n !== "function");
}

/** One word for a table: TF (TurboFan), ML (Maglev), SP (Sparkplug baseline), IGN (interpreter). */
export function shortStatus(status: number): string {
  if (status & (1 << 6)) return "TF";
  if (status & (1 << 5)) return "ML";
  if (status & (1 << 15)) return "SP";
  if (status & (1 << 18)) return "lazy";
  return "IGN";
}

/** Reads the status of each function (needs --allow-natives-syntax). */
export function optimizationStatus(fns: Record<string, Function>): Record<string, number> {
  let get: (f: Function) => number;
  try {
    get = new Function("f", "return %GetOptimizationStatus(f)") as (f: Function) => number;
  } catch {
    return {};
  }
  const out: Record<string, number> = {};
  for (const [label, fn] of Object.entries(fns)) out[label] = get(fn);
  return out;
}

export interface TraceSummary {
  /** callee name → names of the functions it was inlined into ("" = anonymous). */
  readonly inlinedInto: Record<string, string[]>;
  /** Deoptimizations, total and while measuring, by function name. */
  readonly deopts: {
    readonly total: number;
    readonly measured: number;
    readonly byFunction: Record<string, number>;
    readonly reasons: Record<string, number>;
  };
}

export const MEASURE_START = "##bench:measure-start";
export const MEASURE_END = "##bench:measure-end";

const INLINING =
  /^Inlining 0x[0-9a-f]+ \{0x[0-9a-f]+ <SharedFunctionInfo ?([^>]*)>\} into 0x[0-9a-f]+ \{0x[0-9a-f]+ <SharedFunctionInfo ?([^>]*)>\}/;
const DEOPT = /^\[bailout \(kind: ([^,]+), reason: ([^)]*)\): begin\. deoptimizing 0x[0-9a-f]+ <JSFunction ?([^ >(]*)/;

/** Parses the child's stdout (traces interleaved with the measure markers). */
export function parseTraces(stdout: string, names: readonly string[]): TraceSummary {
  const wanted = new Set(names);
  const inlined = new Map<string, Set<string>>();
  const byFunction: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  let total = 0;
  let measured = 0;
  let measuring = false;
  for (const line of stdout.split("\n")) {
    if (line.startsWith("##bench:")) {
      measuring = line === MEASURE_START;
      continue;
    }
    if (line.startsWith("Inlining 0x")) {
      const m = INLINING.exec(line);
      if (m !== null && wanted.has(m[1]!)) {
        let set = inlined.get(m[1]!);
        if (set === undefined) inlined.set(m[1]!, (set = new Set()));
        set.add(m[2]!);
      }
    } else if (line.startsWith("[bailout")) {
      const m = DEOPT.exec(line);
      if (m === null) continue;
      total++;
      if (measuring) measured++;
      const fn = m[3] ?? "";
      byFunction[fn] = (byFunction[fn] ?? 0) + 1;
      const reason = m[2]!;
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
  }
  const inlinedInto: Record<string, string[]> = {};
  for (const name of names) inlinedInto[name] = [...(inlined.get(name) ?? [])].sort();
  return { inlinedInto, deopts: { total, measured, byFunction, reasons } };
}
