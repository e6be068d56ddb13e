/**
 * Fuzzing the safe expression language with fast-check: thousands of generated expressions (from
 * the grammar, plus texts mutated with tokens of refused constructs) compiled and evaluated over
 * hostile values — Proxies whose every trap counts, getters, valueOf/toString/toPrimitive that
 * count. Compiling throws only DiagnoseErrors; evaluating never runs the program's code.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import fc from "fast-check";
import { DiagnoseError, SafeExpression } from "../../runtime/index.js";
import type { InstrumentedModule } from "../helpers/instrumented.js";
import { evaluateOn, loadShop, QuietManager, type Shop } from "./safe-expression-helpers.js";
import { HELPER_NAMES } from "../../runtime/expressions/safe/names.js";

let m: InstrumentedModule<Shop>;
before(async () => {
  m = await loadShop();
});

/** Every way the program's code could run, counted. */
let ran = 0;
const count = (): never => {
  ran++;
  throw new Error("user code ran");
};
const TRAPS = [
  "get",
  "set",
  "has",
  "ownKeys",
  "getOwnPropertyDescriptor",
  "getPrototypeOf",
  "setPrototypeOf",
  "defineProperty",
  "deleteProperty",
  "apply",
  "construct",
  "isExtensible",
  "preventExtensions",
] as const;
const handler: ProxyHandler<object> = Object.fromEntries(TRAPS.map((t) => [t, count]));

function hostileValue(): Record<string, unknown> {
  const proxy = new Proxy({ x: 1 }, handler);
  const fnProxy = new Proxy(function f() {}, handler);
  const sneaky = { valueOf: count, toString: count, [Symbol.toPrimitive]: count, toJSON: count, x: 1 };
  const withGetters = Object.defineProperties(
    {},
    {
      own: { get: count, enumerable: true },
      x: { get: count, set: count, enumerable: true },
      then: { get: count },
    },
  );
  class Klass {
    get size() {
      return count();
    }
    get length() {
      return count();
    }
  }
  const list: unknown[] = [proxy, sneaky, 1, "s"];
  Object.defineProperty(list, 4, { get: count, enumerable: true });
  const fn = Object.defineProperty(function g() {}, "meta", { get: count });
  return {
    proxy,
    fnProxy,
    sneaky,
    withGetters,
    list,
    fn,
    klass: new Klass(),
    child: Object.create(proxy),
    map: new Map<unknown, unknown>([
      [1, proxy],
      ["k", sneaky],
    ]),
    set: new Set<unknown>([proxy, sneaky]),
    date: new Date(0),
    str: "abc",
    n: 5,
    big: 10n,
    sym: Symbol("s"),
    nested: { deep: { deeper: sneaky } },
    u8: new Uint8Array(2),
    nul: null,
    undef: undefined,
  };
}

const NAMES = [
  "value",
  "value",
  "value",
  "args",
  "result",
  "this",
  "locals",
  "event",
  "math",
  "limit",
  "nope",
  "target",
  "elapsed",
];
const KEYS = [
  "proxy",
  "fnProxy",
  "sneaky",
  "withGetters",
  "list",
  "fn",
  "klass",
  "child",
  "map",
  "set",
  "date",
  "str",
  "n",
  "big",
  "sym",
  "nested",
  "deep",
  "deeper",
  "u8",
  "nul",
  "undef",
  "x",
  "own",
  "then",
  "length",
  "size",
  "0",
  "4",
  "valueOf",
  "toString",
  "constructor",
  "__proto__",
  "prototype",
  "name",
  "meta",
  "PI",
];
// The generator calls every helper the language has: the list is the module's own.
const HELPERS = [...HELPER_NAMES];
const BINARY = ["+", "-", "*", "/", "%", "**", "<", ">", "<=", ">=", "==", "!=", "===", "!==", "&&", "||", "??"];
const REFUSED_BITS = [
  " in ",
  " instanceof ",
  " = ",
  "++",
  "--",
  " & ",
  "=>",
  ",",
  ";",
  "new ",
  "delete ",
  "...",
  "()",
  ".call(",
  "/x/",
  "function(){}",
  "`",
  "${",
  "'",
  '"',
  "\\u0063",
  "#",
  "@",
  "?.(",
  "[",
  "]",
  "{",
  "}",
  "(",
  ")",
  "?",
  ":",
  "import(",
  "this.x=",
  "constructor",
  "__proto__",
  "process",
  "globalThis",
  "require",
  "eval",
  "Function",
  "10n",
  "1_0",
  "\u2028",
  "\0",
];

const leaf = fc.oneof(
  fc.constantFrom(...NAMES),
  fc.integer({ min: -5, max: 1000 }).map(String),
  fc.double({ noNaN: true, min: 0, max: 1e6 }).map((d) => String(d)),
  fc.constantFrom(...KEYS, "x y", "").map((s) => JSON.stringify(s)),
  fc.constantFrom("true", "false", "null", "undefined", "NaN", "Infinity"),
);

