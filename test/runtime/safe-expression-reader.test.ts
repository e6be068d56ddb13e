/**
 * The guarded reader across events and against a changed environment: one compiled expression
 * meets an object that changes between events (a data property redefined as an accessor, a Proxy
 * in its place, a prototype that gains a getter), and a program that put getters and setters on
 * Object.prototype and Array.prototype. Each read gives the marker or the right value; no getter,
 * setter or trap runs — with the generated code and with the interpreter alike.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { GETTER, PROXY, ProbeTestInstrument, probes, SafeExpression } from "../../runtime/index.js";
import { createNamespace, frameLayout } from "../../runtime/expressions/namespace.js";
import type { FunctionInfo } from "../../runtime/registry/index.js";
import type { InstrumentedModule } from "../helpers/instrumented.js";
import { assertSameOutcome, loadShop, type Outcome, QuietManager, type Shop } from "./safe-expression-helpers.js";

let m: InstrumentedModule<Shop>;
before(async () => {
  m = await loadShop();
});

let ran = 0;
const count = (): undefined => {
  ran++;
  return undefined;
};
const handler: ProxyHandler<object> = Object.fromEntries(
  ["get", "has", "getOwnPropertyDescriptor", "getPrototypeOf", "ownKeys", "isExtensible"].map((t) => [t, count]),
);

/** One safe instrument on `pass`, kept across calls: `step(i)` runs before call i, which passes `value(i)`. */
function acrossCalls(expression: string, calls: number, step: (i: number) => unknown): unknown[] {
  const inst = new ProbeTestInstrument("t", expression, { expressions: "safe", mgr: new QuietManager() });
  const target = m.qualified("pass");
  const p = probes.attachTo(target);
  try {
    p.instruments.set("t", inst);
    p.start();
    for (let i = 0; i < calls; i++) m.exports.pass(step(i));
  } finally {
    probes.remove(target);
  }
  assert.equal(inst.lastError, undefined);
  return inst.results;
}

describe("one compiled expression, a value that changes between events", () => {
  test("data → accessor → a Proxy of it → data again: the getter and the traps never run", () => {
    ran = 0;
    const cart: Record<string, unknown> = { id: 7, items: [1, 2] };
    const got = acrossCalls("[result.items.length, result.id]", 4, (i) => {
      if (i === 1) Object.defineProperty(cart, "id", { get: count, configurable: true });
      if (i === 2) return new Proxy(cart, handler);
      if (i === 3) Object.defineProperty(cart, "id", { value: 8, configurable: true, writable: true });
      return cart;
    });
    assert.deepEqual(got, [
      [2, 7],
      [2, GETTER],
      [PROXY, PROXY],
      [2, 8],
    ]);
    assert.equal(ran, 0);
  });

  test("an array element redefined as an accessor, an array swapped for a Proxy of it", () => {
    ran = 0;
    const items: unknown[] = [1, 2, 3];
    const got = acrossCalls("[len(result), result[1], result.length]", 3, (i) => {
      if (i === 1) Object.defineProperty(items, 1, { get: count, configurable: true });
      return i === 2 ? new Proxy(items, handler) : items;
    });
    assert.deepEqual(got, [
      [3, 2, 3],
      [3, GETTER, 3],
      [undefined, PROXY, PROXY],
    ]);
    assert.equal(ran, 0);
  });

  test("a prototype that gains an accessor, then a Proxy as prototype: markers, nothing runs", () => {
    ran = 0;
    class Cart {
      id = 1;
    }
    const c = new Cart();
    const got = acrossCalls("result.total", 3, (i) => {
      if (i === 1) Object.defineProperty(Cart.prototype, "total", { get: count, configurable: true });
      if (i === 2) Object.setPrototypeOf(c, new Proxy({}, handler));
      return c;
    });
    assert.deepEqual(got, [undefined, GETTER, PROXY]);
    assert.equal(ran, 0);
  });
});

const PASS: FunctionInfo = {
  qualifiedName: "src/t.ts:pass",
  module: "src/t.ts",
  path: "pass",
  line: 1,
  column: 1,
  flags: 0,
  params: ["value"],
  sites: [],
};
const ORDER: FunctionInfo = { ...PASS, qualifiedName: "src/t.ts:order", path: "order", params: ["cart", "...rest"] };

/**
 * Evaluates on the namespace of a "return" event of `fn(...args)` returning `result`, with
 * `change` applied only around the evaluation (the test runner itself would not survive it), and
 * gives the value or what was thrown. The interpreter evaluates it too, in the same changed
 * environment, and must give the same.
 */
function evaluateChanged(
  change: () => () => void,
  text: string,
  result: unknown,
  fn: FunctionInfo = PASS,
  args: unknown[] = [result],
): unknown {
  const compiled = evaluateOnce(new SafeExpression(text, "value"), change, result, fn, args);
  const interpreted = evaluateOnce(SafeExpression.interpreted(text, "value"), change, result, fn, args);
  assertSameOutcome(compiled, interpreted, text);
  return "error" in compiled ? compiled.error : compiled.value;
}

