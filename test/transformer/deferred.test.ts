/**
 * What `deferCopies` (site ABI 4) outlines: functions of any length, but none that uses
 * `import.meta` or `import()` (the copy text is evaluated as a script); and the options it refuses.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { instrument, TransformOptionsError } from "../../transformer/index.js";

const SOURCE = `export function a() { return import("./x.js"); }
export function b() { return import.meta.url; }
export function c(x) { return x + 1; }
export function long(x) {
${"  x = x + 1;\n".repeat(200)}  return x;
}
`;

function outlined(deferCopies: boolean): string[] {
  const r = instrument(SOURCE, "/project/src/m.mjs", { root: "/project", deferCopies });
  const f = JSON.parse(/f:'(.*?)'/.exec(r.code)![1]!) as unknown[][];
  return f.filter((e) => e[6] !== undefined).map((e) => e[0] as string);
}

test("deferred copies outline long functions, not those using import.meta or import()", () => {
  assert.deepEqual(outlined(false), ["a", "b", "c"]);
  assert.deepEqual(outlined(true), ["c", "long"]);
});

test("deferCopies with types: true is refused; a module without outlined functions has no copy text", () => {
  assert.throws(
    () => instrument("export const x = 1;", "/project/src/m.ts", { root: "/project", deferCopies: true, types: true }),
    TransformOptionsError,
  );
  const r = instrument("export class A { constructor() { this.x = 1; } }", "/project/src/n.mjs", {
    root: "/project",
    deferCopies: true,
  });
  assert.equal(r.copies, undefined);
  assert.match(r.code, /register\(\{abi:3,/);
});
