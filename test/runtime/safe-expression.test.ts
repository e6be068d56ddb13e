/** The safe expression language on real instrumented code: every grammar construct, names, helpers. */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import {
  ExpressionEvaluationError,
  GETTER,
  InstrumentOptionsError,
  ProbeTestInstrument,
  SafeExpression,
  UnknownNameError,
  UnsafeExpressionError,
} from "../../runtime/index.js";
import type { InstrumentedModule } from "../helpers/instrumented.js";
import { evaluateOn, loadShop, QuietManager, type Shop } from "./safe-expression-helpers.js";

let m: InstrumentedModule<Shop>;
before(async () => {
  m = await loadShop();
});

const cart = {
  id: 7,
  items: [
    { sku: "a", qty: 2 },
    { sku: "b", qty: 3 },
  ],
  tags: new Set(["x"]),
  meta: null as unknown,
  name: "Cart",
};
const opts = { user: { id: "u1", roles: ["admin"] }, region: "eu" };
function onOrder(expression: string): unknown {
  const out = evaluateOn(m, "order", expression, (s) => s.order(cart, opts, 1, 2));
  if ("error" in out) throw out.error;
  return out.value;
}

describe("grammar on a return event", () => {
  const cases: [string, unknown][] = [
    ["42", 42],
    ["0x10 + 0b11 + 0o7 + .5 + 1e2", 16 + 3 + 7 + 0.5 + 100],
    ["'it\\'s' + \"\\u0041\\x42\\n\"", "it'sAB\n"],
    ["true", true],
    ["false", false],
    ["null", null],
    ["undefined", undefined],
    ["NaN !== NaN", true],
    ["`id ${result.id} of ${cart.name}`", "id 7 of Cart"],
    ["`nested ${`in ${region}`}`", "nested in eu"],
    ["result.id", 7],
    ["cart.items.length", 2],
    ["args[0].items.length > 1", true],
    ["args.length", 4],
    ["args[2] + args[3]", 3],
    ["rest[1]", 2],
    ["user.roles[0]", "admin"],
    ["cart['name']", "Cart"],
    ["cart.items[1 - 1].sku", "a"],
    ["cart.meta?.x", undefined],
    ["cart.meta?.x.y.z", undefined],
    ["cart.meta?.[0]", undefined],
    ["cart.items?.[1]?.qty", 3],
    ["!cart.meta", true],
    ["-cart.id", -7],
    ["+'3'", 3],
    ["typeof cart", "object"],
    ["typeof nothingHere", "undefined"],
    ["cart.id * 2 - 4 / 2 % 3", 12],
    ["2 ** 3 ** 2", 512],
    ["(-2) ** 2", 4],
    ["cart.id < 8 && cart.id >= 7 && 1 <= 1 && 2 > 1", true],
    ["cart.id == '7'", true],
    ["cart.id != 7", false],
    ["cart.id === 7", true],
    ["cart.id !== 7", false],
    ["cart.meta ?? 'none'", "none"],
    ["cart.meta || 'or'", "or"],
    ["cart.id && 'and'", "and"],
    ["cart.id > 5 ? 'big' : 'small'", "big"],
    ["[cart.id, region]", [7, "eu"]],
    [
      "({ id: cart.id, 'the region': region, 3: threw, region })",
      { id: 7, "the region": "eu", 3: false, region: "eu" },
    ],
    ["event", "return"],
  ];
  for (const [expression, expected] of cases) {
    test(expression, () => {
      assert.deepEqual(onOrder(expression), expected);
    });
  }
});

