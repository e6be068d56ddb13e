/**
 * Instructions per hit of a switched-on site, counted by callgrind (not a test: run it by hand).
 *
 *   node dist/test/perf/hit-instructions.js [--n 200000] [--only name,name] [--defer]
 *
 * `--defer`: the module is built with deferred copies (site ABI 4), made by the first attach.
 *
 * Timings on the shared machine differ by more than the costs in question; instruction counts do
 * not (benchmarks/instructions.ts explains the V8 flags). Per scenario, one child under
 * `valgrind --tool=callgrind`: it loads the same small instrumented module
 * (test/helpers/instrumented.ts), sets the scenario up, warms up with 30,000 calls, collects
 * garbage fully and warms up again (a forced GC flushes compiled code), then makes `n` calls
 * between two marks (benchmarks/callgrind-marks.ts: callgrind dumps at each, so the count is of
 * those calls alone, not the difference of two processes whose start-up differed).
 * instructions/call = I(marks) / n; "added" subtracts the never-touched scenario's, "÷ call"
 * divides by the plain hit's added cost.
 *
 * Scenarios, all on `add(a, b)` (tiny, outlined):
 * - off: never attached;
 * - call: a "call" no-op instrument (the plain hit);
 * - refused-call / refused-return: a scoped "call" / "return" no-op instrument, called outside
 *   its scope (every call is refused at entry);
 * - return: a "return" no-op instrument (what a taken call of refused-return costs);
 * - counter: a "call" IncrementInstrument (value "1"), a real instrument: expression, tags,
 *   a client call per hit;
 * - histogram: a "call" HistogramInstrument of the argument `a` (reads the namespace).
 * The metric instruments send to an in-process StatsClient that adds up what it gets (a UDP
 * send per hit would measure the kernel, not the hit).
 */
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { countMarked, mark } from "../../benchmarks/callgrind-marks.js";
import { NODE_FLAGS } from "../../benchmarks/instructions.js";
import type { Instrument as InstrumentType } from "../../runtime/index.js";

const SOURCE = `export function add(a: number, b: number): number {
  const s = a + b;
  const t = s * 2;
  return t;
}
`;

const SCENARIOS = ["off", "call", "refused-call", "return", "refused-return", "counter", "histogram"] as const;
type Scenario = (typeof SCENARIOS)[number];

const WARM = 30_000;
const WARM_CHUNK = 1_000;

/**
 * The measured loop, in a function of its own: inlined into the scenario's setup, the loop's
 * on-stack-replaced code met code after it with no feedback yet and was thrown away (V8 traced
 * three deoptimizations: an overflowing small-integer sum, then compare and binary operations
 * never run), and the measured calls then ran unoptimized, adding their interpreter's work to
 * every scenario. `acc` starts as a double so the sum never overflows a small integer.
 */
function drive(add: (a: number, b: number) => number, n: number): number {
  let acc = 0.5;
  for (let i = 0; i < n; i++) acc += add(i, 1);
  return acc;
}

// ---------------------------------------------------------------------------------------------
// parent

async function count(self: string, scenario: Scenario, n: number, defer: boolean): Promise<number> {
  const run = await countMarked(
    [...NODE_FLAGS, self, "--child", scenario, String(n), ...(defer ? ["--defer"] : [])],
    2,
  );
  if ("error" in run) throw new Error(`${scenario}: ${run.error}`);
  return run.intervals[0]!;
}