const { expr } = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc
      .tuple(tie("expr"), fc.constantFrom(".", "?."), fc.constantFrom(...KEYS))
      .map(([o, d, k]) => (/^\d/.test(k) ? `${o}${d === "." ? "" : "?."}[${k}]` : `${o}${d}${k}`)),
    fc.tuple(tie("expr"), tie("expr"), fc.boolean()).map(([o, k, opt]) => `${o}${opt ? "?." : ""}[${k}]`),
    fc.tuple(fc.constantFrom("!", "-", "+", "typeof "), tie("expr")).map(([op, a]) => `${op}(${a})`),
    fc.tuple(tie("expr"), fc.constantFrom(...BINARY), tie("expr")).map(([a, op, b]) => `(${a} ${op} ${b})`),
    fc.tuple(tie("expr"), tie("expr"), tie("expr")).map(([a, b, c]) => `(${a} ? ${b} : ${c})`),
    fc
      .tuple(fc.constantFrom(...HELPERS), fc.array(tie("expr"), { maxLength: 3 }))
      .map(([h, a]) => `${h}(${a.join(", ")})`),
    fc.array(tie("expr"), { maxLength: 3 }).map((a) => `[${a.join(", ")}]`),
    fc
      .array(fc.tuple(fc.constantFrom("a", "b", "'c d'", "1"), tie("expr")), { maxLength: 3 })
      .map((ps) => `({${ps.map(([k, v]) => `${k}: ${v}`).join(", ")}})`),
    fc.array(tie("expr"), { maxLength: 2 }).map((a) => "`t" + a.map((x) => `\${${x}}-`).join("") + "`"),
  ),
}));

/** A grammar expression with some refused or broken text spliced in at random places. */
const mutated = fc
  .tuple(expr, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...REFUSED_BITS)), { minLength: 1, maxLength: 3 }))
  .map(([e, cuts]) =>
    cuts.reduce((s, [at, bit]) => s.slice(0, at % (s.length + 1)) + bit + s.slice(at % (s.length + 1)), e),
  );

test("fuzz: compile throws only DiagnoseErrors; evaluation runs no code of the program", () => {
  const mgr = new QuietManager();
  mgr.globalNamespace["limit"] = new Proxy({}, handler);
  const objectNamesBefore = Object.getOwnPropertyNames(Object.prototype).join();
  const stats = { tried: 0, refused: 0, evaluated: 0, evaluationErrors: 0, otherEvaluationErrors: 0, leaked: 0 };
  const otherErrors = new Set<string>();
  const check = (text: string): boolean => {
    stats.tried++;
    const before = ran;
    try {
      new SafeExpression(text, "value");
    } catch (err) {
      if (!(err instanceof DiagnoseError)) {
        stats.leaked++;
        assert.fail(`compiling ${JSON.stringify(text)} threw ${String(err)}`);
      }
      stats.refused++;
      return ran === before;
    }
    const value = hostileValue();
    const out = evaluateOn(m, "pass", text, (s) => s.pass(value), { mgr });
    if (out.error === undefined) stats.evaluated++;
    else if (out.error instanceof DiagnoseError) stats.evaluationErrors++;
    else {
      // JavaScript's own refusals of primitives (a Symbol or a BigInt in arithmetic) come as TypeErrors.
      stats.otherEvaluationErrors++;
      otherErrors.add((out.error as Error).message);
    }
    if (ran !== before) stats.leaked++;
    return ran === before;
  };
  fc.assert(fc.property(expr, check), { numRuns: 3000, seed: 11 });
  fc.assert(fc.property(mutated, check), { numRuns: 2000, seed: 12 });
  fc.assert(fc.property(fc.string({ maxLength: 40 }), check), { numRuns: 1000, seed: 13 });
  assert.equal(ran, 0);
  assert.equal(stats.leaked, 0);
  assert.equal(Object.getOwnPropertyNames(Object.prototype).join(), objectNamesBefore);
  // Something of every kind happened: the generators reach both sides.
  assert.ok(stats.evaluated > 500 && stats.refused > 500, JSON.stringify(stats));
  for (const msg of otherErrors) assert.match(msg, /Symbol|BigInt/, msg);
  process.stdout.write(`# fuzz: ${JSON.stringify(stats)}\n`);
});

test("control: the same hostile values do run code under full JavaScript expressions", () => {
  const before = ran;
  const value = hostileValue();
  for (const text of ["value.proxy.x", "value.withGetters.own", "value.sneaky + 1", "`${value.sneaky}`"]) {
    evaluateOn(m, "pass", text, (s) => s.pass(value), { expressions: "js" });
  }
  assert.equal(ran - before, 4);
  ran = before;
});
