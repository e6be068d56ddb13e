/**
 * Small inline snapshots of the generated code per construct (the marker and the header are cut
 * off — the header goes before the first statement; `H` stands for the module hash).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ROOT, instrumentChecked } from "./harness.js";

/** In place (`outline: false`) unless asked: most snapshots show the site code of one construct. */
function body(source: string, options: { replaceArguments?: boolean; outline?: boolean } = {}): string {
  const result = instrumentChecked(source, `${ROOT}/src/snap.ts`, { outline: false, ...options });
  const code = result.code.replaceAll(result.sites!.hash, "H");
  const header = code.indexOf("var $dg_HE, $dg_HL, $dg_HX, $dg_HT; ");
  assert.ok(code.startsWith("/*diagnose:instrumented*/\n") && header > 0);
  const tail = "}); } catch (e) {}";
  return code.slice(code.indexOf("\n") + 1, header) + code.slice(code.indexOf(tail, header) + tail.length);
}

test("snapshot: arrow with an expression body", () => {
  assert.equal(
    body("\nconst double = (x: number) => x * 2;\n"),
    "const double = (x: number) => { var $dgf, $dgr; try { if ($dg_H_0) $dgf = $dg_HE(0, void 0, x); return ($dgr = x * 2, $dg_H_1 ? $dg_HX(1, $dgf, $dgr, x) : $dgr); } catch ($dge) { throw $dg_H_2 ? $dg_HT(2, $dgf, $dge) : $dge; } };\n",
  );
});

test("snapshot: replaceArguments: the entry code assigns replaced plain, default and rest parameters", () => {
  assert.equal(
    body("\nconst double = (x: number, [y]: number[], ...r: number[]) => x * 2;\n", { replaceArguments: true }),
    "const double = (x: number, [y]: number[], ...r: number[]) => { var $dgf, $dgr; try { if ($dg_H_0 && ($dgf = $dg_HE(0, void 0, x, {y}, r)).a) x = $dgf.a[0], r = $dgf.a[2]; return ($dgr = x * 2, $dg_H_1 ? $dg_HX(1, $dgf, $dgr, x, y, r) : $dgr); } catch ($dge) { throw $dg_H_2 ? $dg_HT(2, $dgf, $dge) : $dge; } };\n",
  );
});

test("snapshot: a returned anonymous function, arrow or class stays anonymous: `$dgr = $dgI(expr)`", () => {
  assert.equal(
    body("\nconst mk = () => () => 1;\nfunction k() {\n  return (class {});\n}\n"),
    [
      "const mk = () => { var $dgf, $dgr; try { if ($dg_H_0) $dgf = $dg_HE(0, void 0); return ($dgr = $dg_HI(() => { var $dgf, $dgr; try { if ($dg_H_2) $dgf = $dg_HE(2, void 0); return ($dgr = 1, $dg_H_3 ? $dg_HX(3, $dgf, $dgr) : $dgr); } catch ($dge) { throw $dg_H_4 ? $dg_HT(4, $dgf, $dge) : $dge; } }), $dg_H_1 ? $dg_HX(1, $dgf, $dgr) : $dgr); } catch ($dge) { throw $dg_H_5 ? $dg_HT(5, $dgf, $dge) : $dge; } };",
      "function k() {var $dgf, $dgr; try { if ($dg_H_6) $dgf = $dg_HE(6, this); ",
      "  return ($dgr = $dg_HI((class {})), $dg_H_8 ? $dg_HX(8, $dgf, $dgr) : $dgr);",
      "; } catch ($dge) { throw $dg_H_9 ? $dg_HT(9, $dgf, $dge) : $dge; }}",
      "",
    ].join("\n"),
  );
});

