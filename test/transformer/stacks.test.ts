/**
 * What stacks show while a probe is on in an outlined function: the copy takes the original's
 * name (it is a method keyed by it), so a frame reads `Cart.total`, not `Cart.$dgO1`
 * (docs/site-abi.md, "Outlined functions").
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { functionNameOf } from "../../transformer/naming.js";
import { ROOT, instrumentChecked, recordAll, writeTemp } from "./harness.js";

const require = createRequire(import.meta.url);

const SOURCE = `
function total(a) {
  if (a < 0) throw new Error("negative");
  return a * 2;
}
class Cart {
  total(a) {
    if (a < 0) throw new Error("negative");
    return a * 2;
  }
}
module.exports = { total, Cart };
`;

type Mod = { total(a: number): number; Cart: new () => { total(a: number): number } };

function stackOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return String((error as Error).stack);
  }
  assert.fail("expected a throw");
}

test("while a probe is on, an outlined function's frames carry its own name, not the copy's", () => {
  const result = instrumentChecked(SOURCE, `${ROOT}/src/stacks/cart.cjs`);
  assert.equal(result.sites!.functions.filter((f) => f.name.endsWith("total")).length, 2);
  assert.match(result.code, /\$dgO\d+/, "both functions are outlined");
  const rec = recordAll(result);
  try {
    const mod = require(writeTemp("cart.cjs", result.code)) as Mod;
    assert.equal(mod.total(2), 4);
    const { total } = mod;
    const plainFrames = stackOf(() => total(-1))
      .split("\n")
      .slice(1, 3);
    assert.match(plainFrames[0]!, /^\s+at total \(/, plainFrames.join("\n"));
    assert.match(plainFrames[1]!, /^\s+at total \(/, "the guard's frame is the original function");
    const methodFrames = stackOf(() => new mod.Cart().total(-1))
      .split("\n")
      .slice(1, 3);
    assert.match(methodFrames[0]!, /^\s+at Cart\.total \(/, methodFrames.join("\n"));
    assert.match(methodFrames[1]!, /^\s+at Cart\.total \(/);
    assert.ok(
      rec.events.some((e) => e.hook === "e"),
      "the copies ran",
    );
  } finally {
    rec.dispose();
  }
});

test("a copy's frames carry the original's name from the start: also while the module's own top-level code runs", () => {
  // The copy is created by the binder at registration, already named; a copy renamed by a
  // statement after it would still show its binding's name ($dgO0) until evaluation got there.
  const source = `function total(a) {
  if (a < 0) throw new Error("negative");
  return a * 2;
}
let early;
try { total(-1); } catch (error) { early = error.stack; }
module.exports = { early };
`;
  const result = instrumentChecked(source, `${ROOT}/src/stacks/early.cjs`);
  assert.match(result.code, /\$dgO0\b/, "total is outlined");
  const rec = recordAll(result);
  try {
    const { early } = require(writeTemp("early.cjs", result.code)) as { early: string };
    const frames = early.split("\n").slice(1, 3);
    assert.match(frames[0]!, /^\s+at total \(/, early);
    assert.match(frames[1]!, /^\s+at total \(/, early);
    assert.ok(
      rec.events.some((e) => e.hook === "e"),
      "the copy ran",
    );
  } finally {
    rec.dispose();
  }
});

test("the name a copy takes is the one V8 gives the original", () => {
  const cases: [string, string][] = [
    ["total", "total"],
    ["Cart.total", "total"],
    ["Cart.total~2", "total"],
    ["Cart.size@get", "get size"],
    ["Cart.size@set", "set size"],
    ["It[Symbol.iterator]", "[Symbol.iterator]"],
    ["handlers.<anonymous>", ""],
    ["Cart.[computed]", ""],
  ];
  for (const [path, name] of cases) assert.equal(functionNameOf(path), name, path);
});
