/** The bars of issue 4, checked against one run. A target is reported, never asserted. */
import type { WorkloadSpec } from "./catalog.js";
import type { PairResult } from "./matrix.js";

export interface TargetCheck {
  readonly target: string;
  readonly bar: string;
  /** Per workload: the measured value as text. */
  readonly measured: Record<string, string>;
  /** null: not measured in this run. */
  readonly met: boolean | null;
}

export function checkTargets(specs: readonly WorkloadSpec[], results: readonly PairResult[]): TargetCheck[] {
  const get = (w: string, v: string) => results.find((r) => r.workload === w && r.variant === v);
  const checks: TargetCheck[] = [];
  const add = (target: string, bar: string, ws: readonly WorkloadSpec[], value: (w: string) => number | null | undefined, ok: (x: number, w: string) => boolean, fmt: (x: number, w: string) => string) => {
    const measured: Record<string, string> = {};
    let met: boolean | null = null;
    for (const s of ws) {
      const x = value(s.name);
      if (x === null || x === undefined || Number.isNaN(x)) continue;
      measured[s.name] = fmt(x, s.name);
      met = (met ?? true) && ok(x, s.name);
    }
    checks.push({ target, bar, measured, met });
  };
  const realistic = specs.filter((s) => s.realistic);
  const micro = specs.filter((s) => !s.realistic);
  const ratio = (v: string) => (w: string) => get(w, v)?.ratioToPlain;
  const x = (n: number) => `${n.toFixed(3)}×`;
  const ns = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(1)} ns`;
  add("instrumented, never touched (realistic)", "≤ 1.02× plain", realistic, ratio("untouched"), (r) => r <= 1.02, x);
  add("instrumented, never touched (micro)", "≤ 1.2× plain", micro, ratio("untouched"), (r) => r <= 1.2, x);
  add("after a probe on→off (realistic)", "≤ 1.10× plain", realistic, ratio("on-off"), (r) => r <= 1.1, x);
  add('one no-op "call" probe, per hit', "≤ +50 ns", specs, (w) => get(w, "call-noop")?.extraNsPerHit, (n) => n <= 50, ns);
  add('"line:N" probe reading two locals, per hit', "≤ +100 ns", specs, (w) => get(w, "line-2-locals")?.extraNsPerHit, (n) => n <= 100, ns);
  add(
    "inspector breakpoint per hit ÷ our no-op call probe per hit",
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
        if (lost.length > 0) problems.push(`${h.label} no longer inlined into ${lost.map((c) => c || "<anonymous>").join(", ")}`);
        const pOpt = pf.status.every((st) => st === "TF") || pf.inlinedInto.length > 0;
        const vOpt = vf.status.every((st) => st === "TF") || vf.inlinedInto.length > 0;
        if (pOpt && !vOpt) problems.push(`${h.label} not optimized (${vf.status.join("/")})`);
      }
      measured[s.name] = problems.length ? problems.join("; ") : "as plain";
      met = (met ?? true) && problems.length === 0;
    }
    checks.push({ target: `hot functions optimized and inlined (${variant})`, bar: "as in the plain build", measured, met });
  }
  return checks;
}
