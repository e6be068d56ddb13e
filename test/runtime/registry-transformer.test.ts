/**
 * End to end with the real transformer: instrument a small TypeScript source, strip its types with
 * the TypeScript compiler, load it as an ES module, and drive it through watch().
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { instrument } from "../../transformer/index.js";
import { listFunctions, watch } from "../../runtime/registry.js";
import { kinds, onSites, recorder, type Event } from "./registry-helpers.js";

const SOURCE = `export class Cart {
  items: number[] = [];
  total(discount: number = 0): number {
    let sum = 0;
    for (const p of this.items) {
      sum += p;
    }
    return sum - discount;
  }
}
export async function later(x: number): Promise<number> {
  await null;
  return x * 2;
}
`;

const dir = mkdtempSync(join(tmpdir(), "diagnose-registry-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const result = instrument(SOURCE, join(dir, "src/cart.ts"), { root: dir, packageName: "shop", module: "esm" });
const js = ts.transpileModule(result.code, {
  compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, useDefineForClassFields: true },
}).outputText;
const file = join(dir, "cart.mjs");
writeFileSync(file, js);
const hash = result.sites!.hash;
const siteCount = result.sites!.functions.reduce((n, f) => n + f.sites.length, 0);

interface CartModule {
  Cart: new () => { items: number[]; total(discount?: number): number };
  later(x: number): Promise<number>;
}

test("a transformer-instrumented TypeScript module registers and is driven by watch()", async () => {
  const total = watch("src/cart.ts:Cart.total", recorder(), { lines: [6] });
  assert.equal(total.state, "pending", "not loaded yet");
  const mod = (await import(pathToFileURL(file).href)) as CartModule;
  assert.equal(total.state, "active");
  assert.ok(listFunctions().some((f) => f.qualifiedName === "src/cart.ts:later"));

  const cart = new mod.Cart();
  cart.items.push(5, 7);
  assert.equal(cart.total(2), 10);
  const events = (total as unknown as { watcher: { events: Event[] } }).watcher.events;
  assert.deepEqual(kinds(events), ["entry", "line:6", "line:6", "return"]);
  const entry = events[0] as Extract<Event, { kind: "entry" }>;
  assert.equal(entry.self, cart);
  assert.deepEqual(entry.args, [2]);
  assert.deepEqual((events[2] as Extract<Event, { kind: "line" }>).locals, [2, 5, 7]);
  assert.equal((events[3] as Extract<Event, { kind: "return" }>).value, 10);

  const replaced = watch("src/cart.ts:later", { onEntry: () => ({ args: [21] }) });
  assert.equal(await mod.later(1), 42);
  replaced.close();
  total.close();
  assert.deepEqual(onSites(hash, siteCount), []);
  assert.equal(cart.total(), 12);
  assert.equal(await mod.later(1), 2);
});
