/**
 * `createNamespace` stores only the fields that differ from their defaults (the defaults live on
 * EventNamespace.prototype): every event still reads exactly what it was given, falsy values
 * included, and one event's values never show in another's.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createNamespace, frameLayout, siteLayout } from "../../runtime/expressions/namespace.js";
import type { CallFrame, FunctionInfo, SiteInfo } from "../../runtime/registry/index.js";

const SITE: SiteInfo = { id: 3, kind: "line", line: 2, column: 2, locals: ["a", "s"] };
const FN: FunctionInfo = {
  qualifiedName: "src/t.ts:add",
  module: "src/t.ts",
  path: "add",
  line: 1,
  column: 1,
  flags: 0,
  params: ["a", "b"],
  sites: [SITE],
};
const frame: CallFrame = { fn: FN, self: undefined, args: [1, 2], start: 10, startDate: new Date(0) };
const layout = frameLayout(FN);

test("a call event reads the defaults: no result, not thrown, no end, no hotspots", () => {
  const ns = createNamespace(layout, {
    kind: "call",
    frame,
    locals: undefined,
    result: undefined,
    threw: false,
    end: NaN,
    hot: undefined,
  });
  assert.deepEqual(ns.toObject(), {
    event: "call",
    target: "src/t.ts:add",
    args: [1, 2],
    this: undefined,
    now: new Date(0),
    start: 10,
    a: 1,
    b: 2,
  });
  assert.equal(ns.result, undefined);
  assert.equal(ns.error, undefined);
  assert.equal(ns.threw, false);
  assert.equal(ns.end, undefined);
  assert.equal(ns.elapsed, undefined);
  assert.equal(ns.hotspots, undefined);
});

test("falsy values given to an event are kept (0, null, false results; a 0 end time)", () => {
  for (const result of [0, null, false, ""]) {
    const ns = createNamespace(layout, {
      kind: "return",
      frame,
      locals: undefined,
      result,
      threw: false,
      end: 0,
      hot: undefined,
    });
    assert.equal(ns.result, result);
    assert.equal(ns.end, 0);
    assert.equal(ns.elapsed, -10);
  }
});

test("a thrown result and the locals of a line are read back; later events do not see them", () => {
  const error = new Error("boom");
  const thrown = createNamespace(layout, {
    kind: "end",
    frame,
    locals: undefined,
    result: error,
    threw: true,
    end: 12,
    hot: undefined,
  });
  assert.equal(thrown.error, error);
  assert.equal(thrown.threw, true);
  assert.equal(thrown.elapsed, 2);
  const atLine = createNamespace(siteLayout(FN, SITE), {
    kind: "line",
    frame,
    locals: [1, 3],
    result: undefined,
    threw: false,
    end: NaN,
    hot: undefined,
  });
  assert.deepEqual(atLine.locals, { a: 1, s: 3 });
  const next = createNamespace(layout, {
    kind: "call",
    frame,
    locals: undefined,
    result: undefined,
    threw: false,
    end: NaN,
    hot: undefined,
  });
  assert.equal(next.error, undefined);
  assert.equal(next.threw, false);
  assert.equal(next.result, undefined);
  assert.equal(next.end, undefined);
  assert.deepEqual(next.locals, { a: 1, b: 2 });
});
