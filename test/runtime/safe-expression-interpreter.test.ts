/**
 * The interpreter at the parser's limits: for each way a tree can nest, the deepest text the
 * parser accepts evaluates through the interpreter without running out of stack, and gives what
 * the generated code gives (evaluateOn runs both and compares them).
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { SafeExpression, UnsafeExpressionError } from "../../runtime/index.js";
import type { InstrumentedModule } from "../helpers/instrumented.js";
import { evaluateOn, loadShop, type Shop } from "./safe-expression-helpers.js";

let m: InstrumentedModule<Shop>;
before(async () => {
  m = await loadShop();
});

/** `{ a: { a: … [0] } }`, deeper than any accepted chain. */
function nested(depth: number): unknown {
  let v: unknown = [0];
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

/** Texts nesting `k` times, by shape; `value` is the parameter of `pass`. */
const SHAPES: Record<string, (k: number) => string> = {
  parentheses: (k) => "(".repeat(k) + "value" + ")".repeat(k),
  "unary !": (k) => "!".repeat(k) + "value",
  "unary - and +": (k) => "-+".repeat(k >> 1) + "value",
  typeof: (k) => "typeof ".repeat(k) + "value",
  "member chain": (k) => "value" + ".a".repeat(k),
  "optional chain": (k) => "value" + "?.a".repeat(k),
  // Each key is "k" again: value.k.k.
  "computed keys": (k) => "value.k[".repeat(k) + "'k'" + "]".repeat(k),
  arrays: (k) => "[".repeat(k) + "value" + "]".repeat(k),
  objects: (k) => "({a:" + "{a:".repeat(k) + "value" + "}".repeat(k) + "})",
  templates: (k) => "`${".repeat(k) + "value" + "}`".repeat(k),
  conditionals: (k) => "value ? ".repeat(k) + "1" + " : 2".repeat(k),
  "helper calls": (k) => "len(".repeat(k) + "value" + ")".repeat(k),
  "a ** chain": (k) => Array.from({ length: k + 1 }, () => "1").join(" ** "),
  "a + chain": (k) => "value" + " + 1".repeat(k),
  "== and ?? mixed": (k) => "(value ?? ".repeat(k) + "1" + ") == 1".repeat(k),
};

function accepted(text: string): boolean {
  try {
    new SafeExpression(text, "value");
    return true;
  } catch (err) {
    assert.ok(err instanceof UnsafeExpressionError, String(err));
    return false;
  }
}

/** The largest k whose text is accepted (nesting is monotone: one more level is never less deep). */
function deepest(shape: (k: number) => string): number {
  let lo = 1;
  let hi = 2_000;
  assert.ok(accepted(shape(lo)) && !accepted(shape(hi)));
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (accepted(shape(mid))) lo = mid;
    else hi = mid;
  }
  return lo;
}

for (const [name, shape] of Object.entries(SHAPES)) {
  test(`${name}: the deepest accepted text evaluates, interpreted as compiled`, () => {
    const k = deepest(shape);
    // The nesting limit is what refuses one level more, not the text's length or part count.
    assert.throws(() => new SafeExpression(shape(k + 1), "value"), /nesting deeper than 100 levels/);
    const text = shape(k);
    const value = name.includes("computed") ? { k: { k: "k" } } : name.includes("chain") ? nested(2_000) : 3;
    const out = evaluateOn(m, "pass", text, (s) => s.pass(value));
    assert.equal(out.error, undefined, `${text.slice(0, 60)}…: ${String(out.error)}`);
  });
}
