/**
 * Deferred copies (site ABI 4, docs/site-abi.md "Deferred copies") with the real transformer and
 * registry: `instrument(…, { deferCopies: true })` output loaded as ES modules; the registry makes
 * the copies (the binder evaluates the copy text) when a probe first needs an outlined function,
 * and refuses text it cannot trust. Every failure keeps the function's flags off and is reported on
 * the watch; the module's code runs on unchanged.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import { flagName } from "../../abi/index.js";
import { instrument, type InstrumentResult } from "../../transformer/index.js";
import { addCopies, addCopySource, CopiesUnavailableError, watch } from "../../runtime/registry/index.js";
import { copyHash, copyStore } from "../../runtime/registry/copies.js";
import { tableProblem } from "../../runtime/registry/validate.js";
import { makeTempFolder, removeTempFolder } from "../helpers/temp.js";

const root = makeTempFolder("deferred");
after(() => removeTempFolder(root));
writeFileSync(join(root, "package.json"), JSON.stringify({ name: "shop", type: "module" }));

/** `tag` makes each test's module distinct (its own hash and module path). */
const source = (tag: string) => `export class Cart {
  constructor() { this.lines = []; }
  add(price, qty = 1) {
    const line = price * qty;
    this.lines.push(line);
    return line;
  }
}
export function check(total) {
  if (total < 0) {
    throw new Error("bad total " + total + " ${tag}");
  }
  return total;
}
`;

interface Mod {
  Cart: new () => { add(price: number, qty?: number): number };
  check(total: number): number;
}

let count = 0;

/** Instruments `tag`'s module with deferred copies and writes it (not yet imported). */
function build(tag: string): { result: InstrumentResult; file: string; modulePath: string } {
  const modulePath = `src/${tag}.mjs`;
  const sourceFile = join(root, modulePath);
  mkdirSync(join(root, "src"), { recursive: true });
  writeFileSync(sourceFile, source(tag));
  const result = instrument(source(tag), sourceFile, { root, module: "esm", sourceMap: false, deferCopies: true });
  const file = join(root, "out", `${tag}.mjs`);
  mkdirSync(join(root, "out"), { recursive: true });
  writeFileSync(file, result.code);
  return { result, file, modulePath };
}

async function load(file: string): Promise<Mod> {
  return (await import(`${pathToFileURL(file).href}?${count++}`)) as Mod;
}

/** The outline flag of `fn` (its `f` entry's 7th element) is on. */
function outlineOn(result: InstrumentResult, fn: string): boolean {
  const table = /register\((\{.*?\}), \$dgB\)/.exec(result.code)![1]!;
  const f = JSON.parse(/f:'(.*?)'/.exec(table)![1]!) as unknown[][];
  const entry = f.find((e) => e[0] === fn)!;
  return (globalThis as Record<string, unknown>)[flagName(result.sites!.hash, entry[6] as number)] === true;
}

