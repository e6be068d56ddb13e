/** Locals per site: never a binding that may be uninitialised (TDZ) at the site. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ROOT, compile, importTemp, instrumentChecked, recordAll } from "./harness.js";

function sitesOf(source: string) {
  return instrumentChecked(source, `${ROOT}/src/locals.ts`).sites!.functions;
}

test("let/const only after their statement ran; switch cases do not see each other", () => {
  const [fn] = sitesOf(`
function f(p, { q }, ...r) {
  var v = 1;
  const before = 2;
  {
    inner();
    let late = 3;
    use(late);
  }
  switch (p) {
    case 1:
      const one = 1;
      use(one);
    case 2:
      use(p);
  }
  try { x(); } catch ({ message }) {
    use(message);
  }
  for (let i = 0; i < 1; i++) {
    use(i);
  }
  class K {}
  function g() {}
  let after = 4;
  return after;
}`);
  const lines = fn!.sites.filter((s) => s.kind === "line").map((s) => [s.line, s.locals.join(",")]);
  assert.deepEqual(lines, [
    [3, "p,q,r,v"],
    [4, "p,q,r,v"],
    [6, "p,q,r,v,before"],
    [7, "p,q,r,v,before"],
    [8, "p,q,r,v,before,late"],
    [10, "p,q,r,v,before"],
    [12, "p,q,r,v,before"],
    [13, "p,q,r,v,before,one"],
    [15, "p,q,r,v,before"],
    [17, "p,q,r,v,before"],
    [18, "p,q,r,v,before,message"],
    [20, "p,q,r,v,before"],
    [21, "p,q,r,v,before,i"],
    [23, "p,q,r,v,before"],
    [25, "p,q,r,v,before"],
    [26, "p,q,r,v,before,after"],
  ]);
  assert.deepEqual(fn!.sites.find((s) => s.kind === "throw")!.locals, [], "the throw site passes no locals");
});

test("shadowing: an inner uninitialised let or a function hides the outer name", () => {
  const [fn] = sitesOf(`
function f(a, b) {
  {
    use(a);
    let a = 1;
    function b() {}
  }
}`);
  assert.deepEqual(fn!.sites.find((s) => s.kind === "line" && s.line === 4)!.locals, []);
});

test("with every site on, locals never read a binding in its TDZ", async () => {
  const source = `
export function run(x: number) {
  const out: unknown[] = [];
  switch (x) {
    case 0:
      let a = "a";
      out.push(a);
      break;
    case 1:
      out.push("one");
      let b = "b";
      out.push(b);
  }
  {
    out.push(typeof later);
    var later = 1;
  }
  return out;
}`;
  const result = instrumentChecked(source, `${ROOT}/src/tdz.ts`);
  const rec = recordAll(result);
  try {
    const mod = await importTemp<{ run(x: number): unknown[] }>("tdz.mjs", compile(result.code, "tdz.ts", "es6"));
    assert.deepEqual(mod.run(1), ["one", "b", "undefined"]);
    assert.deepEqual(mod.run(0), ["a", "undefined"]);
  } finally {
    rec.dispose();
  }
});
