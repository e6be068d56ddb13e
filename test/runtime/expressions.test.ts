/** The expression scanner and compiler, and the default global namespace. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { scanExpression } from "../../runtime/expressions/scan.js";
import { Expression } from "../../runtime/expressions/expression.js";
import { ExpressionSyntaxError } from "../../runtime/index.js";
import { mag } from "../../runtime/manager/manager.js";

test("a bare name is recognised and not compiled", () => {
  assert.equal(scanExpression(" result ").bare, "result");
  assert.equal(scanExpression("this").bare, undefined);
  assert.equal(new Expression("arg", "value").bare, "arg");
});

test("identifiers: property names, strings, templates, regexes and comments are skipped", () => {
  const ids = (s: string) => [...scanExpression(s).identifiers].sort();
  assert.deepEqual(ids("a.b + c?.d"), ["a", "c"]);
  assert.deepEqual(ids("'x y' + \"z\" + w"), ["w"]);
  assert.deepEqual(ids("`t ${a + `in ${b}`} ${c}` + d"), ["a", "b", "c", "d"]);
  assert.deepEqual(ids("/a'b/.test(s) /* q */ // r"), ["s"]);
  assert.deepEqual(ids("x / y / z"), ["x", "y", "z"]);
  // An object literal's key is not read (a shorthand property is).
  assert.deepEqual(ids("({ k: v, w })"), ["v", "w"]);
});

test("text that could escape the compiled `return (…)` is refused", () => {
  for (const bad of ["1); evil(); (1", "a; b", "(a", "a)", "{", "'open", "`open", "/* open"]) {
    assert.throws(() => new Expression(bad, "value"), ExpressionSyntaxError, bad);
  }
  assert.throws(() => new Expression(42, "value"), ExpressionSyntaxError);
});

test("mag: integer magnitude of numbers and sizes", () => {
  assert.equal(mag(1), 0);
  assert.equal(mag(999), 2);
  assert.equal(mag(1000), 3);
  assert.equal(mag(0), -1);
  assert.equal(mag(-5), -1);
  assert.equal(mag("x".repeat(150)), 2);
  assert.equal(mag(new Array(10)), 1);
  assert.equal(mag(new Map([[1, 1]])), 0);
  assert.equal(mag({ a: 1, b: 2 }), 0);
  assert.equal(mag(8, 2), 3);
  assert.equal(mag(undefined), -1);
});
