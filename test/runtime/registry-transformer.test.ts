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
import { listFunctions, watch } from "../../runtime/registry/index.js";
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

const result = instrument(SOURCE, join(dir, "src/cart.ts"), {
  root: dir,
  packageName: "shop",
  module: "esm",
  replaceArguments: true,
});
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

test("built without replaceArguments: the entry code assigns nothing and an `args` decision is refused with an error", async () => {
  const plain = instrument(SOURCE, join(dir, "src/cart2.ts"), { root: dir, packageName: "shop", module: "esm" });
  assert.doesNotMatch(plain.code, /\$dgf\.a\[/);
  // The table's end, then the binder (`$dgB`, declared at the module's end, with outlined functions).
  assert.match(plain.code, /,r:0(,o:\d+)?(,l:"[-,0-9]*")?\}, (?:function|\$dgB\))/);
  assert.match(result.code, /,r:1(,o:\d+)?(,l:"[-,0-9]*")?\}, (?:function|\$dgB\))/);
  const out = join(dir, "cart2.mjs");
  writeFileSync(
    out,
    ts.transpileModule(plain.code, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    }).outputText,
  );
  const mod = (await import(pathToFileURL(out).href)) as CartModule;
  const errors: unknown[] = [];
  const w = watch("src/cart2.ts:later", {
    onEntry: () => ({ args: [21] }),
    onError: (e, where) => void errors.push([e, where]),
  });
  assert.equal(await mod.later(1), 2, "arguments unchanged");
  assert.equal(w.state, "failed");
  assert.equal(errors.length, 1);
  const [error, where] = errors[0] as [Error, string];
  assert.equal(where, "entry");
  assert.equal(error.name, "WatcherError");
  assert.match(error.message, /src\/cart2\.ts:later was built without `replaceArguments`/);
  assert.equal(w.error, error);
  assert.equal(await mod.later(1), 2);
});

const FIRST = `export function first({ x, y }: { x: number; y: number }, z = 3, ...rest: number[]) { var v = 1; return x + y + z + rest.length + v; }
export async function slow(a: number) {
  const b = a + 1;
  return b;
}
export function twice(n: number) {
  "use strict";
  n++;
  n++;
  return n;
}
`;

test("the first statement's line is served by the entry site: after onEntry, with the parameters as locals", async () => {
  const built = instrument(FIRST, join(dir, "src/first.ts"), { root: dir, packageName: "shop", module: "esm" });
  const fns = built.sites!.functions;
  // Every first-statement line stays probeable in the manifest, but has no code of its own.
  for (const [path, line] of [
    ["first", 1],
    ["slow", 3],
    ["twice", 8],
  ] as const) {
    const fn = fns.find((f) => f.path === path)!;
    const site = fn.sites.find((s) => s.kind === "line" && s.line === line);
    assert.ok(site, `${path}: line ${line} listed`);
    assert.doesNotMatch(built.code, new RegExp(`\\$dg_${built.sites!.hash}_${site.id}\\b`));
  }
  const out = join(dir, "first.mjs");
  writeFileSync(
    out,
    ts.transpileModule(built.code, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    }).outputText,
  );
  const mod = (await import(pathToFileURL(out).href)) as {
    first(o: { x: number; y: number }, z?: number, ...rest: number[]): number;
    slow(a: number): Promise<number>;
    twice(n: number): number;
  };

  const rec = recorder();
  const w = watch("src/first.ts:first", rec, { lines: [1] });
  assert.equal(mod.first({ x: 1, y: 2 }, undefined, 9), 1 + 2 + 3 + 1 + 1);
  assert.deepEqual(kinds(rec.events), ["entry", "line:1", "return"]);
  const lineEvent = rec.events[1] as Extract<Event, { kind: "line" }>;
  assert.deepEqual(lineEvent.site.locals, ["x", "y", "z", "rest", "v"]);
  assert.deepEqual(lineEvent.locals, [1, 2, 3, [9], undefined], "parameters after defaults; a var is undefined");
  assert.equal(lineEvent.frame, (rec.events[0] as Extract<Event, { kind: "entry" }>).frame);
  // Not watched: no line event (the entry site alone is on).
  w.update({ lines: [] });
  rec.events.length = 0;
  mod.first({ x: 1, y: 2 });
  assert.deepEqual(kinds(rec.events), ["entry", "return"]);
  w.close();

  // A fault asked for at that line leaves through the throw site, paired with the call's frame.
  const injected = new Error("at the first line");
  const thrown: Event[] = [];
  const f = watch(
    "src/first.ts:twice",
    recorder({
      onLine: () => ({ throw: { error: injected } }),
      onThrow: (frame, site, error) => void thrown.push({ kind: "throw", frame, site, error, locals: [] }),
    }),
    { lines: [8] },
  );
  assert.throws(
    () => mod.twice(1),
    (e) => e === injected,
  );
  assert.equal(thrown.length, 1);
  assert.ok((thrown[0] as Extract<Event, { kind: "throw" }>).frame, "the throw site got the frame");
  f.close();
  const g = watch("src/first.ts:twice", recorder(), { lines: "all" });
  assert.equal(mod.twice(1), 3);
  assert.deepEqual(kinds((g as unknown as { watcher: { events: Event[] } }).watcher.events), [
    "entry",
    "line:8",
    "line:9",
    "line:10",
    "return",
  ]);
  g.close();

  // Async: a pause asked for at the first line is awaited before the first statement runs.
  let release!: () => void;
  const order: string[] = [];
  const s = watch(
    "src/first.ts:slow",
    {
      onEntry: () => void order.push("entry"),
      onLine: (_f, site, locals) => (
        order.push(`line:${site.line}:${String(locals[0])}`), { pause: new Promise<void>((r) => (release = r)) }
      ),
    },
    { lines: [3] },
  );
  let done: number | undefined;
  const p = mod.slow(1).then((v) => (done = v));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ["entry", "line:3:1"]);
  assert.equal(done, undefined, "paused at the first line");
  release();
  await p;
  assert.equal(done, 2);
  s.close();
});