async function parent(argv: readonly string[]): Promise<void> {
  let n = 200_000;
  let only: Set<string> | undefined;
  let defer = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--n") n = Number(argv[++i]);
    else if (argv[i] === "--defer") defer = true;
    else if (argv[i] === "--only") only = new Set(argv[++i]!.split(","));
  }
  const chosen = SCENARIOS.filter((s) => s === "off" || s === "call" || only === undefined || only.has(s));
  const self = fileURLToPath(import.meta.url);
  const perCall = new Map<Scenario, number>();
  // Two runs at a time (instruction counts do not depend on the neighbours).
  for (let i = 0; i < chosen.length; i += 2) {
    const pair = chosen.slice(i, i + 2);
    const counts = await Promise.all(pair.map((s) => count(self, s, n, defer)));
    for (const [k, s] of pair.entries()) perCall.set(s, counts[k]! / n);
  }
  const off = perCall.get("off")!;
  const plain = perCall.get("call")! - off;
  console.log(["scenario", "instr/call", "added/hit", "÷ call"].join("\t"));
  for (const s of chosen) {
    const v = perCall.get(s)!;
    const added = v - off;
    console.log(
      [s, v.toFixed(0), s === "off" ? "" : added.toFixed(0), s === "off" ? "" : (added / plain).toFixed(2)].join("\t"),
    );
  }
  console.log(
    `(${n} calls, node ${process.version}, callgrind between marks, ${NODE_FLAGS.join(" ")}${defer ? ", deferred copies" : ""})`,
  );
}

// ---------------------------------------------------------------------------------------------
// child

let sink = 0;

async function child(scenario: Scenario, n: number, defer: boolean): Promise<void> {
  const rt = await import("../../runtime/index.js");
  const { loadInstrumented } = await import("../helpers/instrumented.js");
  const mod = await loadInstrumented<{ add(a: number, b: number): number }>(SOURCE, "src/perf/add.ts", {
    deferCopies: defer,
  });
  const { Instrument, IncrementInstrument, HistogramInstrument, probes, scoped } = rt;
  class Noop extends Instrument {
    fired = 0;
    override fire(): void {
      this.fired++;
    }
  }
  const attach = (inst: InstrumentType) => {
    const p = probes.attachTo(mod.qualified("add"));
    p.instruments.set("a", inst);
    p.start();
  };
  let inst: Noop | undefined;
  /**
   * Adds up what the metric instruments send. `sum` starts as a double: as a small integer, the
   * histogram's values (the call index) overflowed it after ~65,000 measured calls, and V8 threw
   * away the code the client was inlined into (`onEntry`, with everything down to this method) and
   * compiled it again, all charged to the measured calls of one run and not the other.
   */
  const client = {
    count: 0,
    sum: 0.5,
    histogram(_name: string, value: number): void {
      this.count++;
      this.sum += value;
    },
    increment(_name: string, value: number): void {
      this.count++;
      this.sum += value;
    },
  };
  if (scenario === "counter") attach(new IncrementInstrument("calls", "1", { event: "call", client }));
  else if (scenario === "histogram") attach(new HistogramInstrument("a", "a", { event: "call", client }));
  else if (scenario !== "off") {
    const event = scenario.endsWith("return") ? "return" : "call";
    inst = new Noop("noop", "1", { event });
    attach(scenario.startsWith("refused") ? scoped(inst, "elsewhere") : inst);
  }
  const add = mod.exports.add;
  // Warmed in chunks, so `drive` itself is optimized (not only its loop, by on-stack replacement)
  // before the measured call enters it.
  const warm = () => {
    for (let done = 0; done < WARM; done += WARM_CHUNK) sink += drive(add, WARM_CHUNK);
  };
  warm();
  (globalThis as { gc?: () => void }).gc?.();
  warm();
  mark();
  sink += drive(add, n);
  mark();
  rmSync(mod.root, { recursive: true, force: true });
  const metric = scenario === "counter" || scenario === "histogram";
  const expected = (inst === undefined && !metric) || scenario.startsWith("refused") ? 0 : 2 * WARM + n;
  const fired = metric ? client.count : (inst?.fired ?? 0);
  if (fired !== expected) throw new Error(`fired ${fired}, expected ${expected}`);
  console.log("OK", sink === 0.5 ? "" : scenario);
}

const args = process.argv.slice(2);
if (args[0] === "--child") await child(args[1] as Scenario, Number(args[2]), args[3] === "--defer");
else await parent(args);