function evaluateOnce(
  expr: SafeExpression,
  change: () => () => void,
  result: unknown,
  fn: FunctionInfo,
  args: unknown[],
): Outcome {
  const ns = createNamespace(frameLayout(fn), {
    kind: "return",
    frame: { fn, self: undefined, args, start: 1, startDate: new Date(0) },
    locals: undefined,
    result,
    threw: false,
    end: 2,
    hot: undefined,
  });
  const undo = change();
  try {
    return { value: expr.evaluate(ns, { globalNamespace: {} }) };
  } catch (error) {
    return { error };
  } finally {
    undo();
  }
}

/** Defines `keys` on `target` for the duration; gives the undo. */
function defining(target: object, keys: PropertyKey[], d: PropertyDescriptor): () => () => void {
  return () => {
    // Without a prototype: the descriptor's fields must not be looked up on the changed Object.prototype.
    for (const k of keys)
      Object.defineProperty(target, k, { __proto__: null, ...d, configurable: true } as PropertyDescriptor);
    return () => {
      for (const k of keys) delete (target as Record<PropertyKey, unknown>)[k];
    };
  };
}

describe("a program that changed Object.prototype or Array.prototype", () => {
  const DESCRIPTOR_FIELDS = ["get", "set", "value", "writable", "enumerable", "configurable"];

  test("getters named like a descriptor's fields on Object.prototype never run; reads stay right", () => {
    ran = 0;
    const polluted = defining(Object.prototype, DESCRIPTOR_FIELDS, { get: count, set: count });
    const withAccessor = Object.defineProperty({ plain: 1 }, "acc", { get: count, enumerable: true });
    assert.equal(evaluateChanged(polluted, "result.plain", withAccessor), 1);
    assert.equal(evaluateChanged(polluted, "result.acc", withAccessor), GETTER);
    assert.equal(evaluateChanged(polluted, "result.size", new Map([[1, 2]])), 1);
    assert.equal(evaluateChanged(polluted, "result.missing", { plain: 1 }), undefined);
    assert.equal(ran, 0);
  });

  test("a function named `get` on Object.prototype does not turn every read into a marker", () => {
    const polluted = defining(Object.prototype, ["get"], { value: count, writable: true });
    assert.equal(evaluateChanged(polluted, "result.id", { id: 5 }), 5);
    assert.equal(evaluateChanged(polluted, "result.size", new Set([1, 2])), 2);
  });

  test("args past the end: an index getter on Array.prototype reads as the marker, not run", () => {
    ran = 0;
    const polluted = defining(Array.prototype, ["3"], { get: count });
    assert.equal(evaluateChanged(polluted, "args[3]", 1), GETTER);
    // With a rest parameter `args` is the namespace's copy of the frame's arguments.
    assert.equal(evaluateChanged(polluted, "args[3]", 1, ORDER, [1, [2]]), GETTER);
    assert.equal(evaluateChanged(polluted, "args[1]", 1, ORDER, [1, [2]]), 2);
    assert.equal(ran, 0);
  });

  test("`locals`: a setter on Object.prototype under a parameter's name does not run", () => {
    ran = 0;
    const polluted = defining(Object.prototype, ["value"], { get: count, set: count });
    const locals = evaluateChanged(polluted, "locals", 4) as Record<string, unknown>;
    assert.equal(Object.getOwnPropertyDescriptor(locals, "value")?.value, 4);
    assert.equal(ran, 0);
  });

  test("literals, member chains and helper calls define, never assign: setters on both prototypes do not run", () => {
    ran = 0;
    const onObject = defining(Object.prototype, ["a", "0"], { get: count, set: count });
    const onArray = defining(Array.prototype, ["0", "1", "4"], { get: count, set: count });
    const both = () => {
      const undoObject = onObject();
      const undoArray = onArray();
      return () => {
        undoArray();
        undoObject();
      };
    };
    assert.deepEqual(evaluateChanged(both, "[result, 2]", 1), [1, 2]);
    assert.deepEqual(evaluateChanged(both, "({ a: result, 0: 2 })", 1), { a: 1, 0: 2 });
    assert.deepEqual(evaluateChanged(both, "[result, [2], [3, 4, 5, 6, 7]]", 1), [1, [2], [3, 4, 5, 6, 7]]);
    assert.deepEqual(evaluateChanged(both, "{ a: { a: result } }", 1), { a: { a: 1 } });
    // One, two and five arguments (more than the interpreter passes one by one).
    assert.equal(evaluateChanged(both, "abs(result)", 1), 1);
    assert.equal(evaluateChanged(both, "mag(result, 2)", 1), 0);
    assert.equal(evaluateChanged(both, "min(result, 5, 4, 3, 2)", 1), 1);
    // A member chain (its links are a list while compiling), an optional one (a temporary).
    assert.equal(evaluateChanged(both, "[1, 2, 3, 4, 5][4]", 1), 5);
    assert.equal(evaluateChanged(both, "[result]?.[0]", 1), 1);
    assert.equal(ran, 0);
  });
});
