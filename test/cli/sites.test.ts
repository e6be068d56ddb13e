/** `diagnose sites`: run as a real process on fixture projects. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CLI, FIXTURES, tempDir } from "../integrations/helpers.js";
import type { SiteManifest } from "../../abi/manifest-format.js";

const WITH_MANIFEST = join(FIXTURES, "cli", "manifest-project");
const SCAN = join(FIXTURES, "cli", "scan-project");

function cli(args: string[], cwd = WITH_MANIFEST): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("DIAGNOSE_")) delete env[key];
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function names(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split(/\s+/)[0]!);
}

describe("diagnose sites (from diagnose-sites.json)", () => {
  it("lists one function per line: name, line, kinds and line sites", () => {
    const r = cli(["sites"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        "src/api.ts:handler                  3  [arrow async]       lines 4",
        "src/shop/cart.ts:Cart.total        12  [method]            lines 13-15,17",
        "src/shop/cart.ts:Cart.items        20  [method generator]  lines 21",
        "src/shop/cart.ts:Cart.constructor   8  [constructor]       lines 9",
        "",
      ].join("\n"),
    );
    assert.equal(r.stderr, "");
  });

  it("filters by substring and by glob over qualified names", () => {
    assert.deepEqual(names(cli(["sites", "Cart.t"]).stdout), ["src/shop/cart.ts:Cart.total"]);
    assert.deepEqual(names(cli(["sites", "src/shop/*:Cart.*"]).stdout), [
      "src/shop/cart.ts:Cart.total",
      "src/shop/cart.ts:Cart.items",
      "src/shop/cart.ts:Cart.constructor",
    ]);
    assert.deepEqual(names(cli(["sites", "*:handler"]).stdout), ["src/api.ts:handler"]);
    assert.equal(names(cli(["sites", "cart.ts:*"]).stdout).length, 3);
    // `*` does not cross "/": src/* does not reach src/shop/cart.ts, src/** does.
    assert.deepEqual(names(cli(["sites", "src/*:*"]).stdout), ["src/api.ts:handler"]);
    assert.equal(names(cli(["sites", "src/**:*"]).stdout).length, 4);
    // A glob without ":" is tried against the path alone.
    assert.deepEqual(names(cli(["sites", "Cart.{total,items}"]).stdout), [
      "src/shop/cart.ts:Cart.total",
      "src/shop/cart.ts:Cart.items",
    ]);
  });

  it("prints the matching manifest entries with --json", () => {
    const r = cli(["sites", "Cart.total", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout) as SiteManifest;
    assert.equal(m.version, 1);
    assert.equal(m.modules.length, 1);
    assert.equal(m.modules[0]!.module, "src/shop/cart.ts");
    assert.deepEqual(
      m.modules[0]!.functions.map((f) => f.path),
      ["Cart.total"],
    );
    assert.deepEqual(m.modules[0]!.functions[0]!.sites[3], {
      id: 3,
      kind: "line",
      line: 15,
      column: 6,
      locals: ["sum", "item"],
    });
  });

  it("exits 1 with a message on stderr when nothing matches", () => {
    const r = cli(["sites", "Checkout"]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /no function matches 'Checkout' \(4 functions under /);
  });

  it("exits 2 on usage errors, 0 on --help", () => {
    for (const args of [["sites", "--bogus"], ["sites", "a", "b"], ["frobnicate"], [], ["sites", "--root"]]) {
      const r = cli(args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /Usage: diagnose/);
    }
    for (const args of [["--help"], ["sites", "--help"], ["help", "sites"]]) {
      const r = cli(args);
      assert.equal(r.status, 0);
      assert.match(r.stdout, /Usage: diagnose/);
    }
  });

  it("takes the project from --root", () => {
    const r = cli(["sites", "handler", "--root", WITH_MANIFEST], FIXTURES);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(names(r.stdout), ["src/api.ts:handler"]);
  });

  it("reports a broken manifest as a usage error naming the file", () => {
    const t = tempDir("cli-broken");
    try {
      writeFileSync(join(t.dir, "package.json"), "{}");
      writeFileSync(join(t.dir, "diagnose-sites.json"), "{ broken");
      const r = cli(["sites"], t.dir);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /diagnose-sites\.json is not valid JSON/);
    } finally {
      t.remove();
    }
  });
});

describe("diagnose sites (scanning sources)", () => {
  it("analyses the project's TypeScript files, skipping node_modules, dist and .d.ts", () => {
    const t = tempDir("cli-scan");
    try {
      cpSync(SCAN, t.dir, { recursive: true });
      mkdirSync(join(t.dir, "node_modules", "dep"), { recursive: true });
      writeFileSync(
        join(t.dir, "node_modules", "dep", "index.ts"),
        "export function fromNodeModules() { return 1; }\n",
      );
      mkdirSync(join(t.dir, "dist"));
      writeFileSync(join(t.dir, "dist", "api.ts"), "export function fromDist() { return 1; }\n");
      const r = cli(["sites"], t.dir);
      assert.equal(r.status, 0, r.stderr);
      const listed = names(r.stdout);
      assert.ok(listed.includes("src/api.ts:handler"), r.stdout);
      assert.ok(listed.includes("src/shop/cart.ts:Cart.total"), r.stdout);
      assert.ok(listed.includes("src/shop/cart.ts:Cart.constructor"), r.stdout);
      assert.ok(!listed.some((n) => /fromNodeModules|fromDist|declared/.test(n)), r.stdout);
      assert.match(r.stdout, /^src\/shop\/cart\.ts:Cart\.total\s+4\s+\[method\]\s+lines 5-7,9$/m);

      const json = JSON.parse(cli(["sites", "--json", "src/api.ts"], t.dir).stdout) as SiteManifest;
      const handler = json.modules[0]!.functions.find((f) => f.path === "handler")!;
      assert.equal(handler.async, true);
      assert.ok(handler.sites.some((s) => s.kind === "line" && s.line === 5 && s.locals.includes("cart")));
    } finally {
      t.remove();
    }
  });

  it("prefers diagnose-sites.json unless --scan is given", () => {
    const t = tempDir("cli-scan");
    try {
      cpSync(SCAN, t.dir, { recursive: true });
      cpSync(join(WITH_MANIFEST, "diagnose-sites.json"), join(t.dir, "diagnose-sites.json"));
      assert.ok(names(cli(["sites"], t.dir).stdout).includes("src/shop/cart.ts:Cart.items"));
      assert.ok(!names(cli(["sites", "--scan"], t.dir).stdout).includes("src/shop/cart.ts:Cart.items"));
    } finally {
      t.remove();
    }
  });
});
