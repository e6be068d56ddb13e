/**
 * The oversell race, made reproducible with a Breakpoint: park the first reservation between its
 * read and its write, run a second one to completion, then let the first go on.
 *
 *   node --import diagnose/register --test race.test.ts     (run-example.mjs does this)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
// Until the lead wires `diagnose/testing`, the helper comes from the build.
import { Breakpoint } from "../../dist/runtime/breakpoints/index.js";
import { Inventory, OutOfStockError } from "./src/inventory.js";
import { StockStore } from "./src/store.js";

const WRITE = "src/store.ts:StockStore.write";

test("reserve(): two buyers of the last item both succeed (the race, every time)", async (t) => {
  const store = new StockStore({ lamp: 1 });
  const inventory = new Inventory(store);
  // Park the first write only (call #0 of StockStore.write).
  await using bp = Breakpoint.block(WRITE, { condition: 0, signal: t.signal, timeoutMs: 5_000 });
  const first = bp.start(() => inventory.reserve("lamp", 1));
  const hit = await bp.wait(); // the first buyer read 1 and is about to write 0
  assert.deepEqual(hit.args, ["lamp", 0]);

  // A second buyer runs to completion while the first is parked: it reads 1 too.
  assert.equal(await inventory.reserve("lamp", 1), 0);
  bp.release();
  assert.equal(await first, 0);
  // Both succeeded with one lamp in stock: the oversell, reproduced deterministically.
  assert.equal(await store.read("lamp"), 0);
});

test("reserveLocked(): the second buyer waits for the first and gets OutOfStockError", async (t) => {
  const store = new StockStore({ lamp: 1 });
  const inventory = new Inventory(store);
  await using bp = Breakpoint.block(WRITE, { condition: 0, signal: t.signal, timeoutMs: 5_000 });
  const first = bp.start(() => inventory.reserveLocked("lamp", 1));
  await bp.wait(); // the first buyer is parked before its write
  const second = inventory.reserveLocked("lamp", 1);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(bp.callCount, 1, "the second buyer waits for the lock: it has not written");
  bp.release();
  assert.equal(await first, 0);
  await assert.rejects(second, OutOfStockError);
});
