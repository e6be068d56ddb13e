/** The site manifest: merge rules, file format, errors, and the loader writing it. */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  ManifestError,
  manifestPath,
  mergeManifest,
  readManifest,
  writeManifest,
  type ModuleSites,
} from "../../abi/manifest.js";
import { copyFixture, explain, LOADER_MODES, runWithLoader, tempDir } from "./helpers.js";

function entry(module: string, pkg = "app", fn = "f"): ModuleSites {
  return {
    module,
    package: pkg,
    hash: "00000000",
    functions: [
      {
        name: fn,
        path: fn,
        line: 1,
        column: 0,
        kind: "function",
        async: false,
        generator: false,
        params: [],
        sites: [{ id: 0, kind: "entry", line: 1, column: 0, locals: [] }],
      },
    ],
  };
}

describe("manifest", () => {
  it("merges entries by package and module, the newer one winning, sorted by module", () => {
    const base = mergeManifest(undefined, [entry("src/b.ts"), entry("src/a.ts", "app", "old")]);
    const merged = mergeManifest(base, [
      entry("src/a.ts", "app", "new"),
      entry("src/a.ts", "other"),
      entry("lib/z.ts"),
    ]);
    assert.equal(merged.version, 1);
    assert.deepEqual(
      merged.modules.map((m) => `${m.module}@${m.package}:${m.functions[0]!.path}`),
      ["lib/z.ts@app:f", "src/a.ts@app:new", "src/a.ts@other:f", "src/b.ts@app:f"],
    );
  });

  it("writes into a folder's diagnose-sites.json, merging with what is there", () => {
    const t = tempDir("manifest");
    try {
      const path = writeManifest(t.dir, [entry("src/b.ts")]);
      assert.equal(path, join(t.dir, "diagnose-sites.json"));
      writeManifest(t.dir, [entry("src/a.ts")]);
      const m = readManifest(t.dir);
      assert.deepEqual(
        m?.modules.map((x) => x.module),
        ["src/a.ts", "src/b.ts"],
      );
      assert.ok(readFileSync(path, "utf8").endsWith("}\n"));
    } finally {
      t.remove();
    }
  });

  it("treats a .json target as the file itself, and a missing file as no manifest", () => {
    const t = tempDir("manifest");
    try {
      assert.equal(manifestPath(join(t.dir, "out", "sites.json")), join(t.dir, "out", "sites.json"));
      assert.equal(readManifest(join(t.dir, "none.json")), undefined);
      writeManifest(join(t.dir, "out", "sites.json"), [entry("x.ts")]);
      assert.ok(existsSync(join(t.dir, "out", "sites.json")));
    } finally {
      t.remove();
    }
  });

  it("rejects a broken or foreign manifest with a message naming the file", () => {
    const t = tempDir("manifest");
    try {
      const path = join(t.dir, "diagnose-sites.json");
      writeFileSync(path, "{ nope");
      assert.throws(
        () => readManifest(t.dir),
        (e: unknown) => e instanceof ManifestError && e.message.includes(path),
      );
      writeFileSync(path, JSON.stringify({ version: 99, modules: [] }));
      assert.throws(() => readManifest(t.dir), /manifest version 99/);
      // Writing over a broken manifest rebuilds it instead of failing the program.
      writeManifest(t.dir, [entry("a.ts")]);
      assert.deepEqual(
        readManifest(t.dir)?.modules.map((m) => m.module),
        ["a.ts"],
      );
    } finally {
      t.remove();
    }
  });

  for (const mode of LOADER_MODES) {
    it(`a relative DIAGNOSE_MANIFEST names one file, also for a project first loaded after process.chdir() (${mode ?? "default API"})`, () => {
      const t = tempDir("manifest-chdir");
      try {
        const project = (dir: string, name: string, source: string) => {
          mkdirSync(join(dir, "src"), { recursive: true });
          writeFileSync(
            join(dir, "package.json"),
            JSON.stringify({ name, type: "module", diagnose: { include: ["src/**"] } }),
          );
          writeFileSync(join(dir, "src", "main.ts"), source);
        };
        mkdirSync(join(t.dir, "elsewhere"));
        project(join(t.dir, "late"), "late-package", "export function late(a: number): number {\n  return a + 1;\n}\n");
        project(
          t.dir,
          "first-package",
          [
            'import { fileURLToPath } from "node:url";',
            'process.chdir(fileURLToPath(new URL("../elsewhere/", import.meta.url)));',
            'const { late } = await import("../late/src/main.ts");',
            "console.log(`late ${late(1)}`);",
            "",
          ].join("\n"),
        );
        const r = runWithLoader(["src/main.ts"], t.dir, {
          DIAGNOSE_MANIFEST: "build/sites.json",
          DIAGNOSE_LOADER: mode,
        });
        assert.equal(r.status, 0, explain(r));
        assert.match(r.stdout, /^late 2$/m, explain(r));
        const m = readManifest(join(t.dir, "build", "sites.json"));
        assert.deepEqual(m?.modules.map((x) => `${x.package} ${x.module}`).sort(), [
          "first-package src/main.ts",
          "late-package src/main.ts",
        ]);
        assert.equal(
          existsSync(join(t.dir, "elsewhere", "build")),
          false,
          "nothing written under the new working directory",
        );
      } finally {
        t.remove();
      }
    });

    it(`is written by the loader with DIAGNOSE_MANIFEST (${mode ?? "default API"})`, () => {
      const t = copyFixture("node-loader/esm");
      try {
        const out = join(t.dir, "build", "sites.json");
        writeManifest(out, [entry("zzz/kept.ts", "fixture-esm")]);
        const r = runWithLoader(["src/app.ts"], t.dir, { DIAGNOSE_MANIFEST: out, DIAGNOSE_LOADER: mode });
        assert.equal(r.status, 0, explain(r));
        const m = readManifest(out);
        assert.ok(m);
        assert.deepEqual(
          m.modules.map((x) => x.module),
          ["src/app.ts", "src/format.ts", "src/shop/cart.ts", "zzz/kept.ts"],
        );
        const cart = m.modules.find((x) => x.module === "src/shop/cart.ts")!;
        assert.equal(cart.package, "fixture-esm");
        assert.match(cart.hash, /^[0-9a-z]{8}$/);
        const total = cart.functions.find((f) => f.path === "Cart.total");
        assert.ok(total, JSON.stringify(cart.functions.map((f) => f.path)));
        assert.ok(total.sites.some((s) => s.kind === "entry"));
        assert.ok(total.sites.some((s) => s.kind === "line" && s.line === 15));
      } finally {
        t.remove();
      }
    });
  }
});