test("the module carries no copies: ABI 4 table naming the copy text's sha256, a binder that evaluates it", () => {
  const { result } = build("layout");
  assert.ok(result.copies, "copy text returned");
  assert.match(result.code, /register\(\{abi:4,.*,c:"[0-9a-f]{64}"(,l:"[-,0-9]*")?\}, \$dgB\)/);
  assert.ok(result.code.includes(`c:"${result.copies.hash}"`));
  assert.equal(result.copies.hash, copyHash(result.copies.text));
  assert.ok(!result.code.includes('"add"('), "no copy in the module");
  assert.match(
    result.code,
    /var \$dgO1, \$dgO2; function \$dgB\(\$dg_e, \$dg_l, \$dg_x, \$dg_t, \$dg_c\) \{ .* if \(\$dg_c !== void 0\) eval\(\$dg_c\); \}$/,
  );
  // Each copy starts on its original line (add's body on line 3, check's on line 9).
  const lines = result.copies.text.split("\n");
  assert.match(lines[2]!, /^\$dgO1 = \{ "add"\(price, qty\) \{/);
  // check never reads `this`: its guard passes it as the first argument (docs/site-abi.md).
  assert.match(lines[8]!, /^\$dgO2 = \{ "check"\(\$dg_s, total\) \{/);
  assert.match(lines[lines.length - 1]!, /^\/\/# sourceURL=.*src[\\/]layout\.mjs$/);
  // Without deferCopies the copies are in the module, as in ABI 3.
  const inline = instrument(source("layout"), join(root, "src/layout.mjs"), { root, module: "esm" });
  assert.equal(inline.copies, undefined);
  assert.match(inline.code, /register\(\{abi:3,/);
  assert.ok(inline.code.includes('"add"('));
});

test("a probe makes the copies first; a stack through a copy names the original file and line", async () => {
  const { result, file, modulePath } = build("found");
  addCopies(result.copies!.text);
  const mod = await load(file);
  const seen: string[] = [];
  const w = watch(
    `${modulePath}:Cart.add`,
    {
      onEntry: (f) => void seen.push(`entry ${f.args.join(",")}`),
      onLine: (_f, site) => void seen.push(`line ${site.line}`),
      onReturn: (_f, _site, value) => void seen.push(`return ${String(value)}`),
    },
    { lines: "all" },
  );
  assert.equal(w.state, "active", String(w.error));
  assert.equal(outlineOn(result, "Cart.add"), true);
  assert.equal(new mod.Cart().add(3, 2), 6);
  assert.deepEqual(seen, ["entry 3,2", "line 4", "line 5", "line 6", "return 6"]);
  w.close();
  assert.equal(outlineOn(result, "Cart.add"), false);

  const thrown: unknown[] = [];
  const c = watch(`${modulePath}:check`, { onThrow: (_f, _s, e) => void thrown.push(e) });
  assert.equal(c.state, "active");
  const error = (() => {
    try {
      mod.check(-1);
    } catch (e) {
      return e as Error;
    }
    return undefined;
  })();
  assert.equal(thrown[0], error);
  // Line 11 of the source is the `throw`; the copy's frame (top) names it, not the output file.
  assert.match(error!.stack!.split("\n")[1]!, /at (?:Module\.)?check \(.*src[\\/]found\.mjs:11:\d+\)/);
  c.close();
});

test("a probe set before the module loads makes the copies during registration", async () => {
  const { result, file, modulePath } = build("pending");
  addCopies(result.copies!.text);
  const seen: number[] = [];
  const w = watch(`${modulePath}:Cart.add`, { onEntry: (f) => void seen.push(f.args[0] as number) });
  assert.equal(w.state, "pending");
  const mod = await load(file);
  assert.equal(w.state, "active");
  new mod.Cart().add(7);
  assert.deepEqual(seen, [7]);
  w.close();
});

test("copy text not found: the watch fails naming the module and the cause; flags stay off; later text works", async () => {
  const { result, file, modulePath } = build("missing");
  const mod = await load(file);
  const w = watch(`${modulePath}:Cart.add`, {});
  assert.equal(w.state, "failed");
  assert.ok(w.error instanceof CopiesUnavailableError);
  assert.equal((w.error as CopiesUnavailableError).code, "DIAGNOSE_COPIES_UNAVAILABLE");
  assert.match(w.error.message, /"src\/missing\.mjs": its copy text [0-9a-f]{12}… was not found/);
  assert.equal(outlineOn(result, "Cart.add"), false);
  assert.equal(new mod.Cart().add(2, 3), 6, "the plain body runs");
  // A function of the module that is not outlined needs no copies: the constructor.
  const ctor = watch(`${modulePath}:Cart.constructor`, {});
  assert.equal(ctor.state, "active");
  ctor.close();
  // Once the text is available, the next probe makes the copies.
  addCopies(result.copies!.text);
  const calls: number[] = [];
  const again = watch(`${modulePath}:Cart.add`, { onEntry: (f) => void calls.push(f.args[0] as number) });
  assert.equal(again.state, "active");
  new mod.Cart().add(5);
  assert.deepEqual(calls, [5]);
  again.close();
});

test("tampered or stale text is refused by its hash, from the store and from a copy source", async () => {
  const { result, file, modulePath } = build("tampered");
  const mod = await load(file);
  const hash = result.copies!.hash;
  // Planted under the right hash, with other content: never evaluated.
  (globalThis as Record<string, unknown>)["tamperedRan"] = false;
  copyStore().texts.set(hash, `${result.copies!.text}\nglobalThis.tamperedRan = true;`);
  const w = watch(`${modulePath}:Cart.add`, {});
  assert.equal(w.state, "failed");
  assert.match(
    w.error!.message,
    /copy text from the copy store does not match its hash [0-9a-f]{12}… \(stale or tampered\)/,
  );
  copyStore().texts.delete(hash);
  const remove = addCopySource(() => "globalThis.tamperedRan = true;");
  try {
    const w2 = watch(`${modulePath}:Cart.add`, {});
    assert.equal(w2.state, "failed");
    assert.match(w2.error!.message, /copy text from a copy source does not match its hash/);
  } finally {
    remove();
  }
  assert.equal((globalThis as Record<string, unknown>)["tamperedRan"], false, "refused text never runs");
  assert.equal(outlineOn(result, "Cart.add"), false);
  assert.equal(new mod.Cart().add(1, 1), 1);
});

test("copy text that throws while evaluating: the watch fails with the thrown error as cause", async () => {
  const { result, modulePath } = build("throws");
  const bad = "throw new RangeError('copy text broke')";
  // The table names the bad text (as a stale build could): the hash matches, evaluation throws.
  const file = join(root, "out", "throws-bad.mjs");
  writeFileSync(file, result.code.replace(`c:"${result.copies!.hash}"`, `c:"${copyHash(bad)}"`));
  addCopies(bad);
  const mod = await load(file);
  const w = watch(`${modulePath}:check`, {});
  assert.equal(w.state, "failed");
  assert.match(w.error!.message, /evaluating its copy text failed: RangeError: copy text broke/);
  assert.ok((w.error as Error & { cause?: unknown }).cause instanceof RangeError);
  assert.equal(outlineOn(result, "check"), false);
  assert.equal(mod.check(3), 3);
});

test("two instances of one module: both get their copies, also one loaded after the copies were made", async () => {
  const { result, file, modulePath } = build("twice");
  addCopies(result.copies!.text);
  const first = await load(file);
  const seen: number[] = [];
  const w = watch(`${modulePath}:Cart.add`, { onEntry: (f) => void seen.push(f.args[0] as number) });
  assert.equal(w.state, "active");
  // Linked while the shared flag is on: its copies are made at registration, before its code runs.
  const second = await load(file);
  new first.Cart().add(1);
  new second.Cart().add(2);
  assert.deepEqual(seen, [1, 2]);
  w.close();
});

test("table checks: ABI 4 needs a sha256 `c`, ABI 3 may not carry one, other ABIs are refused", () => {
  const base = { h: "abcd1234", m: "src/x.mjs", p: "", n: 0, f: "[]", s: "", v: "" };
  assert.equal(tableProblem({ ...base, abi: 3 }), undefined);
  assert.equal(tableProblem({ ...base, abi: 4, c: "a".repeat(64) }), undefined);
  assert.match(tableProblem({ ...base, abi: 4 })!, /`c` must be the hex sha256/);
  assert.match(tableProblem({ ...base, abi: 4, c: "A".repeat(64) })!, /`c` must be the hex sha256/);
  assert.match(tableProblem({ ...base, abi: 3, c: "a".repeat(64) })!, /needs site ABI 4/);
  assert.match(tableProblem({ ...base, abi: 5 })!, /site ABI 5, this runtime speaks ABI 3 and 4/);
});