test("snapshot: directive prologue, line sites, return and end", () => {
  assert.equal(
    body('\nfunction f(a) {\n  "use strict"\n  const b = a;\n  if (b) return;\n  g(b)\n}\n'),
    [
      "function f(a) {",
      '  "use strict";var $dgf, $dgr; try { if ($dg_H_0) $dgf = $dg_HE(0, this, a); ',
      // Site 1, the line of the first statement, is served by the entry site: no code.
      "  const b = a;",
      "  if ($dg_H_2) $dg_HL(2, $dgf, a, b); if (b) return $dg_H_3 ? $dg_HX(3, $dgf, void 0, a, b) : void 0;",
      "  if ($dg_H_4) $dg_HL(4, $dgf, a, b); g(b)",
      "; if ($dg_H_5) return $dg_HX(5, $dgf, void 0, a, b); } catch ($dge) { throw $dg_H_6 ? $dg_HT(6, $dgf, $dge) : $dge; }}",
      "",
    ].join("\n"),
  );
});

test("snapshot: a single-statement body is wrapped in braces; labels keep their loop", () => {
  assert.equal(
    body("\nfunction f(n) {\n  loop: for (const x of n)\n    if (x) continue loop;\n}\n"),
    [
      "function f(n) {var $dgf, $dgr; try { if ($dg_H_0) $dgf = $dg_HE(0, this, n); ",
      "  loop: for (const x of n)",
      "    { if ($dg_H_2) $dg_HL(2, $dgf, n, x); if (x) continue loop; }",
      "; if ($dg_H_3) return $dg_HX(3, $dgf, void 0, n); } catch ($dge) { throw $dg_H_4 ? $dg_HT(4, $dgf, $dge) : $dge; }}",
      "",
    ].join("\n"),
  );
});

test("snapshot: async derived constructor-free method with pause points", () => {
  assert.equal(
    body("\nclass A extends B {\n  async m() {\n    await x;\n  }\n}\n"),
    [
      "class A extends B {",
      "  async m() {var $dgf, $dgr; try { if ($dg_H_0) { $dgf = $dg_HE(0, this); if ($dgf && $dgf.w) await $dgf.w; } ",
      "    await x;",
      "  ; if ($dg_H_2) return $dg_HX(2, $dgf, void 0); } catch ($dge) { throw $dg_H_3 ? $dg_HT(3, $dgf, $dge) : $dge; }}",
      "}",
      "",
    ].join("\n"),
  );
});

test("snapshot: ESM output: one data: import installs the bootstrap and defines the flags; the hook bindings are $dgE…", () => {
  const result = instrumentChecked("export function f(a) {\n  return a;\n}\n", `${ROOT}/src/snap-esm.ts`, {
    outline: false,
  });
  const code = result.code.replaceAll(result.sites!.hash, "H");
  assert.equal(
    code.slice(0, code.indexOf(".register(")),
    '/*diagnose:instrumented*/import "data:text/javascript,' +
      "(globalThis[Symbol.for('diagnose.registry')]%3F%3F={abi:3,queue:[],register(t,b){if(t.l==null)for(let%20i=0;i<t.n;i++){let%20k='$dg_'+t.h+'_'+i;k%20in%20globalThis||Object.defineProperty(globalThis,k,{value:!1,writable:!0,configurable:!0})}this.queue.push([t,b]);return%20t}});" +
      "for(let%20i=0;i<4;i++){let%20k='$dg_H_'+i;k%20in%20globalThis||Object.defineProperty(globalThis,k,{value:!1,writable:!0,configurable:!0})}\";" +
      "var $dgE, $dgL, $dgX, $dgT; function $dgI(v) { return v; } try { globalThis[Symbol.for('diagnose.registry')]",
  );
  assert.ok(
    code.includes(
      `.register({abi:3,h:"H",m:"src/snap-esm.ts",p:"fixture",n:4,f:'[["f",1,7,0,["a"],1]]',s:"AACODCACLCCAAAAEACFD",v:"a",r:0}, function (e, l, x, t) { $dgE = e; $dgL = l; $dgX = x; $dgT = t; }); } catch (e) {}`,
    ),
    code,
  );
  assert.ok(code.includes("return ($dgr = a, $dg_H_2 ? $dgX(2, $dgf, $dgr, a) : $dgr);"), code);
  assert.ok(code.includes("} catch ($dge) { throw $dg_H_3 ? $dgT(3, $dgf, $dge) : $dge; }"), code);
});
