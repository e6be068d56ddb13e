/**
 * Safe expressions vs the same text as full JavaScript (issue 11: "evaluation must stay within 2×
 * of the same plain JavaScript expression"). One child process measures both side by side, in
 * alternating rounds, on the namespaces a probe builds at a "return" event (a fresh one per
 * event, as in production); the ratio is the median of the per-round ratios. A hand-written
 * function over the same namespace is printed for reference. Compile time per expression is the
 * construction plus the first evaluation (which compiles for the layout), over distinct texts.
 *
 * With `instructions`, each (expression, form) is also counted under callgrind, which the load of
 * a shared machine cannot move: one process per (expression, form), counting between two marks
 * around the measured evaluations (callgrind-marks.ts explains the method).
 *
 *   node dist/benchmarks/safe-expression.js [--quick]              prints JSON
 *   node dist/benchmarks/safe-expression.js --fixed <case> <form> <n>   n evaluations after a warm-up
 */
import { spawnSync } from "node:child_process";
import { countMarked, mark } from "./callgrind-marks.js";
import { NODE_FLAGS, valgrindVersion } from "./instructions.js";
import { fileURLToPath } from "node:url";
// The package entry first: it evaluates the runtime's modules in the order their import cycle needs.
import { InstrumentManager } from "../runtime/index.js";
import { Expression, type CompiledExpression } from "../runtime/expressions/expression.js";
import { createNamespace, frameLayout, type EventNamespace } from "../runtime/expressions/namespace.js";
import { SafeExpression } from "../runtime/expressions/safe/index.js";
import type { CallFrame, FunctionInfo } from "../runtime/registry/index.js";

export interface SafeExpressionCase {
  readonly expression: string;
  /** ns per evaluation (namespace creation included, the same for all three). */
  readonly handWrittenNs: number;
  readonly jsNs: number;
  readonly safeNs: number;
  /** safe / js, median over rounds. */
  readonly ratio: number;
  readonly rounds: number;
}

export interface SafeExpressionResult {
  readonly cases: SafeExpressionCase[];
  /** Microseconds per expression: construction + first evaluation. */
  readonly compileUs: { readonly js: number; readonly safe: number; readonly texts: number };
  /** Instructions per evaluation (callgrind), when counted. */
  readonly instructions?:
    | {
        readonly expression: string;
        readonly hand: number;
        readonly js: number;
        readonly safe: number;
        readonly ratio: number;
      }[]
    | { readonly skipped: string };
  /** The goal: every ratio ≤ 2. */
  readonly goalMet: boolean;
  readonly errors: string[];
}

const CASES: readonly { expression: string; hand: (ns: EventNamespace) => unknown }[] = [
  { expression: "args[0].items.length > 3", hand: (ns) => (ns.args![0] as { items: unknown[] }).items.length > 3 },
  { expression: "result.id", hand: (ns) => (ns.result as { id: unknown }).id },
];

const FN: FunctionInfo = {
  qualifiedName: "src/shop/cart.ts:Cart.total",
  module: "src/shop/cart.ts",
  path: "Cart.total",
  line: 1,
  column: 1,
  flags: 0,
  params: ["cart"],
  sites: [],
};

function fixture() {
  const layout = frameLayout(FN);
  const mgr = new InstrumentManager();
  // A few shapes, as a real service's carts would have.
  const carts = Array.from({ length: 64 }, (_, i) => ({
    id: i,
    items: Array.from({ length: i % 7 }, (_, k) => ({ sku: k })),
    owner: "u" + (i % 5),
  }));
  const frames: CallFrame[] = carts.map((cart) => ({
    fn: FN,
    self: undefined,
    args: [cart],
    start: 1,
    startDate: new Date(0),
  }));
  return { layout, mgr, carts, frames };
}

type Form = "hand" | "js" | "safe";

/**
 * The fixed-ops child counted under callgrind: warm-up, a full GC (`--expose-gc`) and a second
 * warm-up (a forced GC flushes compiled code), then exactly `n` evaluations between two marks.
 */
