/**
 * What the safe expression language refuses (each with its message), and that evaluation never
 * runs the program's code: getters, Proxy traps, valueOf/toString, prototype pollution, bounds.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import {
  DiagnoseError,
  ExpressionEvaluationError,
  ExpressionSyntaxError,
  GETTER,
  PROXY,
  SafeExpression,
  UnsafeExpressionError,
} from "../../runtime/index.js";
import type { InstrumentedModule } from "../helpers/instrumented.js";
import { evaluateOn, loadShop, type Shop } from "./safe-expression-helpers.js";

let m: InstrumentedModule<Shop>;
before(async () => {
  m = await loadShop();
});

function refusal(expression: string): UnsafeExpressionError {
  try {
    new SafeExpression(expression, "value");
  } catch (err) {
    assert.ok(err instanceof UnsafeExpressionError, `${expression}: ${String(err)}`);
    assert.equal(err.code, "DIAGNOSE_UNSAFE_EXPRESSION");
    return err;
  }
  assert.fail(`${expression} was accepted`);
}

describe("refusals name the construct", () => {
  const cases: [string, RegExp][] = [
    [
      "process.exit()",
      /uses `process` \(column 1\), which spec expressions cannot reach; they can read the event's names \(args, result, .*the helpers len, mag/,
    ],
    ["globalThis", /`globalThis`/],
    ["require('fs')", /`require`/],
    ["module.exports", /`module`/],
    ["eval('1')", /`eval`/],
    ["Function('return 1')", /`Function`/],
    ["value.constructor", /`constructor` \(column 7\)/],
    ["value.__proto__", /`__proto__`/],
    ["value['constructor']", /`constructor`/],
    ["value?.['__proto__']", /`__proto__`/],
    ["value.prototype", /`prototype`/],
    ["({ constructor: 1 })", /`constructor`/],
    ["({ '__proto__': {} })", /`__proto__`/],
    ["({ __proto__ })", /`__proto__`/],
    ["value.trim()", /a method call `\.trim\(\)`.*cannot make/],
    ["value.toLowerCase()", /use the helper lower\(s\)/],
    ["value.startsWith('a')", /use the helper startsWith\(s, prefix\)/],
    ["value['includes']('a')", /use the helper includes/],
    ["Math.max(1, 2)", /a method call `\.max\(\)`.*use the helper max/],
    ["foo(1)", /a call of `foo` \(column 1\), which is not a helper/],
    ["(value)(1)", /a call of a computed value/],
    ["len?.(value)", /an optional call/],
    ["new Date()", /`new` \(column 1\), which would run a constructor/],
    ["value = 1", /an assignment `=`/],
    ["value += 1", /an assignment `\+=`/],
    ["value.x ??= 1", /an assignment `\?\?=`/],
    ["value++", /an update `\+\+`/],
    ["--value", /an update `--`/],
    ["delete value.x", /`delete`/],
    ["'x' in value", /the operator `in`.*use has\(object, key\)/],
    ["value instanceof Object", /`instanceof`/],
    ["x => x", /an arrow function/],
    ["(x) => x", /an arrow function/],
    ["function () {}", /a function/],
    ["class {}", /a class/],
    ["this.x = 1", /an assignment/],
    ["value, 1", /a comma sequence/],
    ["a; b", /a `;`/],
    ["len(...value)", /a spread into a call/],
    ["[...value]", /a spread/],
    ["({ ...value })", /a spread/],
    ["({ [k]: 1 })", /a computed key/],
    ["({ get x() { return 1 } })", /an accessor or method/],
    ["({ m() {} })", /a method `m\(\)`/],
    ["/ab+c/.test(value)", /a regular expression literal/],
    ["import('fs')", /`import`/],
    ["import.meta", /`import`/],
    ["super.x", /`super`/],
    ["arguments[0]", /`arguments`/],
    ["void 0", /`void`/],
    ["await value", /`await`/],
    ["value & 1", /the bitwise operator `&`/],
    ["~value", /the bitwise operator `~`/],
    ["value << 1", /the shift operator `<<`/],
    ["value`x`", /a tagged template/],
    ["len`x`", /a tagged template|a call/],
    ["\\u0063onstructor", /an escape sequence in a name/],
    ["value.\\u0063onstructor", /an escape sequence in a name/],
    ["10n", /a BigInt literal/],
    ["1_000", /a numeric separator/],
    ["'\\101'", /a legacy octal escape/],
    ["[1,,2]", /an array hole/],
    ["value.#x", /a private name/],
  ];
  for (const [expression, message] of cases) {
    test(expression, () => {
      assert.match(refusal(expression).message, message);
    });
  }

  test("syntax errors are ExpressionSyntaxError with a column", () => {
    for (const [bad, message] of [
      ["(value", /an unexpected end of the text \(expected `\)`\)/],
      ["value)", /an unexpected `\)` at column 6/],
      ["'open", /an unterminated string at column 1/],
      ["`open ${value}", /an unterminated template literal/],
      ["value ? 1", /expected `:`/],
      ["a ?? b || c", /`\?\?` mixed with `&&` or `\|\|`/],
      ["-2 ** 2", /a unary operator before `\*\*`/],
      ["value.", /an unexpected end of the text/],
      ["1 2", /an unexpected a number at column 3|unexpected/],
      ["#", /a private name|unexpected/],
      ["\u0001", /an unexpected character/],
    ] as [string, RegExp][]) {
      assert.throws(
        () => new SafeExpression(bad, "value"),
        (err: unknown) =>
          (err instanceof ExpressionSyntaxError || err instanceof UnsafeExpressionError) &&
          message.test((err as Error).message),
        bad,
      );
    }
    assert.throws(() => new SafeExpression("", "value"), ExpressionSyntaxError);
    assert.throws(() => new SafeExpression(42, "value"), ExpressionSyntaxError);
  });
});

describe("computed keys are checked when evaluated", () => {
  for (const key of ["constructor", "__proto__", "prototype", "process"]) {
    test(`value[key] with key ${JSON.stringify(key)}`, () => {
      const out = evaluateOn(m, "order", "cart[region]", (s) => s.order({}, { user: 1, region: key }));
      assert.ok(out.error instanceof UnsafeExpressionError, String(out.error));
      assert.match(
        (out.error as Error).message,
        new RegExp(`Spec expression "cart\\[region\\]" uses the computed key "${key}"`),
      );
    });
  }

  test("an object as a computed key is refused rather than converted with its toString", () => {
    let calls = 0;
    const key = {
      toString: () => {
        calls++;
        return "x";
      },
    };
    const out = evaluateOn(m, "order", "cart[region]", (s) => s.order({ x: 1 }, { region: key }));
    assert.ok(out.error instanceof ExpressionEvaluationError, String(out.error));
    assert.match((out.error as Error).message, /a computed key must be a string or a number, got an object/);
    assert.equal(calls, 0);
  });
});

describe("no code of the program runs", () => {
  test("getters: own and inherited, on objects, arrays, classes and functions, read as [getter]", () => {
    let calls = 0;
    const count = () => {
      calls++;
      return "ran";
    };
    class Account {
      get balance() {
        return count();
      }
    }
    const arr = [1, 2];
    Object.defineProperty(arr, 0, { get: count });
    const fn = Object.assign(() => 1, {});
    Object.defineProperty(fn, "meta", { get: count });
    const hostile = { own: 0, acct: new Account(), arr, fn };
    Object.defineProperty(hostile, "own", { get: count, enumerable: true });
    const inherited = Object.create(hostile) as object;
    const exprs = [
      "value.own",
      "value.acct.balance",
      "value.arr[0]",
      "value.fn.meta",
      "value.own + 1",
      "`${value.own}`",
      "str(value)",
      "len(value.arr)",
      "includes(value.arr, 'ran')",
      "max(value.arr)",
      "keys(value)",
      "value.own == 'ran'",
      "num(value.own)",
      "value.own < 1",
      "has(value, 'own')",
    ];
    const got = exprs.map((e) => evaluateOn(m, "pass", e, (s) => s.pass(hostile)).value);
    assert.deepEqual(got.slice(0, 4), [GETTER, GETTER, GETTER, GETTER]);
    assert.equal(got[4], "[getter]1");
    assert.equal(got[5], "[getter]");
    assert.match(got[6] as string, /own: \[getter\]/);
    assert.deepEqual(got.slice(7), [2, false, NaN, ["own", "acct", "arr", "fn"], false, NaN, false, true]);
    assert.equal(evaluateOn(m, "pass", "value.own", (s) => s.pass(inherited)).value, GETTER);
    assert.equal(String(GETTER), "[getter]");
    assert.equal(JSON.stringify({ g: GETTER }), '{"g":"[getter]"}');
    assert.ok(Object.isFrozen(GETTER) && Object.isFrozen(PROXY));
    assert.equal(calls, 0);
  });

  test("intrinsic getters of genuine built-ins are read: Map/Set size, typed array and buffer lengths", () => {
    const v = { map: new Map([[1, 1]]), set: new Set([1, 2]), u8: new Uint8Array(3), buf: new ArrayBuffer(5) };
    const out = evaluateOn(
      m,
      "pass",
      "[value.map.size, value.set.size, value.u8.length, value.u8.byteLength, value.buf.byteLength]",
      (s) => s.pass(v),
    );
    assert.deepEqual(out.value, [1, 2, 3, 3, 5]);
    // The same getter on something that is not a Map is not invoked.
    const fake = Object.create(Map.prototype) as object;
    assert.equal(evaluateOn(m, "pass", "value.size", (s) => s.pass(fake)).value, GETTER);
  });

  test("valueOf, toString and Symbol.toPrimitive are never called by operators, templates or helpers", () => {
    let calls = 0;
    const sneaky = {
      valueOf: () => {
        calls++;
        return 1;
      },
      toString: () => {
        calls++;
        return "s";
      },
      [Symbol.toPrimitive]: () => {
        calls++;
        return 2;
      },
      toJSON: () => {
        calls++;
        return 3;
      },
      x: 1,
    };
    for (const e of [
      "value + 1",
      "value - 1",
      "-value",
      "+value",
      "value < 2",
      "value == 1",
      "value != 's'",
      "`${value}`",
      "str(value)",
      "num(value)",
      "round(value)",
      "lower(value)",
      "startsWith(value, 's')",
      "isoDate(value)",
      "value ** 2",
      "value % 2",
    ]) {
      evaluateOn(m, "pass", e, (s) => s.pass(sneaky));
    }
    assert.equal(calls, 0);
    assert.equal(
      evaluateOn(m, "pass", "value + ''", (s) => s.pass(sneaky)).value,
      "{valueOf: [function valueOf], toString: [function toString], toJSON: [function toJSON], x: 1}",
    );
    assert.equal(evaluateOn(m, "pass", "value == value", (s) => s.pass(sneaky)).value, true);
  });

  test("a Proxy whose every trap counts is never trapped: as a value, a prototype, a key holder, a global", () => {
    let traps = 0;
    const handler = new Proxy(
      {},
      {
        get: () => () => {
          traps++;
          throw new Error("trap");
        },
      },
    );
    const proxy = new Proxy({ x: 1 }, handler) as Record<string, unknown>;
    const fnProxy = new Proxy(() => 1, handler);
    const child = Object.create(proxy) as object;
    const holder = { proxy, fnProxy, child, list: [proxy], set: new Set([proxy]) };
    const exprs = [
      "value.proxy",
      "value.proxy.x",
      "value.proxy[0]",
      "value.proxy?.x",
      "value.fnProxy.name",
      "value.child.x",
      "len(value.proxy)",
      "keys(value.proxy)",
      "str(value)",
      "has(value.proxy, 'x')",
      "value.proxy + 1",
      "`${value.proxy}`",
      "value.proxy == 1",
      "value.proxy < 1",
      "includes(value.list, 1)",
      "includes(value.set, value.proxy)",
      "num(value.proxy)",
      "mag(value.proxy)",
      "typeof value.proxy",
      "value.proxy ? 1 : 2",
      "value.proxy ?? 1",
      "[value.proxy]",
      "({ p: value.proxy })",
      "str(value.list)",
      "max(value.list)",
      "isoDate(value.proxy)",
      "value.proxy === value.proxy",
      "lower(value.proxy)",
    ];
    const got = exprs.map((e) => evaluateOn(m, "pass", e, (s) => s.pass(holder)));
    for (const [i, g] of got.entries()) assert.equal(g.error, undefined, `${exprs[i]}: ${String(g.error)}`);
    assert.equal(got[0]!.value, PROXY);
    assert.equal(got[1]!.value, PROXY);
    assert.equal(got[5]!.value, PROXY);
    assert.equal(got[11]!.value, "[proxy]");
    assert.deepEqual(got[21]!.value, [PROXY]);
    assert.deepEqual(got[22]!.value, { p: PROXY });
    assert.equal(evaluateOn(m, "pass", "value", (s) => s.pass(proxy)).value, PROXY);
    assert.equal(evaluateOn(m, "pass", "value.x.y.z", (s) => s.pass(proxy)).value, PROXY);
    // A Proxy as the whole global namespace.
    const mgrOut = evaluateOn(m, "pass", "typeof missing", (s) => s.pass(1), {
      mgr: Object.assign(Object.create(null) as object, {
        globalNamespace: proxy,
        checkCall: () => true,
        getTags: () => ({}),
        handleError: () => {},
      }) as never,
    });
    assert.equal(mgrOut.value, "undefined");
    assert.equal(traps, 0);
  });

  test("prototype pollution attempts leave Object.prototype and Array.prototype untouched", () => {
    const before = [
      Object.getOwnPropertyNames(Object.prototype).join(),
      Object.getOwnPropertyNames(Array.prototype).join(),
    ];
    const attempts = [
      "({ '__proto__': { polluted: 1 } })",
      "({ __proto__: 1 })",
      "({ constructor: { prototype: { polluted: 1 } } })",
      "value.__proto__.polluted",
      "value['__proto__']",
      "value['con' + 'structor']['proto' + 'type']",
      "value[`__proto__`]",
      "value[key]",
      "value[key].polluted",
      "({ ['__proto__']: 1 })",
      "value.constructor.prototype",
    ];
    let refused = 0;
    for (const a of attempts) {
      try {
        const out = evaluateOn(m, "order", a.replaceAll("value", "cart").replaceAll("key", "region"), (s) =>
          s.order({}, { region: "__proto__" }),
        );
        assert.ok(out.error instanceof DiagnoseError, `${a} evaluated to ${String(out.value)}`);
        refused++;
      } catch (err) {
        assert.ok(err instanceof DiagnoseError, `${a}: ${String(err)}`);
        refused++;
      }
    }
    assert.equal(refused, attempts.length);
    assert.deepEqual(
      [Object.getOwnPropertyNames(Object.prototype).join(), Object.getOwnPropertyNames(Array.prototype).join()],
      before,
    );
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
    // An object literal key that is fine stays an own data property of a plain object.
    const out = evaluateOn(m, "pass", "({ toString: 1, valueOf: 2 })", (s) => s.pass(1));
    assert.deepEqual(out.value, { toString: 1, valueOf: 2 });
    assert.equal(Object.getPrototypeOf(out.value), Object.prototype);
  });
});

describe("bounds", () => {
  const hostileTexts: [string, string, RegExp][] = [
    ["1 MB of text", "a".repeat(1024 * 1024), /a text of 1048576 characters.*longer than the 10000/],
    [
      "10k nested parentheses",
      "(".repeat(10_000) + "1" + ")".repeat(10_000),
      /characters|nesting deeper than 100 levels/,
    ],
    ["4k nested parentheses", "(".repeat(4_000) + "1" + ")".repeat(4_000), /nesting deeper than 100 levels/],
    ["4k nested arrays", "[".repeat(4_000) + "]".repeat(4_000), /nesting deeper than 100 levels/],
    ["4k nested objects", "({a:".repeat(1_000) + "1" + "})".repeat(1_000), /nesting deeper than 100 levels/],
    ["9k unary operators", "!".repeat(9_000) + "1", /nesting deeper than 100 levels/],
    [
      "3k-term sum",
      Array.from({ length: 3_000 }, () => "a").join("+"),
      /nesting deeper than 100 levels|more than 2000 parts/,
    ],
    ["2k-member chain", "a" + ".b".repeat(2_000), /nesting deeper than 100 levels/],
    ["nested templates", "`${".repeat(1_000) + "1" + "}`".repeat(1_000), /nesting deeper than 100 levels/],
    ["nested conditionals", "a ? ".repeat(1_000) + "1" + " : 2".repeat(1_000), /nesting deeper than 100 levels/],
    ["many parts", "[" + Array.from({ length: 3_000 }, () => "1").join(",") + "]", /more than 2000 parts/],
  ];
  for (const [label, text, message] of hostileTexts) {
    test(`${label}: a clear UnsafeExpressionError, quickly`, () => {
      const t = performance.now();
      assert.throws(
        () => new SafeExpression(text, "value"),
        (err: unknown) => err instanceof UnsafeExpressionError && message.test((err as Error).message),
      );
      assert.ok(performance.now() - t < 1_000);
    });
  }

  test("the largest accepted shapes compile and evaluate", () => {
    const deep = "(".repeat(45) + "value" + ")".repeat(45);
    assert.equal(evaluateOn(m, "pass", deep, (s) => s.pass(3)).value, 3);
    const sum = Array.from({ length: 90 }, () => "value").join(" + ");
    assert.equal(evaluateOn(m, "pass", sum, (s) => s.pass(1)).value, 90);
    const wide = "[" + Array.from({ length: 1_500 }, (_, i) => String(i)).join(",") + "]";
    assert.equal((evaluateOn(m, "pass", wide, (s) => s.pass(1)).value as number[]).length, 1_500);
    const str = "'" + "x".repeat(9_000) + "'";
    assert.equal(evaluateOn(m, "pass", `len(${str})`, (s) => s.pass(1)).value, 9_000);
  });
});
