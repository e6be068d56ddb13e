/**
 * Minimal reproductions of transformer bugs found by the fidelity tests. Each is marked `todo`
 * while the bug is open (the suite stays green and the runner lists it as TODO); remove the
 * `todo` when the transformer is fixed, and the test then guards against regressions.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { makeTempFolder } from "../helpers/temp.js";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { transformSync } from "@swc/core";
import { instrument } from "../../transformer/index.js";
import { swcOptions } from "./build-corpus.js";

async function loadBoth(
  source: string,
): Promise<{ plain: Record<string, unknown>; instrumented: Record<string, unknown>; code: string }> {
  const root = makeTempFolder("fidelity");
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "fidelity-bug", type: "module" }));
  mkdirSync(join(root, "src"));
  const file = join(root, "src", "a.ts");
  writeFileSync(file, source);
  const inst = instrument(source, file, { root, module: "esm", sourceMap: false });
  writeFileSync(join(root, "src", "plain.js"), transformSync(source, swcOptions(file)).code);
  writeFileSync(join(root, "src", "instrumented.js"), transformSync(inst.code, swcOptions(file)).code);
  return {
    plain: (await import(pathToFileURL(join(root, "src", "plain.js")).href)) as Record<string, unknown>,
    instrumented: (await import(pathToFileURL(join(root, "src", "instrumented.js")).href)) as Record<string, unknown>,
    code: inst.code,
  };
}

/*
 * Found in zod@4.6.7 src/v4/core/parse.ts:71
 *   export const _safeParse = (_Err) => (schema, value, _ctx) => { … };
 *   export const safeParse = _safeParse(errors.$ZodRealError);          // safeParse.name === ""
 * The instrumented arrow's expression body becomes `return ($dgr = (schema, value, _ctx) => {…}, …)`,
 * and an anonymous function assigned to an identifier takes that identifier's name (ECMAScript
 * NamedEvaluation), so `safeParse.name === "$dgr"` in the instrumented build. The same happens to
 * every `return function () {}`, `return () => …` and `return class {}`: `fn.name` (and a returned
 * class's `name`, which shows up in messages and serialisers) changes from "" to "$dgr".
 * Fixed: the value stays anonymous, `$dgr = (0, <expr>)`, for anonymous function/class/arrow
 * expressions (transformer/site-code.ts, the return and expression-body sites).
 */
test('fn.name of an anonymous function or class returned by `return` / an arrow expression body stays ""', async () => {
  const { plain, instrumented } = await loadBoth(
    [
      "export const arrow = () => () => 1;",
      "export function fnExpr() { return function () {}; }",
      "export function cls() { return class {}; }",
      "export const arrowCls = () => class {};",
      "export const asyncArrow = () => async () => 1;",
      "export function paren() { return ((function () {}) as unknown); }",
      "export const parenArrow = () => (class {}) satisfies object;",
    ].join("\n"),
  );
  const names = (m: Record<string, unknown>): string[] =>
    ["arrow", "fnExpr", "cls", "arrowCls", "asyncArrow", "paren", "parenArrow"].map(
      (k) => (m[k] as () => { name: string })().name,
    );
  assert.deepEqual(names(plain), ["", "", "", "", "", "", ""]);
  assert.deepEqual(names(instrumented), names(plain));
});

/*
 * Found while profiling the rxjs benchmark (V8's profiler listed a function "$dgr" in
 * rxjs/src/internal/operators/scanInternals.ts). The fix above kept `fn.name` "", but V8 still
 * *infers* a name for stack traces from the assignment `$dgr = (0, <expr>)` (through commas,
 * parentheses and conditionals alike): an error thrown inside such a function showed
 * `at $dgr (file:line)` where the plain build shows no function name — a visible change in every
 * stack trace and in error-grouping tools that key on frame names.
 * Fixed: the value passes through the module's identity function, `$dgr = $dgI(<expr>)`; a call
 * argument gets no inferred name.
 */
test("a returned anonymous function shows the same frame name in stack traces as in the plain build", async () => {
  const { plain, instrumented } = await loadBoth(
    [
      "export const arrow = () => () => { throw new Error('a'); };",
      "export function fnExpr() { return function () { throw new Error('b'); }; }",
      "export function cls() { return class { constructor() { throw new Error('c'); } }; }",
    ].join("\n"),
  );
  /** The first frame of the stack, without its location: `at <name> (` or `at ` for an anonymous frame. */
  const frame = (run: () => void): string => {
    try {
      run();
    } catch (e) {
      const line = (e as Error).stack!.split("\n")[1]!.trim();
      return line.includes("(") ? line.slice(0, line.indexOf("(")).trim() : "at <anonymous>";
    }
    return "did not throw";
  };
  const frames = (m: Record<string, unknown>): string[] => [
    frame(() => (m.arrow as () => () => void)()()),
    frame(() => (m.fnExpr as () => () => void)()()),
    frame(() => new ((m.cls as () => new () => unknown)())()),
  ];
  const expected = frames(plain);
  assert.ok(!expected.some((f) => f.includes("$dg")), expected.join(" | "));
  assert.deepEqual(frames(instrumented), expected);
});
