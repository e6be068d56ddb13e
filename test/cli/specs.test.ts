/**
 * `diagnose specs add|list|rm` and `diagnose status`: the real CLI as a child process, on a real
 * file store in a temporary folder, with the fixture project's site manifest for the checks.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CLI, FIXTURES } from "../integrations/helpers.js";
import { fileStore } from "../../runtime/manager/stores/file.js";

const PROJECT = join(FIXTURES, "cli", "manifest-project");

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;
let store: string;

function cli(args: string[], env: Record<string, string> = {}, cwd = PROJECT): Run {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(base)) if (key.startsWith("DIAGNOSE_")) delete base[key];
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...base, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `cli` with this test's store. */
function run(...args: string[]): Run {
  return cli([...args, "--store", store]);
}

function listJson(): { id: string; version: string; spec: Record<string, any> }[] {
  const r = run("specs", "list", "--json");
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { specs: { id: string; version: string; spec: Record<string, any> }[] }).specs;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "diagnose-cli-specs-"));
  store = `file:${join(dir, "diagnose-specs.json")}`;
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("diagnose specs add", () => {
  it("writes a spec from flags, with the stored field names, and lists it", () => {
    const r = run(
      "specs",
      "add",
      "total-log",
      "--target",
      "src/shop/cart.ts:Cart.total",
      "--value",
      "result",
      "--tags",
      "{ discount: discountPercent }",
      "--condition",
      "result > 3",
      "--lifespan",
      "15",
      "--selector",
      "app=shop, region=eu",
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^added spec total-log in file:.*diagnose-specs\.json \(log result of src\/shop\/cart\.ts:Cart\.total on return\)\n$/,
    );
    const [spec] = listJson().filter((s) => s.id === "total-log");
    assert.ok(spec);
    assert.equal(spec.spec["target"], "src/shop/cart.ts:Cart.total");
    assert.deepEqual(spec.spec["instrument"], {
      type: "log",
      name: "total-log",
      value: "result",
      custom: { tags: "{ discount: discountPercent }", condition: "result > 3" },
    });
    assert.equal(spec.spec["lifespan"], 15);
    assert.deepEqual(spec.spec["selector"], { app: "shop", region: "eu" });
    assert.ok(!Number.isNaN(Date.parse(spec.spec["lastmodified"])));

    const table = run("specs", "list");
    assert.equal(table.status, 0, table.stderr);
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^ID\s+TARGET\s+TYPE\s+EVENT\s+LIFESPAN\s+WRITTEN\s+VALUE$/);
    assert.match(table.stdout, /total-log\s+src\/shop\/cart\.ts:Cart\.total\s+log\s+return\s+15m\s+\d+s ago\s+result/);
  });

  it("refuses an existing id (exit 4) unless --replace, which compares and sets", () => {
    const again = run("specs", "add", "total-log", "--target", "src/shop/cart.ts:Cart.total", "--value", "args");
    assert.equal(again.status, 4);
    assert.equal(again.stdout, "");
    assert.match(again.stderr, /spec "total-log" already exists in .*--replace/);
    assert.equal(listJson().find((s) => s.id === "total-log")!.spec["instrument"].value, "result");

    const replaced = run(
      "specs",
      "add",
      "total-log",
      "--target",
      "src/shop/cart.ts:Cart.total",
      "--value",
      "elapsed",
      "--replace",
    );
    assert.equal(replaced.status, 0, replaced.stderr);
    assert.match(replaced.stdout, /^replaced spec total-log/);
    assert.equal(listJson().find((s) => s.id === "total-log")!.spec["instrument"].value, "elapsed");
  });

  it("refuses an unknown target with the nearest names (exit 3); --force writes it", () => {
    const r = run("specs", "add", "typo", "--target", "src/shop/cart.ts:Cart.totl", "--value", "result");
    assert.equal(r.status, 3);
    assert.match(
      r.stderr,
      /target src\/shop\/cart\.ts:Cart\.totl is not an instrumented function of this project; nearest: src\/shop\/cart\.ts:Cart\.total/,
    );
    assert.match(r.stderr, /Nothing was written/);
    assert.equal(
      listJson().some((s) => s.id === "typo"),
      false,
    );

    const forced = run(
      "specs",
      "add",
      "typo",
      "--target",
      "src/shop/cart.ts:Cart.totl",
      "--value",
      "result",
      "--force",
    );
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stderr, /writing despite \(--force\)/);
    assert.equal(
      listJson().some((s) => s.id === "typo"),
      true,
    );
  });

  it("checks line events against the function's line sites", () => {
    const bad = run(
      "specs",
      "add",
      "line-bad",
      "--target",
      "src/shop/cart.ts:Cart.total",
      "--value",
      "sum",
      "--event",
      "line:16",
    );
    assert.equal(bad.status, 3);
    assert.match(
      bad.stderr,
      /line 16 is not a line site of src\/shop\/cart\.ts:Cart\.total; its line sites are 13, 14, 15, 17/,
    );
    const good = run(
      "specs",
      "add",
      "line-good",
      "--target",
      "src/shop/cart.ts:Cart.total",
      "--value",
      "sum",
      "--event",
      "line:15",
    );
    assert.equal(good.status, 0, good.stderr);
  });

  it("refuses unknown types, bad events and several problems at once, listing each", () => {
    const r = run(
      "specs",
      "add",
      "bad",
      "--target",
      "src/api.ts:handler",
      "--value",
      "result",
      "--type",
      "histogram",
      "--event",
      "exit",
    );
    assert.equal(r.status, 3);
    assert.match(r.stderr, /`instrument.type` "histogram" is not one of log, hist, incr, test/);
    assert.match(r.stderr, /`instrument.event` "exit" is not an event/);
  });

  it("refuses expressions the safe language refuses, naming the construct", () => {
    const cases: [string[], RegExp][] = [
      [["--value", "process.exit()"], /Spec expression "process\.exit\(\)" uses `process`/],
      [["--value", "result", "--tags", "{ id: args[0].trim() }"], /uses a method call `\.trim\(\)`/],
      [["--value", "result", "--condition", "result.constructor"], /uses `constructor`/],
      [["--value", "result +"], /Invalid value expression "result \+"/],
    ];
    for (const [flags, message] of cases) {
      const r = run("specs", "add", "unsafe", "--target", "src/shop/cart.ts:Cart.total", ...flags);
      assert.equal(r.status, 3, `${flags.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(
      listJson().some((s) => s.id === "unsafe"),
      false,
    );
  });

  it("writes a spec document from --file (seed field names), flags overriding it", () => {
    const file = join(dir, "spec.json");
    writeFileSync(
      file,
      JSON.stringify({
        target: "src/api.ts:handler",
        instrument: { type: "incr", name: "api.calls", value: "1", custom: { tags: "{ a: 1 }" } },
        lifespan: 5,
        owner: "ops-team",
      }),
    );
    const r = run("specs", "add", "from-file", "--file", file, "--lifespan", "30");
    assert.equal(r.status, 0, r.stderr);
    const spec = listJson().find((s) => s.id === "from-file")!.spec;
    assert.equal(spec["instrument"].type, "incr");
    assert.equal(spec["instrument"].name, "api.calls");
    assert.deepEqual(spec["instrument"].custom, { tags: "{ a: 1 }" });
    assert.equal(spec["lifespan"], 30);
    assert.equal(spec["owner"], "ops-team", "unknown fields are kept");

    writeFileSync(file, "{ not json");
    const broken = run("specs", "add", "broken", "--file", file);
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /is not valid JSON/);
  });

  it("reports usage errors with exit 2 and writes nothing", () => {
    const before = listJson().length;
    for (const args of [
      ["specs", "add"],
      ["specs", "add", "x", "--value", "result"],
      ["specs", "add", "x", "--target", "src/api.ts:handler", "--value", "result", "--lifespan", "-3"],
      ["specs", "add", "x", "--target", "src/api.ts:handler", "--value", "result", "--selector", "=shop"],
      ["specs", "add", "x", "--target", "src/api.ts:handler", "--value", "result", "--bogus"],
      ["specs", "frobnicate"],
    ]) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.notEqual(r.stderr, "", args.join(" "));
      assert.equal(r.stdout, "", args.join(" "));
    }
    assert.equal(listJson().length, before);
  });

  it("uses DIAGNOSE_STORE when there is no --store", () => {
    const other = join(dir, "from-env.json");
    const r = cli(["specs", "add", "env-spec", "--target", "src/api.ts:handler", "--value", "result"], {
      DIAGNOSE_STORE: `file:${other}`,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /from-env\.json/);
    assert.match(readFileSync(other, "utf8"), /env-spec/);
  });

  it("exits 2 for a store URI it cannot open, and 1 when the store fails", () => {
    const bad = cli(["specs", "list", "--store", "nosuch://host/x"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /nosuch/);
    writeFileSync(join(dir, "a-file"), "");
    const down = cli([
      "specs",
      "add",
      "x",
      "--target",
      "src/api.ts:handler",
      "--value",
      "result",
      "--store",
      `file:${join(dir, "a-file", "specs.json")}`,
    ]);
    assert.equal(down.status, 1, down.stderr);
    assert.match(down.stderr, /a-file/);
  });
});

describe("diagnose specs rm", () => {
  it("removes a spec (exit 0) and reports a missing one (exit 5)", () => {
    assert.equal(run("specs", "rm", "typo").status, 0);
    assert.equal(
      listJson().some((s) => s.id === "typo"),
      false,
    );
    const again = run("specs", "rm", "typo");
    assert.equal(again.status, 5);
    assert.match(again.stderr, /no spec "typo"/);
  });
});

describe("diagnose status", () => {
  it("shows one row per spec and process, stale processes marked, unreported specs too", async () => {
    const s = fileStore(join(dir, "diagnose-specs.json"));
    try {
      const lm = (await s.list()).specs.find((x) => x.id === "total-log")!.doc["lastmodified"] as Date;
      const now = Date.now();
      await s.reportStatus({
        processId: "web-1:100",
        labels: { app: "shop" },
        at: new Date(now - 1000),
        specs: { "total-log": { lm, err: null, state: "emitting", hits: 42, at: new Date(now - 1000) } },
      });
      await s.reportStatus({
        processId: "web-2:200",
        labels: { app: "shop" },
        at: new Date(now - 5 * 60_000),
        specs: { "total-log": { lm, err: "TypeError: boom", state: "error", hits: 3, at: new Date(now - 5 * 60_000) } },
      });
    } finally {
      await s.close();
    }
    const r = run("status");
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^SPEC\s+PROCESS\s+STATE\s+HITS\s+LAST SEEN\s+ERROR$/);
    assert.ok(
      lines.some((l) => /^total-log\s+web-1:100\s+emitting\s+42\s+\d+s ago$/.test(l)),
      r.stdout,
    );
    assert.ok(
      lines.some((l) => /^total-log\s+web-2:200\s+error\s+3\s+5m ago \(stale\)\s+TypeError: boom$/.test(l)),
      r.stdout,
    );
    assert.ok(
      lines.some((l) => /^from-file\s+-\s+unreported\s+-\s+-$/.test(l)),
      r.stdout,
    );

    const one = run("status", "total-log", "--json");
    assert.equal(one.status, 0, one.stderr);
    const rows = (JSON.parse(one.stdout) as { rows: Record<string, unknown>[] }).rows;
    assert.equal(rows.length, 2);
    assert.deepEqual(
      rows.map((x) => [x["processId"], x["state"], x["hits"], x["stale"], x["current"]]),
      [
        ["web-1:100", "emitting", 42, false, true],
        ["web-2:200", "error", 3, true, true],
      ],
    );
    assert.equal(run("status", "nope").status, 5);
  });
});
