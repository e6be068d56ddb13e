/**
 * The replay ledger across a restart: two managers on one ledger file stand for a process and its
 * restart. The second refuses an older signed copy of a spec the first applied (without the
 * ledger it would apply it); a corrupt ledger is warned about, the manager starts empty and the
 * specs it leaves unchecked say so in their status; the file is rewritten whole (tmp + rename), and DIAGNOSE_REPLAY_FILE turns it on without code.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, test } from "node:test";
import { generateSigningKeyPair, ManagerOptionsError, parseSigningKey, signSpec } from "../../../runtime/index.js";
import { fileStore } from "../../../runtime/manager/stores/file.js";
import { loadInstrumented } from "../../helpers/instrumented.js";
import { CLI, REPO_ROOT, runNode } from "../../integrations/helpers.js";
import { makeTempFolder } from "../../helpers/temp.js";
import { specDoc, stopManagers, testManager } from "./helpers.js";

const SOURCE = "export function price(qty: number) { return qty * 3; }\n";
let n = 0;
const load = () => loadInstrumented<{ price(q: number): number }>(SOURCE, `src/replay${++n}/shop.ts`);

const pair = generateSigningKeyPair();
const key = parseSigningKey(pair.privateKeyPem);
const OLD = new Date("2026-01-01T00:00:00.000Z");
const NEW = new Date("2026-02-01T00:00:00.000Z");

afterEach(stopManagers);
after(stopManagers);

/** Captures what the managers write to stderr while `fn` runs (their warnings at construction). */
function stderrOf(fn: () => void): string {
  const chunks: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return chunks.join("");
}

test("a restarted manager refuses an older signed copy of a spec applied before the restart", async () => {
  const m = await load();
  const price = m.qualified("price");
  const replayFile = join(makeTempFolder("replay"), "replay.json");
  const verify = { keys: [pair.publicKeyPem], replayFile };

  const first = testManager({ verify });
  first.mgr.specs.set("s", signSpec("s", specDoc(price, {}, { lastmodified: NEW }), key));
  await first.mgr.apply();
  assert.equal(first.mgr.status()["s"]?.state, "applied");
  await first.mgr.stop();
  const ledger = JSON.parse(readFileSync(replayFile, "utf8")) as { specs: Record<string, { lm: number }> };
  assert.equal(ledger.specs["s"]?.lm, NEW.getTime());
  assert.deepEqual(readdirSync(join(replayFile, "..")), ["replay.json"], "no temporary file left behind");

  // The "restart": a new manager on the same ledger, its store holding the older signed copy.
  const second = testManager({ verify });
  second.mgr.specs.set("s", signSpec("s", specDoc(price, {}, { lastmodified: OLD }), key));
  await second.mgr.apply();
  const st = second.mgr.status()["s"];
  assert.equal(st?.state, "error");
  assert.match(String(st?.err), /older than a version this process \(or its replay ledger\) already applied .*replay/);

  // Without the ledger, the same restart applies the old copy: the ledger is what refuses it.
  const forgetful = testManager({ verify: { keys: [pair.publicKeyPem] } });
  forgetful.mgr.specs.set("s", signSpec("s", specDoc(price, {}, { lastmodified: OLD }), key));
  await forgetful.mgr.apply();
  assert.equal(forgetful.mgr.status()["s"]?.state, "applied");
});

test("a removed spec brought back unchanged after a restart is a replay", async () => {
  const m = await load();
  const price = m.qualified("price");
  const replayFile = join(makeTempFolder("replay"), "replay.json");
  const doc = signSpec("s", specDoc(price, {}, { lastmodified: NEW }), key);
  const first = testManager({ verify: { keys: [pair.publicKeyPem], replayFile } });
  first.mgr.specs.set("s", doc);
  await first.mgr.apply();
  first.mgr.specs.delete("s");
  await first.mgr.apply();
  await first.mgr.stop();
  const second = testManager({ verify: { keys: [pair.publicKeyPem], replayFile } });
  second.mgr.specs.set("s", doc);
  await second.mgr.apply();
  assert.match(String(second.mgr.status()["s"]?.err), /already applied and saw removed/);
});