describe("names", () => {
  test("a line event reads the locals in scope, and `locals` as an object", () => {
    const out = evaluateOn(m, "step", "`${local.k}/${count}/${line}/${locals.count}`", (s) => s.step({ k: "v" }), {
      event: "line:8",
    });
    assert.deepEqual(out, { value: "v/2/8/2" });
  });

  test("a destructured parameter's field and `locals` read through the reader (a getter is a marker)", () => {
    let calls = 0;
    const user = {
      get name() {
        calls++;
        return "ran";
      },
      id: "u1",
    };
    const out = evaluateOn(m, "order", "[user.name, user.id, region, locals.user.name, str(user)]", (s) =>
      s.order({}, { user, region: "eu" }),
    );
    assert.deepEqual(out, { value: [GETTER, "u1", "eu", GETTER, '{name: [getter], id: "u1"}'] });
    assert.equal(calls, 0);
  });

  test("the manager's globalNamespace: own keys only, read when evaluated", () => {
    const mgr = new QuietManager();
    mgr.globalNamespace["limit"] = 5;
    assert.deepEqual(
      evaluateOn(m, "pass", "value > limit && math.PI > 3", (s) => s.pass(9), { mgr }),
      { value: true },
    );
    // Inherited names of the namespace object are not names.
    const out = evaluateOn(m, "pass", "toString", (s) => s.pass(1), { mgr });
    assert.ok(out.error instanceof UnknownNameError, String(out.error));
  });

  test("an unknown name is an UnknownNameError listing the names; typeof of it is 'undefined'", () => {
    const out = evaluateOn(m, "pass", "nope + 1", (s) => s.pass(1));
    assert.ok(out.error instanceof UnknownNameError);
    assert.match((out.error as Error).message, /"nope" is not defined.*value/);
    assert.deepEqual(
      evaluateOn(m, "pass", "typeof nope", (s) => s.pass(1)),
      { value: "undefined" },
    );
  });

  test("a member of undefined is an ExpressionEvaluationError naming the expression; ?. gives undefined", () => {
    const out = evaluateOn(m, "pass", "value.a.b", (s) => s.pass({}));
    assert.ok(out.error instanceof ExpressionEvaluationError);
    assert.match((out.error as Error).message, /"value\.a\.b" failed: it read \.b of undefined/);
    assert.deepEqual(
      evaluateOn(m, "pass", "value.a?.b", (s) => s.pass({})),
      { value: undefined },
    );
  });

  test("`this`, times, and the mentions the probe uses to read the clock", () => {
    const e = new SafeExpression("elapsed >= 0 && start > 0", "value");
    assert.ok(e.mentions("elapsed") && e.mentions("start") && !e.mentions("end"));
    assert.deepEqual(
      evaluateOn(m, "pass", "elapsed >= 0 && start > 0 && end >= start", (s) => s.pass(1)),
      { value: true },
    );
    assert.deepEqual(
      evaluateOn(m, "pass", "typeof this", (s) => (0, s.pass)(1)),
      { value: "undefined" },
    );
    assert.deepEqual(
      evaluateOn(m, "pass", "this === args[0]", (s) => s.pass.call(s, s)),
      { value: true },
    );
    assert.equal(new SafeExpression(" value ", "value").bare, "value");
    assert.equal(new SafeExpression("value.x", "value").bare, undefined);
  });

  test("tags and condition use the same language", () => {
    const out = evaluateOn(
      m,
      "pass",
      "value",
      (s) => {
        s.pass(1);
        s.pass(20);
      },
      { custom: { condition: "value > 10", tags: "({ size: mag(value) })" } },
    );
    assert.deepEqual(out, { value: 20 });
    assert.throws(
      () => new ProbeTestInstrument("t", "value", { expressions: "safe", custom: { condition: "value.valueOf()" } }),
      UnsafeExpressionError,
    );
    assert.throws(
      () => new ProbeTestInstrument("t", "value", { expressions: "weird" as never }),
      InstrumentOptionsError,
    );
    // Code-created instruments keep full JavaScript.
    assert.doesNotThrow(() => new ProbeTestInstrument("t", "Math.max(value, 1)"));
  });
});

describe("helpers", () => {
  const cases: [string, unknown, unknown][] = [
    ["len(value)", "abc", 3],
    ["len(value)", [1, 2], 2],
    ["len(value)", new Map([[1, 2]]), 1],
    ["len(value)", new Set([1, 2, 3]), 3],
    ["len(value)", new Uint16Array(4), 4],
    ["len(value)", new ArrayBuffer(8), 8],
    ["len(value)", { a: 1, b: 2 }, 2],
    ["len(value)", 5, undefined],
    ["mag(value)", 1000, 3],
    ["mag(value, 2)", 8, 3],
    ["mag(value)", "x".repeat(150), 2],
    ["mag(value)", 0, -1],
    ["keys(value)", { a: 1, b: 2 }, ["a", "b"]],
    ["keys(value)", new Map([["k", 1]]), ["k"]],
    ["keys(value)", "str", undefined],
    ["startsWith(value, 'ab')", "abc", true],
    ["startsWith(value, 'ab')", 12, false],
    ["endsWith(value, 'bc')", "abc", true],
    ["includes(value, 'b')", "abc", true],
    ["includes(value, 2)", [1, 2], true],
    ["includes(value, NaN)", [NaN], true],
    ["includes(value, 'x')", new Set(["x"]), true],
    ["includes(value, 3)", { 3: 3 }, false],
    ["lower(value)", "AbC", "abc"],
    ["upper(value)", "AbC", "ABC"],
    ["upper(value)", 1, undefined],
    ["str(value)", { a: [1, "x"], d: new Date(0) }, '{a: [1, "x"], d: 1970-01-01T00:00:00.000Z}'],
    ["str(value)", null, "null"],
    ["str(value)", new TypeError("boom"), "TypeError: boom"],
    ["num(value)", "12.5", 12.5],
    ["num(value)", new Date(5), 5],
    ["num(value)", {}, NaN],
    ["round(value)", 2.5, 3],
    ["round(value, 2)", 3.14159, 3.14],
    ["floor(value)", 2.7, 2],
    ["ceil(value)", 2.1, 3],
    ["abs(value)", -4, 4],
    ["min(value, 3, 9)", 5, 3],
    ["max(value)", [4, 8, 1], 8],
    ["min()", 0, Infinity],
    ["has(value, 'a')", { a: undefined }, true],
    ["has(value, 'toString')", {}, false],
    ["has(value, 1)", new Map([[1, 1]]), true],
    ["has(value, 0)", ["x"], true],
    ["isoDate(value)", new Date(Date.UTC(2026, 0, 2)), "2026-01-02T00:00:00.000Z"],
    ["isoDate(value)", 0, "1970-01-01T00:00:00.000Z"],
    ["isoDate(value)", new Date(NaN), undefined],
    ["isoDate(value)", "2026", undefined],
  ];
  for (const [expression, input, expected] of cases) {
    test(`${expression} of ${typeof input === "object" && input !== null ? input.constructor.name : JSON.stringify(input)}`, () => {
      assert.deepEqual(
        evaluateOn(m, "pass", expression, (s) => s.pass(input)),
        { value: expected },
      );
    });
  }
});
