/**
 * The bars of issue 4, checked against one run. A target is reported, never asserted. The two
 * off-state bars are judged twice, separately: on time (real, but noisy on a shared machine) and
 * on instructions (deterministic, but blind to cache and branch effects).
 */
import type { WorkloadSpec } from "./catalog.js";
import type { InstructionResult } from "./instructions.js";
import type { PairResult } from "./matrix.js";

/** What a check judges: timed processes, callgrind instruction counts, or V8's traces. */
export type Measure = "time" | "instructions" | "V8";

export interface TargetCheck {
  readonly target: string;
  readonly measure: Measure;
  readonly bar: string;
  /** Per workload: the measured value as text. */
  readonly measured: Record<string, string>;
  /** null: not measured in this run. */
  readonly met: boolean | null;
}

export function checkTargets(
  specs: readonly WorkloadSpec[],
  results: readonly PairResult[],
  instructions: readonly InstructionResult[],
): TargetCheck[] {
  const get = (w: string, v: string) => results.find((r) => r.workload === w && r.variant === v);
  const checks: TargetCheck[] = [];
  const add = (
    target: string,
    measure: Measure,
    bar: string,
    ws: readonly WorkloadSpec[],
    value: (w: string) => number | null | undefined,
    ok: (x: number, w: string) => boolean,
    fmt: (x: number, w: string) => string,
  ) => {
    const measured: Record<string, string> = {};
    let met: boolean | null = null;
    for (const s of ws) {
      const x = value(s.name);
      if (x === null || x === undefined || Number.isNaN(x)) continue;
      measured[s.name] = fmt(x, s.name);
      met = (met ?? true) && ok(x, s.name);
    }
    checks.push({ target, measure, bar, measured, met });
  };
  const realistic = specs.filter((s) => s.realistic);
  const micro = specs.filter((s) => !s.realistic);
  const ratio = (v: string) => (w: string) => get(w, v)?.ratioToPlain;
  const x = (n: number) => `${n.toFixed(3)}×`;
  // The time ratio with the min–max of its per-round ratios, so a "met" inside the noise shows.
  const xSpread = (v: string) => (n: number, w: string) => {
    const s = get(w, v)?.ratioSpread;
    return s === undefined || s.min === s.max ? x(n) : `${x(n)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
  };
  const insnRatio = (v: string) => (w: string) =>
    instructions.find((r) => r.workload === w && r.variant === v)?.ratioToPlain;
  const ns = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(1)} ns`;
  const offBars = [
    {
      target: "instrumented, never touched (realistic)",
      bar: "≤ 1.02× plain",
      limit: 1.02,
      ws: realistic,
      variant: "untouched",
    },
    { target: "instrumented, never touched (micro)", bar: "≤ 1.2× plain", limit: 1.2, ws: micro, variant: "untouched" },
    { target: "after a probe on→off (realistic)", bar: "≤ 1.10× plain", limit: 1.1, ws: realistic, variant: "on-off" },
  ];
  for (const b of offBars) {
    add(b.target, "time", b.bar, b.ws, ratio(b.variant), (r) => r <= b.limit, xSpread(b.variant));
    add(b.target, "instructions", b.bar, b.ws, insnRatio(b.variant), (r) => r <= b.limit, x);
  }
  add(
    'one no-op "call" probe, per hit',
    "time",
    "≤ +50 ns",
    specs,
    (w) => get(w, "call-noop")?.extraNsPerHit,
    (n) => n <= 50,
    ns,
  );
  add(
    '"line:N" probe reading two locals, per hit',
    "time",
    "≤ +100 ns",
    specs,
    (w) => get(w, "line-2-locals")?.extraNsPerHit,
    (n) => n <= 100,
    ns,
  );
  add(
    "inspector breakpoint per hit ÷ our no-op call probe per hit",
    "time",
    "≥ 1,000×",
    specs,
    (w) => {
      const a = get(w, "inspector-bp")?.extraNsPerHit;
      const b = get(w, "call-noop")?.extraNsPerHit;
      return a == null || b == null || b <= 0 ? null : a / b;
    },
    (r) => r >= 1000,
    (r) => `${Math.round(r).toLocaleString("en-US")}×`,
  );
  add(
    "istanbul ÷ our never-touched build",
    "time",
    "well above 1 (istanbul slower)",
    specs,
    (w) => {
      const a = get(w, "istanbul")?.ratioToPlain;
      const b = get(w, "untouched")?.ratioToPlain;
      return a == null || b == null ? null : a / b;
    },
    (r) => r >= 1.1,
    (r) => `${r.toFixed(2)}×`,
  );
  // Optimization: every hot function TurboFan-compiled (or inlined) wherever the plain build's is,
  // and inlined into at least the callers the plain build inlines it into.
  for (const variant of ["untouched", "on-off"]) {
    const measured: Record<string, string> = {};
    let met: boolean | null = null;
    for (const s of specs) {
      const p = get(s.name, "plain");
      const v = get(s.name, variant);
      if (p === undefined || v === undefined || v.nsPerOp.n === 0) continue;
      const problems: string[] = [];
      for (const h of s.hot) {
        const pf = p.optimization.functions[h.label];
        const vf = v.optimization.functions[h.label];
        if (pf === undefined || vf === undefined) continue;
        const lost = pf.inlinedInto.filter((c) => !vf.inlinedInto.includes(c));
        if (lost.length > 0)
          problems.push(`${h.label} no longer inlined into ${lost.map((c) => c || "<anonymous>").join(", ")}`);
        const pOpt = pf.status.every((st) => st === "TF") || pf.inlinedInto.length > 0;
        const vOpt = vf.status.every((st) => st === "TF") || vf.inlinedInto.length > 0;
        if (pOpt && !vOpt) problems.push(`${h.label} not optimized (${vf.status.join("/")})`);
      }
      measured[s.name] = problems.length ? problems.join("; ") : "as plain";
      met = (met ?? true) && problems.length === 0;
    }
    checks.push({
      target: `hot functions optimized and inlined (${variant})`,
      measure: "V8",
      bar: "as in the plain build",
      measured,
      met,
    });
  }
  return checks;
}
