/**
 * Plugin options, targets and files the plugin will not instrument: each is reported through tsc's
 * diagnostics (never thrown), and the affected output is exactly what plain tsc emits.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { INSTRUMENTED_MARKER } from "../../abi/index.js";
import { instrument } from "../../transformer/index.js";
import { readPluginConfig } from "../../transformer/tsc/config.js";
import { TS_PATCH_VERSION, TS_VERSION, build, editTsconfig, node, project, registeredTable } from "./helpers.js";

type PluginEntry = Record<string, unknown>;
const withPlugin = (entry: PluginEntry) => (config: { compilerOptions: Record<string, unknown> }) => {
  config.compilerOptions["plugins"] = [{ transform: "diagnose/transformer", ...entry }];
  return config;
};

/** Line (1-based) and column (1-based) of `needle` in `text`, as tsc prints them. */
function lineCol(text: string, needle: string): string {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, needle);
  const before = text.slice(0, at).split("\n");
  return `${before.length},${before[before.length - 1]!.length + 1}`;
}

describe(`tspc (TypeScript ${TS_VERSION}, ts-patch ${TS_PATCH_VERSION}): options and diagnostics`, () => {
  test("bad plugin options are tsc errors pointing into tsconfig.json; nothing is instrumented", () => {
    const p = project("small");
    try {
      editTsconfig(p.dir, withPlugin({ include: "src/**", exlude: ["x"], manifest: 42 }));
      const r = build(p.dir, "tspc");
      assert.equal(r.status, 2, r.stdout + r.stderr);
      const tsconfig = readFileSync(join(p.dir, "tsconfig.json"), "utf8");
      const lines = r.stdout.trim().split("\n").sort();
      assert.equal(lines.length, 3, r.stdout);
      assert.match(
        lines[0]!,
        new RegExp(
          `^tsconfig\\.json\\(${lineCol(tsconfig, '"include"')}\\): error TS99001: diagnose/transformer: option "include" must be an array of glob strings`,
        ),
      );
      assert.match(
        lines[1]!,
        new RegExp(
          `^tsconfig\\.json\\(${lineCol(tsconfig, '"exlude"')}\\): error TS99001: diagnose/transformer: unknown option "exlude"; the options are "include", "exclude", "manifest", "root"`,
        ),
      );
      assert.match(
        lines[2]!,
        new RegExp(
          `^tsconfig\\.json\\(${lineCol(tsconfig, '"manifest"')}\\): error TS99001: diagnose/transformer: option "manifest" must be a non-empty path string`,
        ),
      );
      assert.ok(!readFileSync(join(p.dir, "dist", "index.js"), "utf8").includes(INSTRUMENTED_MARKER));
    } finally {
      p.remove();
    }
  });

  test("a target below ES2017 is refused with one error; the output is plain tsc's", () => {
    const p = project("small");
    try {
      editTsconfig(p.dir, (c) => ((c.compilerOptions["target"] = "ES2016"), c));
      const r = build(p.dir, "tspc");
      assert.equal(r.status, 2);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines.length, 1, r.stdout);
      const tsconfig = readFileSync(join(p.dir, "tsconfig.json"), "utf8");
      assert.match(
        lines[0]!,
        new RegExp(
          `^tsconfig\\.json\\(${lineCol(tsconfig, '"target"')}\\): error TS99002: diagnose/transformer: "target": "ES2016" is below ES2017; no file is instrumented`,
        ),
      );
      const plain = build(p.dir, "tsc", ["--outDir", "dist-plain"]);
      assert.equal(plain.status, 0, plain.stdout);
      assert.equal(
        readFileSync(join(p.dir, "dist", "index.js"), "utf8"),
        readFileSync(join(p.dir, "dist-plain", "index.js"), "utf8"),
      );
    } finally {
      p.remove();
    }
  });

  test("ES2017 (async generators and object rest downleveled by tsc) is instrumented and behaves like plain tsc", () => {
    const p = project("small");
    try {
      editTsconfig(p.dir, (c) => ((c.compilerOptions["target"] = "ES2017"), c));
      const r = build(p.dir, "tspc");
      assert.equal(r.status, 0, r.stdout);
      assert.equal(build(p.dir, "tsc", ["--outDir", "dist-plain"]).status, 0);
      const js = readFileSync(join(p.dir, "dist", "index.js"), "utf8");
      assert.match(js, /__asyncGenerator/);
      assert.deepEqual(
        registeredTable(js),
        registeredTable(
          instrument(readFileSync(join(p.dir, "src", "index.ts"), "utf8"), join(p.dir, "src", "index.ts")).code,
        ),
      );
      const script = (dist: string) =>
        `const m = await import("./${dist}/index.js"); console.log(JSON.stringify([await m.collect(3), m.spread({ a: 1, b: 2, c: 3 }), m.total([1, 2])]));`;
      const instrumented = node(["--input-type=module", "-e", script("dist")], p.dir);
      const plain = node(["--input-type=module", "-e", script("dist-plain")], p.dir);
      assert.equal(instrumented.status, 0, instrumented.stderr);
      assert.equal(instrumented.stdout, plain.stdout);
      assert.equal(plain.stdout.trim(), "[[0,1,2],[1,2],3]");
    } finally {
      p.remove();
    }
  });

  test("root and include are read relative to the tsconfig; a file using the reserved prefix gets a warning", () => {
    const p = project("small");
    try {
      writeFileSync(
        join(p.dir, "src", "reserved.ts"),
        "export const $dg_mine = 1;\nexport function f() { return $dg_mine; }\n",
      );
      writeFileSync(join(p.dir, "src", "skipped.ts"), "export function g() { return 2; }\n");
      editTsconfig(p.dir, withPlugin({ root: "src", include: ["index.ts", "reserved.ts"] }));
      const r = build(p.dir, "tspc");
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(
        r.stderr.trim(),
        /^src\/reserved\.ts\(1,14\): warning TS99003: diagnose\/transformer: this file is emitted uninstrumented: the source uses the reserved identifier \$dg_mine \(line 1\)$/,
      );
      // With "warnings": "diagnostics" the same warning is a tsc diagnostic, and tsc exits with 2.
      editTsconfig(p.dir, withPlugin({ root: "src", include: ["index.ts", "reserved.ts"], warnings: "diagnostics" }));
      const strict = build(p.dir, "tspc");
      assert.equal(strict.status, 2, strict.stdout);
      assert.match(strict.stdout.trim(), /^src\/reserved\.ts\(1,14\): warning TS99003: /);
      assert.equal(registeredTable(readFileSync(join(p.dir, "dist", "index.js"), "utf8")).m, "index.ts");
      assert.ok(
        !readFileSync(join(p.dir, "dist", "skipped.js"), "utf8").includes(INSTRUMENTED_MARKER),
        "not matched by include",
      );
      assert.ok(!readFileSync(join(p.dir, "dist", "reserved.js"), "utf8").includes(INSTRUMENTED_MARKER));
    } finally {
      p.remove();
    }
  });

  test("an entry that asks to run after TypeScript's transforms gets one error and no instrumentation", () => {
    const p = project("small");
    try {
      editTsconfig(p.dir, withPlugin({ after: true }));
      const r = build(p.dir, "tspc");
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.equal(
        r.stdout.trim(),
        `error TS99001: diagnose/transformer: the plugin must run before TypeScript's own transforms: remove "after": true from its tsconfig entry. Nothing is instrumented until this is fixed.`,
      );
      assert.ok(!readFileSync(join(p.dir, "dist", "index.js"), "utf8").includes(INSTRUMENTED_MARKER));
    } finally {
      p.remove();
    }
  });

  test("readPluginConfig resolves paths against the tsconfig folder and ignores ts-patch's own keys", () => {
    const { config, problems } = readPluginConfig(
      {
        transform: "diagnose/transformer",
        import: "default",
        isEsm: true,
        include: ["src/**"],
        manifest: "out/m.json",
        root: "..",
      },
      "/work/app/config/tsconfig.json",
      "/cwd",
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(config, {
      configDir: "/work/app/config",
      include: ["src/**"],
      exclude: [],
      manifest: "/work/app/config/out/m.json",
      root: "/work/app",
      replaceArguments: false,
      outline: true,
      warnings: "stderr",
    });
    assert.deepEqual(readPluginConfig(undefined, undefined, "/cwd").config.configDir, "/cwd");
    assert.deepEqual(
      readPluginConfig({ exclude: [""], root: "" }, undefined, "/cwd").problems.map((q) => q.key),
      ["exclude", "root"],
    );
  });
});