test("a corrupt ledger: a clear warning, an empty start, and the file rewritten whole at the next apply", async () => {
  const m = await load();
  const price = m.qualified("price");
  const replayFile = join(makeTempFolder("replay"), "replay.json");
  writeFileSync(replayFile, '{"v":"diagnose-replay/1","specs":{"s":{"lm":"yesterday"');
  let made: ReturnType<typeof testManager> | undefined;
  const warned = stderrOf(() => {
    made = testManager({ verify: { keys: [pair.publicKeyPem], replayFile } });
  });
  assert.match(
    warned,
    /the replay ledger .*replay\.json could not be read \(it is not JSON\): starting with an empty one/,
  );
  const { mgr } = made!;
  mgr.specs.set("s", signSpec("s", specDoc(price, {}, { lastmodified: OLD }), key));
  await mgr.apply();
  assert.equal(mgr.status()["s"]?.state, "applied");
  const ledger = JSON.parse(readFileSync(replayFile, "utf8")) as { v: string; specs: Record<string, { lm: number }> };
  assert.equal(ledger.v, "diagnose-replay/1");
  assert.equal(ledger.specs["s"]?.lm, OLD.getTime());
  assert.throws(() => testManager({ verify: { keys: [pair.publicKeyPem], replayFile: "" } }), ManagerOptionsError);
});

test("a corrupt ledger reaches the status of the specs it leaves unchecked, in the store and in `diagnose status`", async () => {
  const m = await load();
  const price = m.qualified("price");
  const folder = makeTempFolder("replay");
  const replayFile = join(folder, "replay.json");
  writeFileSync(replayFile, "not a ledger at all");
  const store = fileStore(join(folder, "specs.json"));
  try {
    let made: ReturnType<typeof testManager> | undefined;
    stderrOf(() => {
      made = testManager({ store, processId: "web-1:7", verify: { keys: [pair.publicKeyPem], replayFile } });
    });
    const { mgr } = made!;
    // Signed before this start: it may be an older copy of a version the lost ledger held.
    await store.put("old", signSpec("old", specDoc(price, {}, { lastmodified: OLD }), key));
    // Signed after the start: newer than anything applied before it, so no replay of one.
    const fresh = new Date(Date.now() + 60_000);
    await store.put("fresh", signSpec("fresh", specDoc(price, { name: "f" }, { lastmodified: fresh }), key));
    await mgr.apply();
    const status = mgr.status();
    assert.equal(status["old"]?.state, "applied");
    assert.match(
      String(status["old"]?.warning),
      /^The replay ledger .*replay\.json could not be read when this process started \(it is not JSON\): this signed version \(lastmodified 2026-01-01T00:00:00\.000Z\) was applied without checking that it is not an older copy/,
    );
    assert.equal(status["fresh"]?.state, "applied");
    assert.equal(status["fresh"]?.warning, undefined);

    await mgr.flushStatus();
    const report = (await store.listStatus()).find((r) => r.processId === "web-1:7");
    assert.equal(report?.specs["old"]?.warning, status["old"]?.warning);
    assert.equal(report?.specs["fresh"]?.warning, undefined);

    const uri = `file:${join(folder, "specs.json")}`;
    const json = runNode([CLI, "status", "old", "--json", "--store", uri], REPO_ROOT);
    assert.equal(json.status, 0, json.stderr);
    const rows = (JSON.parse(json.stdout) as { rows: { state: string; err: unknown; warning: unknown }[] }).rows;
    assert.deepEqual(
      rows.map((r) => [r.state, r.err, r.warning]),
      [["applied", null, status["old"]?.warning]],
    );
    const table = runNode([CLI, "status", "--store", uri], REPO_ROOT);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^old\s+web-1:7\s+applied\s+0\s+\S+ ago\s+warning: The replay ledger /m, table.stdout);
    assert.match(table.stdout, /^fresh\s+web-1:7\s+applied\s+0\s+\S+ ago$/m, table.stdout);
  } finally {
    await stopManagers();
    await store.close();
  }
});

test("DIAGNOSE_REPLAY_FILE turns the ledger on without code; two managers sharing it keep each other's entries", async () => {
  const m = await load();
  const price = m.qualified("price");
  const replayFile = join(makeTempFolder("replay"), "replay.json");
  process.env["DIAGNOSE_REPLAY_FILE"] = replayFile;
  try {
    const a = testManager({ verify: { keys: [pair.publicKeyPem] } });
    const b = testManager({ verify: { keys: [pair.publicKeyPem] } });
    a.mgr.specs.set("a", signSpec("a", specDoc(price, {}, { lastmodified: NEW }), key));
    b.mgr.specs.set("b", signSpec("b", specDoc(price, { name: "b" }, { lastmodified: NEW }), key));
    await a.mgr.apply();
    await b.mgr.apply();
    const ledger = JSON.parse(readFileSync(replayFile, "utf8")) as { specs: Record<string, { lm: number }> };
    assert.deepEqual(Object.keys(ledger.specs).sort(), ["a", "b"]);
  } finally {
    delete process.env["DIAGNOSE_REPLAY_FILE"];
  }
});
