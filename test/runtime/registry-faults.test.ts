/**
 * The registry additions the Breakpoint helper needs: a fault from onReturn (`{ throw: { error } }`),
 * a replacement error from onThrow (`{ error }`), and a pause that resolves to `{ throw: { error } }`.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, test } from "node:test";
import { watch } from "../../runtime/registry/index.js";
import { loadInstrumented } from "../helpers/instrumented.js";

const mod = await loadInstrumented<{
  add(a: number, b: number): number;
  fail(a: number): never;
  later(a: number): Promise<number>;
}>(
  `export function add(a: number, b: number) {
  return a + b;
}
export function fail(a: number) {
  throw new Error("fail " + a);
}
export async function later(a: number) {
  const b = a + 1;
  return b;
}
`,
  "src/faults.ts",
);
const m = mod.exports;
after(() => rmSync(mod.root, { recursive: true, force: true }));

test("onReturn may return { throw: { error } }: the error leaves the function from its return site", () => {
  const boom = new Error("boom");
  const thrown: unknown[] = [];
  const w = watch(mod.qualified("add"), {
    onReturn: () => ({ throw: { error: boom } }),
    onThrow: (_f, _s, e) => void thrown.push(e),
  });
  assert.throws(
    () => m.add(1, 2),
    (e) => e === boom,
  );
  assert.deepEqual(thrown, [boom], "the throw site saw the fault");
  assert.equal(w.state, "active");
  w.close();
  assert.equal(m.add(1, 2), 3);
});

test("onThrow may return { error }: that value is thrown instead; later watchers see it", () => {
  const replaced = new Error("replaced");
  const seen: unknown[] = [];
  const a = watch(mod.qualified("fail"), { onThrow: () => ({ error: replaced }) });
  const b = watch(mod.qualified("fail"), { onThrow: (_f, _s, e) => void seen.push(e) });
  assert.throws(
    () => m.fail(1),
    (e) => e === replaced,
  );
  assert.deepEqual(seen, [replaced]);
  a.close();
  b.close();
  assert.throws(() => m.fail(2), /fail 2/);
});

test("a pause that resolves to { throw: { error } } throws into the async function where it waited", async () => {
  const late = new Error("late");
  const w = watch(mod.qualified("later"), { onEntry: () => ({ pause: Promise.resolve({ throw: { error: late } }) }) });
  await assert.rejects(m.later(1), (e) => e === late);
  w.close();
  // Other resolved values, and hostile ones, are ignored.
  const hostile = new Proxy(
    {},
    {
      has: () => {
        throw new Error("trap");
      },
    },
  );
  const v = watch(mod.qualified("later"), { onEntry: () => ({ pause: Promise.resolve(hostile) }) });
  assert.equal(await m.later(1), 2);
  assert.equal(v.state, "active");
  v.close();
});