function fixedOps(caseIndex: number, form: Form, n: number): void {
  const { layout, mgr, carts, frames } = fixture();
  const c = CASES[caseIndex]!;
  const compiled =
    form === "js"
      ? new Expression(c.expression, "value")
      : form === "safe"
        ? new SafeExpression(c.expression, "value")
        : undefined;
  const evaluate = compiled === undefined ? c.hand : (ns: EventNamespace) => compiled.evaluate(ns, mgr);
  let sink = 0;
  const run = (ops: number) => {
    for (let i = 0; i < ops; i++) {
      const k = i & 63;
      if (
        evaluate(
          createNamespace(layout, {
            kind: "return",
            frame: frames[k],
            locals: undefined,
            result: carts[k],
            threw: false,
            end: 2,
            hot: undefined,
          }),
        )
      )
        sink++;
    }
  };
  // In chunks, so the loop is optimized as a function during warm-up (not by on-stack
  // replacement inside the measured evaluations).
  const chunked = (ops: number) => {
    for (let done = 0; done < ops; done += 1_000) run(Math.min(1_000, ops - done));
  };
  chunked(50_000);
  (globalThis as { gc?: () => void }).gc?.();
  chunked(50_000);
  mark();
  chunked(n);
  mark();
  if (sink < 0) process.stdout.write("");
}

type InstructionRows = NonNullable<SafeExpressionResult["instructions"]>;

async function countInstructions(log: (line: string) => void): Promise<InstructionRows> {
  if (valgrindVersion() === undefined) return { skipped: "valgrind is not on PATH" };
  const n = 100_000;
  const self = fileURLToPath(import.meta.url);
  const per = async (caseIndex: number, form: Form): Promise<number> => {
    const run = await countMarked([...NODE_FLAGS, self, "--fixed", String(caseIndex), form, String(n)], 2);
    if ("error" in run) {
      log(`  safe expressions, ${form} of case ${caseIndex}: ${run.error}`);
      return NaN;
    }
    return run.intervals[0]! / n;
  };
  const out: { expression: string; hand: number; js: number; safe: number; ratio: number }[] = [];
  for (const [i, c] of CASES.entries()) {
    const [hand, js, safe] = await Promise.all([per(i, "hand"), per(i, "js"), per(i, "safe")]);
    const row = { expression: c.expression, hand, js, safe, ratio: NaN };
    row.ratio = row.safe / row.js;
    log(
      `  ${c.expression.padEnd(28)} instructions per evaluation: hand-written ${row.hand.toFixed(0)}  js ${row.js.toFixed(0)}  safe ${row.safe.toFixed(0)}  ratio ${row.ratio.toFixed(2)}×`,
    );
    out.push(row);
  }
  return out;
}

