/**
 * A derived constructor's leading `super(…)` runs before the site code (outside its `try`, where
 * TurboFan never inlines a `super()` call): the entry event comes after the parent constructor,
 * and a parent constructor that throws makes no event of the derived one. Its other statements,
 * and derived constructors that do work before `super`, are instrumented as any function.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { test } from "node:test";
import { probes } from "../../runtime/index.js";
import { ProbeTestInstrument } from "../../runtime/testing/index.js";
import { loadInstrumented } from "../helpers/instrumented.js";

// `order` is a global so that expressions can read it (they see the event, not module bindings).
const SOURCE = `export const order: string[] = ((globalThis as any).derivedOrder ??= []);
class Base {
  constructor(x: number) {
    order.push("base");
    if (x < 0) throw new RangeError("negative " + x);
  }
}
export class Leading extends Base {
  y: number;
  constructor(x: number) {
    super(x)
    this.y = x * 2;
    order.push("leading");
  }
}
export class Later extends Base {
  y: number;
  constructor(x: number) {
    const z = x + 1;
    super(z);
    this.y = z;
  }
}
`;

interface Exports {
  order: string[];
  Leading: new (x: number) => { y: number };
  Later: new (x: number) => { y: number };
}

test("a leading super() runs before the entry event; a parent that throws makes no event", async () => {
  const mod = await loadInstrumented<Exports>(SOURCE, "src/shop/derived.ts");
  try {
    assert.match(mod.instrumentedCode, /super\(x\);var \$dgf, \$dgr; try \{/, "super() stays before the site code");
    const p = probes.attachTo(mod.qualified("Leading.constructor"));
    const calls = new ProbeTestInstrument("c", "args[0]", { event: "call" });
    const seen = new ProbeTestInstrument("o", "[...derivedOrder]", { event: "call" });
    const ends = new ProbeTestInstrument("r", "this.y", { event: "return" });
    p.instruments.set("c", calls);
    p.instruments.set("o", seen);
    p.instruments.set("r", ends);
    p.start();
    try {
      assert.equal(new mod.exports.Leading(3).y, 6);
      assert.deepEqual(calls.results, [3]);
      assert.deepEqual(seen.results, [["base"]], "the entry event comes after the parent constructor");
      assert.deepEqual(ends.results, [6]);
      mod.exports.order.length = 0;
      assert.throws(() => new mod.exports.Leading(-1), { name: "RangeError", message: "negative -1" });
      assert.deepEqual(mod.exports.order, ["base"]);
      assert.deepEqual(calls.results, [3], "no event for a call whose super() threw");
      assert.deepEqual(ends.results, [6]);
    } finally {
      p.stop();
    }
  } finally {
    rmSync(mod.root, { recursive: true, force: true });
  }
});

test("a derived constructor with work before super() keeps its entry event first", async () => {
  const mod = await loadInstrumented<Exports>(SOURCE, "src/shop/derived-later.ts");
  try {
    const p = probes.attachTo(mod.qualified("Later.constructor"));
    const seen = new ProbeTestInstrument("o", "[...derivedOrder]", { event: "call" });
    p.instruments.set("o", seen);
    p.start();
    try {
      mod.exports.order.length = 0;
      assert.equal(new mod.exports.Later(4).y, 5);
      assert.deepEqual(seen.results, [[]], "entry before the parent constructor");
      assert.throws(() => new mod.exports.Later(-5), { name: "RangeError" });
      assert.equal(seen.results.length, 2, "the call whose super() threw was entered");
    } finally {
      p.stop();
    }
  } finally {
    rmSync(mod.root, { recursive: true, force: true });
  }
});
