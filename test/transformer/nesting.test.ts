/**
 * Deeply nested sources (issue 10, item 12): the parser must not crash the process (SWC overflows
 * the native stack past a few thousand levels) and the walk must not throw a RangeError. Either
 * way the file is left as it is, with a `too-deep` warning.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { instrument } from "../../transformer/index.js";
import { MAX_TEXT_NESTING, textNestingProblem } from "../../transformer/nesting.js";
import { ROOT, instrumentChecked } from "./harness.js";

const SHAPES: Record<string, (n: number) => string> = {
  parentheses: (n) => `export function f() { return ${"(".repeat(n)}1${")".repeat(n)}; }`,
  blocks: (n) => `export function f() { ${"{".repeat(n)} return 1; ${"}".repeat(n)} }`,
  arrays: (n) => `export const a = ${"[".repeat(n)}1${"]".repeat(n)};`,
  objects: (n) => `export const a = ${"{a:".repeat(n)}1${"}".repeat(n)};`,
  arrows: (n) => `export const a = ${"() => ".repeat(n)}1;`,
  functions: (n) => `${"function f() { ".repeat(n)}${"}".repeat(n)}`,
  "else-if chains": (n) => `export function f(a) { ${Array(n).fill("if (a) a++; else").join(" ")} a--; }`,
  "binary chains": (n) => `export function f(a) { return ${Array(n).fill("a").join(" + ")}; }`,
  "member chains": (n) => `export function f(a) { return a${".b".repeat(n)}; }`,
  "conditional chains": (n) => `export function f(a) { return ${Array(n).fill("a ? 1 :").join(" ")} 2; }`,
};

for (const [shape, source] of Object.entries(SHAPES)) {
  test(`${shape} nested 20,000 deep: the file is skipped with a too-deep warning, the process lives`, () => {
    const result = instrument(source(20_000), `${ROOT}/src/deep.ts`, { root: ROOT });
    assert.match(result.skipped ?? "", /levels deep|ran out of stack/);
    assert.deepEqual(
      result.warnings.map((w) => w.code),
      ["too-deep"],
    );
    assert.match(result.warnings[0]!.message, /deep\.ts:\d+:\d+: src\/deep\.ts left uninstrumented: /);
  });
}

test("ordinary nesting (100 levels of every shape) is instrumented", () => {
  for (const [shape, source] of Object.entries(SHAPES)) {
    const result = instrumentChecked(source(100), `${ROOT}/src/shallow.ts`);
    assert.equal(result.skipped, undefined, shape);
  }
});

test("the text scan ignores brackets in strings, comments and template text, and closes template holes", () => {
  const many = "(".repeat(MAX_TEXT_NESTING + 10);
  assert.equal(textNestingProblem(`const a = "${many}"; // ${many}\n/* ${many} */ const b = '${many}';`), undefined);
  assert.equal(textNestingProblem(`const t = \`${many} \${ (1) } ${many}\`;`), undefined);
  assert.notEqual(textNestingProblem(`const t = \`\${${many}\`;`), undefined);
  // Arrows chained in separate arguments do not add up; a chain does.
  assert.equal(
    textNestingProblem(
      `f(${Array(MAX_TEXT_NESTING + 10)
        .fill("() => 1")
        .join(", ")});`,
    ),
    undefined,
  );
  assert.notEqual(textNestingProblem(`f(${"() => ".repeat(MAX_TEXT_NESTING + 10)}1);`), undefined);
});