function child(quick: boolean): SafeExpressionResult {
  const { layout, mgr, carts, frames } = fixture();
  const rounds = quick ? 3 : 9;
  const roundMs = quick ? 40 : 150;
  let sink = 0;

  const timeOne = (evaluate: (ns: EventNamespace) => unknown): number => {
    let ops = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < roundMs) {
      for (let i = 0; i < 1000; i++) {
        const k = (ops + i) & 63;
        const ns = createNamespace(layout, {
          kind: "return",
          frame: frames[k],
          locals: undefined,
          result: carts[k],
          threw: false,
          end: 2,
          hot: undefined,
        });
        if (evaluate(ns)) sink++;
      }
      ops += 1000;
      t = performance.now();
    }
    return ((t - t0) * 1e6) / ops;
  };

  const cases: SafeExpressionCase[] = [];
  for (const c of CASES) {
    const js: CompiledExpression = new Expression(c.expression, "value");
    const safe: CompiledExpression = new SafeExpression(c.expression, "value");
    const evalJs = (ns: EventNamespace) => js.evaluate(ns, mgr);
    const evalSafe = (ns: EventNamespace) => safe.evaluate(ns, mgr);
    // Warm-up: every function optimised before the first timed round.
    for (const f of [c.hand, evalJs, evalSafe]) timeOne(f);
    const hand: number[] = [];
    const jsT: number[] = [];
    const safeT: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate the order so neither side always runs right after a GC-heavy round.
      const order = r % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
      const got: number[] = [0, 0, 0];
      for (const k of order) got[k] = timeOne(k === 0 ? c.hand : k === 1 ? evalJs : evalSafe);
      hand.push(got[0]!);
      jsT.push(got[1]!);
      safeT.push(got[2]!);
      ratios.push(got[2]! / got[1]!);
    }
    cases.push({
      expression: c.expression,
      handWrittenNs: median(hand),
      jsNs: median(jsT),
      safeNs: median(safeT),
      ratio: median(ratios),
      rounds,
    });
  }

  const texts = quick ? 300 : 2000;
  const compile = (Kind: typeof Expression | typeof SafeExpression): number => {
    const t0 = performance.now();
    for (let i = 0; i < texts; i++) {
      // Distinct texts: the engine's compilation cache must not serve a repeat.
      const e = new Kind(`args[0].items.length > ${i} && result.owner !== "u${i}"`, "value");
      const ns = createNamespace(layout, {
        kind: "return",
        frame: frames[i & 63],
        locals: undefined,
        result: carts[i & 63],
        threw: false,
        end: 2,
        hot: undefined,
      });
      if (e.evaluate(ns, mgr)) sink++;
    }
    return ((performance.now() - t0) * 1000) / texts;
  };
  compile(Expression);
  compile(SafeExpression);
  const compileUs = { js: compile(Expression), safe: compile(SafeExpression), texts };
  if (sink < 0) process.stdout.write(""); // keeps `sink` alive
  return { cases, compileUs, goalMet: cases.every((c) => c.ratio <= 2), errors: [] };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs the measurement in its own process (clean JIT state) and returns its result. */
export async function measureSafeExpressions(
  quick: boolean,
  instructions: boolean,
  log: (line: string) => void,
): Promise<SafeExpressionResult> {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, ...(quick ? ["--quick"] : [])], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) {
    const error = `safe expressions: exit ${r.status}: ${r.stderr.trim().split("\n").slice(0, 4).join(" | ")}`;
    log(error);
    return { cases: [], compileUs: { js: NaN, safe: NaN, texts: 0 }, goalMet: false, errors: [error] };
  }
  const result = JSON.parse(r.stdout) as SafeExpressionResult;
  log("safe expressions (ns per evaluation, fresh namespace each; ratio = safe / js, median of rounds):");
  for (const c of result.cases) {
    log(
      `  ${c.expression.padEnd(28)} hand-written ${c.handWrittenNs.toFixed(1)}  js ${c.jsNs.toFixed(1)}  safe ${c.safeNs.toFixed(1)}  ` +
        `ratio ${c.ratio.toFixed(2)}× ${c.ratio <= 2 ? "(goal ≤ 2× met)" : "(goal ≤ 2× NOT met)"}`,
    );
  }
  log(
    `  compile + first evaluation per expression: js ${result.compileUs.js.toFixed(1)} µs, safe ${result.compileUs.safe.toFixed(1)} µs (${result.compileUs.texts} texts)`,
  );
  if (!instructions)
    return {
      ...result,
      instructions: { skipped: quick ? "not part of --quick (add --instructions)" : "disabled with --no-instructions" },
    };
  return { ...result, instructions: await countInstructions(log) };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const fixed = process.argv.indexOf("--fixed");
  if (fixed > 0)
    fixedOps(Number(process.argv[fixed + 1]), process.argv[fixed + 2] as Form, Number(process.argv[fixed + 3]));
  else process.stdout.write(JSON.stringify(child(process.argv.includes("--quick"))) + "\n");
}
