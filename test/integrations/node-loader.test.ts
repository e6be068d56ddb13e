/**
 * The Node loader, tested the way users run it: `node --import diagnose/register app.ts` in real
 * child processes, on fixture projects (ESM, CommonJS, an .mts/.cts mix).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { explain, FIXTURES, LOADER_MODES, runWithLoader, tempDir } from "./helpers.js";

const ESM = join(FIXTURES, "node-loader", "esm");
const CJS = join(FIXTURES, "node-loader", "cjs");
const MIXED = join(FIXTURES, "node-loader", "mixed");
const ERRORS = join(FIXTURES, "node-loader", "errors");

function registered(stdout: string): string[] {
  const line = stdout.split("\n").find((l) => l.startsWith("registered "));
  assert.ok(line, `no "registered" line in:\n${stdout}`);
  return JSON.parse(line.slice("registered ".length)) as string[];
}

for (const mode of LOADER_MODES) {
  const env = { DIAGNOSE_LOADER: mode };
  const label = mode === undefined ? "default API" : `DIAGNOSE_LOADER=${mode}`;

  describe(`node --import diagnose/register (${label}, Node ${process.versions.node})`, () => {
    it("runs an ES module project: .ts imports with .js suffix, extensionless, include/exclude", () => {
      const r = runWithLoader(["src/app.ts"], ESM, env);
      assert.equal(r.status, 0, explain(r));
      assert.match(r.stdout, /^total \$7\.00$/m);
      assert.match(r.stdout, /^excluded not instrumented$/m);
      // Every included module registered its site table; the excluded one did not.
      assert.deepEqual(registered(r.stdout), ["src/app.ts", "src/format.ts", "src/shop/cart.ts"]);
    });

    it("runs a CommonJS project: import syntax, require() of .ts, a .js file requiring .ts", () => {
      const r = runWithLoader(["src/app.ts"], CJS, env);
      assert.equal(r.status, 0, explain(r));
      assert.match(r.stdout, /^cjs total 6$/m);
      assert.match(r.stdout, /^legacy 42$/m);
      // A require cycle calls into a module before its body ran: its flags must exist already.
      assert.match(r.stdout, /^cycle helper ran$/m);
      assert.match(r.stdout, /^plain 30$/m);
      // The full CommonJS API: the entry is loaded by the CommonJS loader, not a reduced require.
      assert.match(r.stdout, /^require\.cache object true$/m);
      assert.match(r.stdout, /^filename true$/m);
      // plain.js is JavaScript, not included by default: only the .ts modules carry sites.
      assert.deepEqual(registered(r.stdout), [
        "src/app.ts",
        "src/cycle-a.ts",
        "src/cycle-b.ts",
        "src/legacy.ts",
        "src/lib.ts",
      ]);
    });

    it("runs an .mts entry importing named exports of a .cts (which requires another .cts)", () => {
      const r = runWithLoader(["app.mts"], MIXED, env);
      assert.equal(r.status, 0, explain(r));
      assert.match(r.stdout, /^mixed hello ada! v1 function HI$/m);
    });

    it('runs a .cts entry point in a "type": "module" package', () => {
      const r = runWithLoader(["main.cts"], MIXED, env);
      assert.equal(r.status, 0, explain(r));
      assert.match(r.stdout, /^main hello bob! object$/m);
    });

    it("maps a thrown error's stack to the original .ts line and column (ESM)", () => {
      const r = runWithLoader(["--enable-source-maps", "src/boom.ts"], ESM, env);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /Error: bad order 7/);
      // boom.ts line 8 is `    throw new Error(…)`: `new` starts at column 11 (1-based).
      assert.match(r.stderr, /at check \(.*src[\\/]boom\.ts:8:11\)/, explain(r));
    });

    it("maps a thrown error's stack to the original .ts line and column (CommonJS)", () => {
      const r = runWithLoader(["--enable-source-maps", "src/boom.ts"], CJS, env);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /Error: bad total 1/);
      assert.match(r.stderr, /at check \(.*src[\\/]boom\.ts:6:11\)/, explain(r));
    });

    it("points stacks at the .ts file's own lines without --enable-source-maps (ESM and CommonJS)", () => {
      const esm = runWithLoader(["src/boom.ts"], ESM, env);
      assert.match(esm.stderr, /at check \(.*src[\\/]boom\.ts:8:11\)/, explain(esm));
      const cjs = runWithLoader(["src/boom.ts"], CJS, env);
      assert.match(cjs.stderr, /at check \(.*src[\\/]boom\.ts:6:11\)/, explain(cjs));
      // A stack read in the program (not only Node's report of an uncaught error) is mapped too.
      const caught = runWithLoader(
        [
          "--input-type=module",
          "-e",
          "try { await import('./src/boom.ts'); } catch (e) { console.log(e.stack.split('\\n')[1]); }",
        ],
        ESM,
        env,
      );
      assert.match(caught.stdout, /at check \(.*src[\\/]boom\.ts:8:11\)/, explain(caught));
    });

    it("the inline maps carry no source text unless DIAGNOSE_SOURCE_MAPS=full; an uncaught error still shows its .ts line", () => {
      const uncaught = runWithLoader(["src/boom.ts"], ESM, env);
      // Node prints the failing line of the original file (read from disk) under its location.
      assert.match(
        uncaught.stderr,
        /boom\.ts:8\n\s*throw new Error\(`bad order \$\{order\.id\}`\);\n\s*\^/,
        explain(uncaught),
      );
      const script = [
        'import { findSourceMap } from "node:module";',
        'import { pathToFileURL } from "node:url";',
        'const url = pathToFileURL(process.cwd() + "/src/format.ts").href;',
        "await import(url);",
        "const payload = findSourceMap(url)?.payload;",
        'console.log(`map ${payload === undefined ? "none" : payload.sources.length} content ${payload?.sourcesContent?.[0]?.length ?? "none"}`);',
      ].join("\n");
      const lean = runWithLoader(["--input-type=module", "-e", script], ESM, env);
      assert.match(lean.stdout, /^map 1 content none$/m, explain(lean));
      const full = runWithLoader(["--input-type=module", "-e", script], ESM, { ...env, DIAGNOSE_SOURCE_MAPS: "full" });
      assert.match(full.stdout, /^map 1 content [1-9]\d*$/m, explain(full));
    });

    it("DIAGNOSE_SOURCE_MAPS=off leaves Node's source-map support off", () => {
      const r = runWithLoader(["-e", "console.log(process.sourceMapsEnabled ?? 'unknown')"], ESM, {
        ...env,
        DIAGNOSE_SOURCE_MAPS: "off",
      });
      assert.match(r.stdout, /^(false|unknown)$/m, explain(r));
      const on = runWithLoader(["-e", "console.log(process.sourceMapsEnabled ?? 'unknown')"], ESM, env);
      assert.match(on.stdout, /^(true|unknown)$/m, explain(on));
    });

    it("fails on a syntax error like Node does, with file:line:col and the message", () => {
      const r = runWithLoader(["bad.ts"], ERRORS, env);
      assert.equal(r.status, 1, explain(r));
      assert.match(r.stderr, /SyntaxError: .*bad\.ts:4:22: Expected ',', got/, explain(r));
      // The offending line is shown, with a caret under the column.
      assert.match(r.stderr, /const broken = foo\(1 2\);\n {21}\^/);
      assert.doesNotMatch(r.stderr, /at .*integrations[\\/]/, "no loader internals in the report");
    });

    it("reports a TypeScript file nested too deeply for the compiler as a syntax error, without crashing", () => {
      const t = tempDir("deep");
      try {
        writeFileSync(join(t.dir, "package.json"), JSON.stringify({ name: "deep", type: "module" }));
        writeFileSync(
          join(t.dir, "deep.ts"),
          `const x: number = 1;\nexport const a = ${"(".repeat(5000)}x${")".repeat(5000)};\n`,
        );
        const r = runWithLoader(["deep.ts"], t.dir, env);
        assert.equal(r.status, 1, explain(r));
        assert.match(
          r.stderr,
          /SyntaxError: .*deep\.ts:2:\d+: nests brackets, arrow functions and else branches more than 1000 levels deep/,
          explain(r),
        );
      } finally {
        t.remove();
      }
    });

    it("says why a file is left uninstrumented for a reserved identifier (a DiagnoseWarning), and runs it", () => {
      const t = tempDir("reserved");
      try {
        writeFileSync(join(t.dir, "package.json"), JSON.stringify({ name: "reserved", type: "module" }));
        writeFileSync(
          join(t.dir, "a.ts"),
          "const \\u0024dgr: number = 6;\nexport function f(): number { return $dgr; }\nconsole.log(f());\n",
        );
        const r = runWithLoader(["a.ts"], t.dir, env);
        assert.equal(r.status, 0, explain(r));
        assert.match(r.stdout, /^6$/m);
        assert.match(
          r.stderr,
          /DiagnoseWarning: .*a\.ts:1:7: a\.ts left uninstrumented: the source uses the identifier \$dgr/,
          explain(r),
        );
      } finally {
        t.remove();
      }
    });

    it("reports a syntax error in a CommonJS (.cts) module with its location", () => {
      const r = runWithLoader(["bad.cts"], ERRORS, env);
      assert.equal(r.status, 1, explain(r));
      assert.match(r.stderr, /SyntaxError: .*bad\.cts:2:\d+: /, explain(r));
    });
  });
}
