/**
 * The benchmark's phases and the switches that turn them on and off. One table, so a new phase is
 * one row here and one call in run.ts — not a new field, a new flag branch and a new usage string.
 *
 *   --no-<phase>        skip a phase
 *   --<phase>           run a phase that is off by default in this mode (e.g. --instructions in --quick)
 *   --only a,b          run only these phases (the timed matrix included only if listed)
 */

/** One phase of `npm run bench`. */
export interface Phase {
  readonly name: string;
  /** One line for the usage text. */
  readonly what: string;
  /** Off unless asked for in --quick (slow phases: callgrind). */
  readonly fullOnly?: boolean;
}

export const PHASES: readonly Phase[] = [
  { name: "matrix", what: "the timed matrix (workloads × variants)" },
  { name: "instructions", what: "instructions per op under callgrind", fullOnly: true },
  { name: "build-side", what: "instrument(), tspc and bundler build costs" },
  { name: "propagation", what: "file-store spec → applied latency" },
  { name: "scale", what: "registry and transformer at scale" },
  { name: "breakpoints", what: "Breakpoint hand-off latency" },
  { name: "safe-expr", what: "safe expressions vs plain JavaScript" },
  { name: "per-hit", what: "per-hit cost of a no-op probe on third-party hot functions" },
  { name: "size", what: "output size per workload" },
  { name: "heap", what: "heap after load" },
  { name: "warmup", what: "warm-up curve under callgrind", fullOnly: true },
  { name: "cold-start", what: "load + first call of a large module graph" },
  { name: "manager", what: "InstrumentManager apply() costs" },
  { name: "fleet", what: "a fleet of processes on each store" },
  { name: "budgets", what: "rate limits, CPU budget and capture costs" },
  { name: "budget-throughput", what: "an expensive probe under load: throughput with and without the CPU budget" },
];

/** The phases to run, decided from the mode and the switches. */
export class PhaseSelection {
  readonly #on = new Set<string>();

  constructor(quick: boolean) {
    for (const p of PHASES) if (!(quick && p.fullOnly)) this.#on.add(p.name);
  }

  /** Applies one `--no-x` / `--x` switch; false when `arg` names no phase. */
  apply(arg: string): boolean {
    const off = arg.startsWith("--no-");
    const name = arg.slice(off ? 5 : 2);
    if (!PHASES.some((p) => p.name === name)) return false;
    if (off) this.#on.delete(name);
    else this.#on.add(name);
    return true;
  }

  /** `--only a,b`: exactly these phases. */
  only(names: readonly string[]): void {
    for (const n of names)
      if (!PHASES.some((p) => p.name === n)) throw new Error(`--only: no phase named ${n}. ${usage()}`);
    this.#on.clear();
    for (const n of names) this.#on.add(n);
  }

  has(name: string): boolean {
    if (!PHASES.some((p) => p.name === name)) throw new Error(`no benchmark phase named ${name}`);
    return this.#on.has(name);
  }

  /** Why a phase did not run, for the report. */
  skipped(name: string, quick: boolean): string {
    const phase = PHASES.find((p) => p.name === name);
    return quick && phase?.fullOnly ? `not part of --quick (add --${name})` : `disabled with --no-${name}`;
  }
}

export function usage(): string {
  return `Phases (--no-<phase>, --<phase>, --only a,b): ${PHASES.map((p) => p.name).join(", ")}.`;
}
