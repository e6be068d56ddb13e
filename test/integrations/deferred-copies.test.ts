/**
 * Deferred copies (site ABI 4), the Node loader's default, in real child processes: the outlined
 * functions' copies are not in the module; a probe on one makes them (the copy text compiled in the
 * hooks thread reaches the main thread through the cache directory or the port; a require()d
 * module's in the same thread), from the module's source again when the cache lost the text, and
 * stacks through a copy name the original .ts line. With `DIAGNOSE_DEFER_COPIES=0`, or where code
 * generation from strings is refused, a module keeps its copies inline (ABI 3).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { explain, LOADER_MODES, REPO_ROOT, runWithLoader, tempDir } from "./helpers.js";

const REGISTRY = pathToFileURL(join(REPO_ROOT, "dist", "runtime", "registry", "index.js")).href;

function project(): { dir: string; remove(): void } {
  const t = tempDir("deferred-copies");
  mkdirSync(join(t.dir, "src"));
  writeFileSync(
    join(t.dir, "package.json"),
    JSON.stringify({ name: "fixture-deferred", type: "module", diagnose: { include: ["src/**"] } }),
  );
  writeFileSync(join(t.dir, "src", "money.ts"), "export const CURRENCY: string = 'EUR';\n");
  writeFileSync(
    join(t.dir, "src", "cart.ts"),
    [
      'import { CURRENCY } from "./money.js";',
      "export class Cart {",
      "  lines: { price: number; qty: number }[] = [];",
      "  add(price: number, qty: number = 1): number {",
      "    const line = { price, qty, currency: CURRENCY };",
      "    this.lines.push(line);",
      "    return price * qty;",
      "  }",
      "}",
      "export function check(total: number): number {",
      "  if (total < 0) {",
      "    throw new Error(`bad total ${total}`);",
      "  }",
      "  return total;",
      "}",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(t.dir, "src", "legacy.cts"),
    [
      'import { CURRENCY } from "./money.js";',
      "export function twice(x: number): number {",
      "  const y: number = x * 2;",
      "  return CURRENCY.length === 3 ? y : 0;",
      "}",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(t.dir, "src", "half.cjs"),
    [
      "const base = 2;",
      "function half(x) {",
      "  const h = x / base;",
      "  return h;",
      "}",
      "module.exports = { half };",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(t.dir, "src", "app.ts"),
    [
      `import { watch } from ${JSON.stringify(REGISTRY)};`,
      'import { createRequire } from "node:module";',
      'import { Cart, check } from "./cart.js";',
      "const require = createRequire(import.meta.url);",
      'const { twice } = require("./legacy.cts");',
      'const { half } = require("./half.cjs");',
      "const seen: string[] = [];",
      'const w = watch("src/cart.ts:Cart.add", { onEntry(f) { seen.push(`entry ${f.args.join(",")}`); }, onLine(f, site) { seen.push(`line ${site.line}`); } }, { lines: "all" });',
      'const w2 = watch("src/legacy.cts:twice", { onReturn(f, site, v) { seen.push(`twice ${v}`); } });',
      'const w3 = watch("src/cart.ts:check", {});',
      'const w4 = watch("src/half.cjs:half", { onReturn(f, site, v) { seen.push(`half ${v}`); } });',
      "new Cart().add(3, 2);",
      "twice(21);",
      "half(9);",
      "console.log(`states ${w.state} ${w2.state} ${w3.state} ${w4.state}`);",
      'console.log(`seen ${seen.join("; ")}`);',
      'try { check(-1); } catch (e) { console.log(`stack ${(e as Error).stack!.split("\\n")[1]!.trim()}`); }',
      'const store = (globalThis as any)[Symbol.for("diagnose.copies")];',
      "console.log(`copy texts ${store === undefined ? 0 : store.texts.size}`);",
      "if (w.error) console.log(`error ${w.error.code} ${w.error.message}`);",
      "console.log(`add ${new Cart().add(2, 2)}`);",
      "",
    ].join("\n"),
  );
  return t;
}

for (const mode of LOADER_MODES) {
  const env = { DIAGNOSE_LOADER: mode, DIAGNOSE_DEFER_COPIES: "1" };
  const label = mode === undefined ? "default API" : `DIAGNOSE_LOADER=${mode}`;
  describe(`deferred copies through the Node loader (${label}, Node ${process.versions.node})`, () => {
    it("makes the copies when a probe needs them, from the cache directory; a tampered file is refused", () => {
      const t = project();
      try {
        const cache = join(t.dir, "cache");
        const r = runWithLoader(["src/app.ts"], t.dir, { ...env, DIAGNOSE_COPIES_DIR: cache });
        assert.equal(r.status, 0, explain(r));
        assert.match(r.stdout, /^states active active active active$/m, explain(r));
        assert.match(r.stdout, /^seen entry 3,2; line 5; line 6; line 7; twice 42; half 4\.5$/m, explain(r));
        // Thrown inside the copy of `check`: the frame names cart.ts line 12 (`throw`, column 11).
        assert.match(r.stdout, /^stack at check \(.*src[\\/]cart\.ts:12:11\)$/m, explain(r));
        // The copy texts of cart.ts and app.ts (its watchers' methods are outlined), compiled in the
        // hooks thread on Node 20/22, and of half.cjs (the require hook, this thread), are files,
        // not in memory. legacy.cts is TypeScript compiled to CommonJS, whose imports SWC renames:
        // its copies stay inline.
        assert.match(r.stdout, /^copy texts 0$/m, explain(r));
        const files = readdirSync(cache).sort();
        assert.equal(files.length, 3, files.join(", "));
        assert.ok(files.every((f) => /^[0-9a-f]{64}\.js$/.test(f)));
        const cart = files.find((f) => readFileSync(join(cache, f), "utf8").includes('"add" (price'))!;
        assert.ok(cart, "cart.ts's copies are in the cache");
        // Reused on the next run; a file changed since is refused by its hash and never runs: the
        // module's text is made again from its source and replaces it.
        const planted = `${readFileSync(join(cache, cart), "utf8")}\nconsole.log("tampered ran");`;
        writeFileSync(join(cache, cart), planted);
        const again = runWithLoader(["src/app.ts"], t.dir, { ...env, DIAGNOSE_COPIES_DIR: cache });
        assert.equal(again.status, 0, explain(again));
        assert.match(again.stdout, /^states active active active active$/m, explain(again));
        assert.match(again.stdout, /^seen entry 3,2; line 5; line 6; line 7; twice 42; half 4\.5$/m, explain(again));
        assert.doesNotMatch(again.stdout, /tampered ran/);
        assert.notEqual(readFileSync(join(cache, cart), "utf8"), planted, "the stale file was replaced");
        assert.match(readFileSync(join(cache, cart), "utf8"), /"add" \(price/);
      } finally {
        t.remove();
      }
    });

    it("text gone from the cache while the program runs: made again from the source; refused if the source changed", () => {
      const t = project();
      try {
        writeFileSync(
          join(t.dir, "src", "cleaned.ts"),
          [
            `import { watch } from ${JSON.stringify(REGISTRY)};`,
            'import { appendFileSync, readdirSync, rmSync } from "node:fs";',
            'import { join } from "node:path";',
            'import { check } from "./cart.js";',
            // What a temporary-directory cleaner does to a long-running service's cache.
            'const dir = process.env["DIAGNOSE_COPIES_DIR"]!;',
            "for (const f of readdirSync(dir)) rmSync(join(dir, f));",
            'if (process.env["FIXTURE_EDIT"] === "1") appendFileSync(new URL("./cart.ts", import.meta.url), "export const edited = 1;\\n");',
            'const w = watch("src/cart.ts:check", { onReturn(f, site, v) { console.log(`check ${v}`); } });',
            "check(5);",
            'console.log(`state ${w.state} ${w.error?.message ?? ""}`);',
            "console.log(`files ${readdirSync(dir).length}`);",
            "",
          ].join("\n"),
        );
        const cache = join(t.dir, "cache");
        const r = runWithLoader(["src/cleaned.ts"], t.dir, { ...env, DIAGNOSE_COPIES_DIR: cache });
        assert.equal(r.status, 0, explain(r));
        assert.match(r.stdout, /^check 5$/m, explain(r));
        assert.match(r.stdout, /^state active $/m, explain(r));
        // cart.ts's text, made again, is kept for the next process.
        assert.match(r.stdout, /^files 1$/m, explain(r));

        const edited = runWithLoader(["src/cleaned.ts"], t.dir, {
          ...env,
          DIAGNOSE_COPIES_DIR: cache,
          FIXTURE_EDIT: "1",
        });
        assert.equal(edited.status, 0, explain(edited));
        assert.doesNotMatch(edited.stdout, /^check/m, explain(edited));
        assert.match(
          edited.stdout,
          /^state failed Cannot watch outlined functions of "src\/cart\.ts": its copy text [0-9a-f]{12}… was not found \(Error: its source .*cart\.ts has changed since it was loaded/m,
          explain(edited),
        );
        assert.match(edited.stdout, /^files 0$/m, explain(edited));
      } finally {
        t.remove();
      }
    });

    it("a relative DIAGNOSE_COPIES_DIR names one directory, also for modules loaded after process.chdir()", () => {
      const t = project();
      try {
        mkdirSync(join(t.dir, "elsewhere"));
        writeFileSync(join(t.dir, "src", "late.ts"), "export function late(a: number): number {\n  return a * 3;\n}\n");
        writeFileSync(
          join(t.dir, "src", "moves.ts"),
          [
            `import { watch } from ${JSON.stringify(REGISTRY)};`,
            'import { fileURLToPath } from "node:url";',
            'process.chdir(fileURLToPath(new URL("../elsewhere/", import.meta.url)));',
            'const { late } = await import("./late.js");',
            'const w = watch("src/late.ts:late", { onReturn(f, site, v) { console.log(`late ${v}`); } });',
            "late(2);",
            'console.log(`state ${w.state} ${w.error?.message ?? ""}`);',
            "",
          ].join("\n"),
        );
        const r = runWithLoader(["src/moves.ts"], t.dir, { ...env, DIAGNOSE_COPIES_DIR: "cache" });
        assert.equal(r.status, 0, explain(r));
        assert.match(r.stdout, /^late 6$/m, explain(r));
        assert.match(r.stdout, /^state active $/m, explain(r));
        assert.equal(
          readdirSync(join(t.dir, "elsewhere")).length,
          0,
          "nothing written under the new working directory",
        );
      } finally {
        t.remove();
      }
    });

    it("DIAGNOSE_COPIES_DIR=memory, a directory that cannot be written, or one others can write: the text is kept in memory", () => {
      const t = project();
      try {
        // Writable by everyone (as another user's planted directory in /tmp could be): not used.
        const open = join(t.dir, "open-cache");
        mkdirSync(open);
        chmodSync(open, 0o777);
        for (const dir of ["memory", join(t.dir, "package.json", "cache"), open]) {
          const r = runWithLoader(["src/app.ts"], t.dir, { ...env, DIAGNOSE_COPIES_DIR: dir });
          assert.equal(r.status, 0, explain(r));
          assert.match(r.stdout, /^states active active active active$/m, explain(r));
          assert.match(r.stdout, /^seen entry 3,2; line 5; line 6; line 7; twice 42; half 4\.5$/m, explain(r));
          assert.match(r.stdout, /^copy texts 3$/m, explain(r));
        }
        assert.deepEqual(readdirSync(open), []);
      } finally {
        t.remove();
      }
    });

    it("deferred without DIAGNOSE_DEFER_COPIES (the default); DIAGNOSE_DEFER_COPIES=0 keeps the copies in the module", () => {
      const t = project();
      try {
        // Text kept in memory, so deferred copies show as copy texts.
        for (const [value, texts] of [
          [undefined, 3],
          ["0", 0],
          ["off", 0],
        ] as const) {
          const r = runWithLoader(["src/app.ts"], t.dir, {
            DIAGNOSE_LOADER: mode,
            DIAGNOSE_DEFER_COPIES: value,
            DIAGNOSE_COPIES_DIR: "memory",
          });
          assert.equal(r.status, 0, explain(r));
          assert.match(r.stdout, /^states active active active active$/m, explain(r));
          assert.match(r.stdout, /^seen entry 3,2; line 5; line 6; line 7; twice 42; half 4\.5$/m, explain(r));
          assert.match(r.stdout, new RegExp(`^copy texts ${texts}$`, "m"), `${value}: ${explain(r)}`);
        }
      } finally {
        t.remove();
      }
    });

    it("--disallow-code-generation-from-strings: the copies stay in the module, every probe works", () => {
      const t = project();
      try {
        const cache = join(t.dir, "cache");
        const r = runWithLoader(["--disallow-code-generation-from-strings", "src/app.ts"], t.dir, {
          ...env,
          DIAGNOSE_COPIES_DIR: cache,
        });
        assert.equal(r.status, 0, explain(r));
        assert.match(r.stdout, /^states active active active active$/m, explain(r));
        assert.match(r.stdout, /^seen entry 3,2; line 5; line 6; line 7; twice 42; half 4\.5$/m, explain(r));
        assert.match(r.stdout, /^copy texts 0$/m, explain(r));
        assert.match(r.stdout, /^add 4$/m, explain(r));
        assert.match(r.stdout, /^stack at check \(.*src[\\/]cart\.ts:12:11\)$/m, explain(r));
        // No copy text was written: there is none.
        assert.ok(!existsSync(cache) || readdirSync(cache).length === 0);
      } finally {
        t.remove();
      }
    });
  });
}
