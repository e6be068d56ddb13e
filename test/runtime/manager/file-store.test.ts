/**
 * The manager on the file store, in this process: start() applies what another writer puts in the
 * file (through the folder watch), a malformed file keeps the last applied specs in force, specs
 * is a read-only view of the last snapshot, and stop() removes what was applied.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, test } from "node:test";
import { ReadOnlySpecsError, fileStore, probes, type FileStore } from "../../../runtime/index.js";
import { loadInstrumented } from "../../helpers/instrumented.js";
import { sleep, specDoc, stopManagers, testManager, until } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "diagnose-manager-file-"));
const stores: FileStore[] = [];
afterEach(stopManagers);
after(async () => {
  await stopManagers();
  for (const s of stores) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

const SOURCE = `export function ship(weight: number) { return weight * 2; }`;
let n = 0;

function open(file: string): FileStore {
  const s = fileStore(file);
  stores.push(s);
  return s;
}

test("start() on a file store applies a spec another writer puts, and stop() removes it", async () => {
  const m = await loadInstrumented<{ ship(w: number): number }>(SOURCE, `src/filestore${++n}/ship.ts`);
  const target = m.qualified("ship");
  const file = join(dir, `specs${n}.json`);
  const { mgr } = testManager({ store: open(file) });
  await mgr.start();
  const writer = open(file);
  await writer.put("s1", specDoc(target));
  await until(() => probes.get(target)?.instruments.has("s1"), 3_000, "the watched file's spec");
  m.exports.ship(4);
  assert.equal(mgr.specs.get("s1")?.target, target);
  assert.throws(() => mgr.specs.set("x", specDoc(target)), ReadOnlySpecsError);
  let state: string | undefined;
  await until(
    () => {
      void writer
        .listStatus()
        .then((rs) => (state = rs.find((r) => r.processId === mgr.processId)?.specs["s1"]?.state));
      return state === "emitting";
    },
    3_000,
    "emitting status in the file store",
  );
  await mgr.stop();
  assert.equal(probes.get(target), undefined);
  assert.deepEqual(m.sitesOn(), []);
});

test("a malformed file keeps the last applied specs in force", async () => {
  const m = await loadInstrumented<{ ship(w: number): number }>(SOURCE, `src/filestore${++n}/ship.ts`);
  const target = m.qualified("ship");
  const file = join(dir, `specs${n}.json`);
  const writer = open(file);
  await writer.put("s1", specDoc(target));
  const { mgr, lines } = testManager({ store: open(file) });
  assert.deepEqual((await mgr.start()).attached, ["s1"]);
  writeFileSync(file, "{ not json");
  await sleep(400);
  const report = await mgr.apply();
  assert.deepEqual(report.removed, []);
  assert.ok(probes.get(target)?.instruments.has("s1"), "still applied");
  m.exports.ship(1);
  assert.equal(mgr.status()["s1"]?.state, "emitting");
  assert.match(mgr.storeError ?? "", /specs\d+\.json/);
  assert.ok(
    lines.some((l) => /reported a problem \(the last applied specs stay in force\)/.test(l)),
    lines.join(""),
  );
});

test("start() applies a spec written while its first read runs (the watch opens before that read)", async () => {
  const m = await loadInstrumented<{ ship(w: number): number }>(SOURCE, `src/filestore${++n}/ship.ts`);
  const target = m.qualified("ship");
  const file = join(dir, `specs${n}.json`);
  const store = open(file);
  const writer = open(file);
  // Another process writes right after the manager's first read has read the file: the snapshot
  // that read returns does not have the spec. With the watch opened only after the first apply,
  // this spec waited for the file's next change (the safety-net poll's baseline already saw it).
  const read = store.list.bind(store);
  let first = true;
  store.list = async () => {
    const snapshot = await read();
    if (first) {
      first = false;
      await writer.put("late", specDoc(target));
    }
    return snapshot;
  };
  const { mgr } = testManager({ store });
  const report = await mgr.start();
  assert.ok(!report.attached.includes("late"), "the first read's snapshot predates the write");
  await until(() => probes.get(target)?.instruments.has("late"), 3_000, "the spec written during the first read");
  await mgr.stop();
});
