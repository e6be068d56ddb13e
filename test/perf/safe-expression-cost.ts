/**
 * Instructions per evaluation of a safe expression: the generated code against the interpreter
 * (used where code generation from strings is refused), counted by callgrind (not a test: run it
 * by hand).
 *
 *   node dist/test/perf/safe-expression-cost.js [--n 100000]
 *
 * One child per expression under `valgrind --tool=callgrind`, with the benchmark's Node flags
 * (benchmarks/instructions.ts). The child loads the shop module of the safe-expression tests,
 * keeps the namespace of one "return" event of `order(cart, { user, region }, ...rest)`, makes the
 * expression twice (generated code, interpreter), warms both up, collects garbage, warms up again,
 * then evaluates each `n` times between marks (benchmarks/callgrind-marks.ts): the two counts come
 * from the same process, side by side. instructions/evaluation = I(interval) / n, loop included
 * (a few instructions, the same for both).
 */
import { fileURLToPath } from "node:url";
import { countMarked, mark } from "../../benchmarks/callgrind-marks.js";
import { NODE_FLAGS } from "../../benchmarks/instructions.js";
import type { EventNamespace } from "../../runtime/expressions/namespace.js";
import type { SafeExpression as SafeExpressionType } from "../../runtime/index.js";

/** Representative expressions: a bare name, a member read, a condition, helper calls, literals (tags). */
const EXPRESSIONS = [
  "cart",
  "args[0].id",
  "cart.id > 5 && region === 'eu' && cart.items.length <= 3",
  "includes(user.roles, 'admin') && startsWith(lower(region), 'e')",
  "({ region, id: cart.id })",
  "[cart.id, region]",
] as const;

const WARM = 30_000;

// ---------------------------------------------------------------------------------------------
// parent

async function parent(argv: readonly string[]): Promise<void> {
  let n = 100_000;
  for (let i = 0; i < argv.length; i++) if (argv[i] === "--n") n = Number(argv[++i]);
  const self = fileURLToPath(import.meta.url);
  const rows: string[][] = [];
  // Two runs at a time (instruction counts do not depend on the neighbours).
  for (let i = 0; i < EXPRESSIONS.length; i += 2) {
    const pair = EXPRESSIONS.slice(i, i + 2);
    const runs = await Promise.all(
      pair.map((_, k) => countMarked([...NODE_FLAGS, self, "--child", String(i + k), String(n)], 3)),
    );
    for (const [k, run] of runs.entries()) {
      if ("error" in run) throw new Error(`${pair[k]}: ${run.error}`);
      const [compiled, interpreted] = run.intervals.map((c) => c / n) as [number, number];
      rows.push([pair[k]!, compiled.toFixed(0), interpreted.toFixed(0), (interpreted / compiled).toFixed(2)]);
    }
  }
  console.log(["expression", "generated", "interpreted", "ratio"].join("\t"));
  for (const r of rows) console.log(r.join("\t"));
  console.log(
    `(instructions per evaluation, ${n} each, node ${process.version}, callgrind between marks, ${NODE_FLAGS.join(" ")})`,
  );
}

// ---------------------------------------------------------------------------------------------
// child

/** Two loops, two functions: each keeps its own type feedback. */
function driveCompiled(
  e: SafeExpressionType,
  ns: EventNamespace,
  names: { globalNamespace: object },
  n: number,
): number {
  let truthy = 0;
  for (let i = 0; i < n; i++) if (e.evaluate(ns, names as never)) truthy++;
  return truthy;
}
function driveInterpreted(
  e: SafeExpressionType,
  ns: EventNamespace,
  names: { globalNamespace: object },
  n: number,
): number {
  let truthy = 0;
  for (let i = 0; i < n; i++) if (e.evaluate(ns, names as never)) truthy++;
  return truthy;
}

async function child(index: number, n: number): Promise<void> {
  const rt = await import("../../runtime/index.js");
  const { loadShop } = await import("../runtime/safe-expression-helpers.js");
  const { rmSync } = await import("node:fs");
  const shop = await loadShop();
  let kept: EventNamespace | undefined;
  class Keep extends rt.Instrument {
    override fire(ns: EventNamespace): void {
      kept = ns;
    }
  }
  const p = rt.probes.attachTo(shop.qualified("order"));
  p.instruments.set("k", new Keep("keep", "0"));
  p.start();
  shop.exports.order({ id: 7, items: [1, 2] }, { user: { id: "u1", roles: ["admin"] }, region: "eu" }, 1, 2);
  p.stop();
  const ns = kept!;
  const names = { globalNamespace: {} };
  const text = EXPRESSIONS[index]!;
  const compiled = new rt.SafeExpression(text, "value");
  const interpreted = rt.SafeExpression.interpreted(text, "value");
  const a = JSON.stringify(compiled.evaluate(ns, names));
  const b = JSON.stringify(interpreted.evaluate(ns, names));
  if (a !== b) throw new Error(`${text}: generated ${a}, interpreted ${b}`);
  const warm = () => driveCompiled(compiled, ns, names, WARM) + driveInterpreted(interpreted, ns, names, WARM);
  let sink = warm();
  (globalThis as { gc?: () => void }).gc?.();
  sink += warm();
  mark();
  sink += driveCompiled(compiled, ns, names, n);
  mark();
  sink += driveInterpreted(interpreted, ns, names, n);
  mark();
  rmSync(shop.root, { recursive: true, force: true });
  console.log("OK", sink);
}

const args = process.argv.slice(2);
if (args[0] === "--child") await child(Number(args[1]), Number(args[2]));
else await parent(args);
