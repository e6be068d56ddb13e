/**
 * Flags defined when they are needed (table `l`): a module defines at load only the flags its own
 * code reads; the registry defines the others (its outlined functions' sites, read only by their
 * copies, and the entry-served line sites, read by no code) when the module is first watched.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { test } from "node:test";
import { loadFlagRanges } from "../../abi/index.js";
import { probes } from "../../runtime/index.js";
import { ProbeTestInstrument } from "../../runtime/testing/index.js";
import { loadInstrumented } from "../helpers/instrumented.js";

const SOURCE = `export function area(w: number, h: number) {
  const a = w * h;
  const b = a + 0;
  const c = b * 1;
  const d = c - 0;
  return d;
}
export function perimeter(w: number, h: number) {
  const p = 2 * (w + h);
  return p;
}
export const sides = [1, 2, 3].map((n) => {
  const m = n + 1;
  return m;
});
`;

const g = globalThis as unknown as Record<string, unknown>;

test("flags its code does not read are defined on the first watch, and the probe then fires", async () => {
  const mod = await loadInstrumented<{
    area(w: number, h: number): number;
    perimeter(w: number, h: number): number;
    sides: number[];
  }>(SOURCE, "src/shop/geometry.ts");
  const l = /,l:"([-,0-9]*)"/.exec(mod.instrumentedCode)?.[1];
  assert.ok(l !== undefined, "the table has `l`");
  const n = Number(/,n:(\d+),/.exec(mod.instrumentedCode)![1]);
  const atLoad = new Set(loadFlagRanges(l, n)!.flatMap(([a, z]) => Array.from({ length: z - a + 1 }, (_, i) => a + i)));
  const name = (id: number) => `$dg_${mod.hash}_${id}`;
  const defined = () => Array.from({ length: n }, (_, id) => id).filter((id) => Object.hasOwn(globalThis, name(id)));
  assert.deepEqual(defined(), [...atLoad], "only the flags the module reads at load");
  for (const id of atLoad) assert.equal(g[name(id)], false);
  // The arrow's sites are read by the module's code (in place): defined; the outlined functions' are not.
  assert.deepEqual(mod.exports.sides, [2, 3, 4]);
  assert.equal(mod.exports.area(2, 3), 6, "off, the module runs");

  const p = probes.attachTo(mod.qualified("area"));
  const inst = new ProbeTestInstrument("r", "result");
  p.instruments.set("r", inst);
  p.start();
  try {
    assert.equal(defined().length, n, "every flag exists once the module is watched");
    assert.equal(mod.exports.area(4, 5), 20);
    assert.deepEqual(inst.results, [20], "the copy ran its sites");
    assert.equal(mod.exports.perimeter(1, 2), 6, "an unwatched outlined function of the module still runs");
  } finally {
    p.stop();
  }
  assert.equal(mod.exports.area(1, 1), 1);
  assert.deepEqual(inst.results, [20], "off again");
  rmSync(mod.root, { recursive: true, force: true });
});
