/**
 * The MongoDB store's polling feed (nx-27017 has no change streams) sees writers that do not go
 * through this library, as the original Python library writes: a new document, an edit with a newer
 * `lastmodified`, a removal — each rings the feed, and the next read has it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mongodbStore, type MongoStore } from "../../../runtime/manager/stores/mongodb.js";
import type { StoreChange } from "../../../runtime/manager/stores/contract.js";
import { nxPath, PrivateMongo, runId, sleep } from "./servers.js";

const bin = nxPath();

describe("mongodb polling feed (nx-27017)", { skip: bin === undefined ? "nx-27017 not installed" : false }, () => {
  let server: PrivateMongo | undefined;
  before(async () => {
    server = await PrivateMongo.start(bin as string);
  });
  after(() => server?.kill());

  it("rings for another writer's insert, newer lastmodified and delete, which do not bump the counter", async () => {
    const collection = `poll_${runId()}`;
    const store: MongoStore = mongodbStore({ url: server!.url, collection, pollInterval: 150 });
    const { MongoClient } = await import("mongodb");
    const raw = new MongoClient(server!.url);
    const coll = raw.db("diagnose").collection(collection);
    const changes: StoreChange[] = [];
    store.watch((c) => changes.push(c));
    /** Waits for the feed to ring `changed` after `write`, then returns the ids a read sees. */
    const ringsAfter = async (write: () => Promise<unknown>): Promise<string[]> => {
      const before = changes.length;
      await write();
      for (let i = 0; i < 200 && !changes.slice(before).some((c) => c.kind === "changed"); i++) await sleep(25);
      assert.ok(
        changes.slice(before).some((c) => c.kind === "changed"),
        `rang: ${JSON.stringify(changes.slice(before))}`,
      );
      return (await store.listSpecs()).specs.map((s) => s.id).sort();
    };
    try {
      for (let i = 0; i < 200 && !changes.some((c) => c.kind === "reconnected"); i++) await sleep(25);
      assert.equal(store.feedMode, "poll");
      const doc = { target: "src/a.ts:f", instrument: { type: "log", name: "py" }, lifespan: 10 };
      assert.deepEqual(await ringsAfter(() => coll.insertOne({ id: "py1", ...doc, lastmodified: new Date(1_000) })), [
        "py1",
      ]);
      assert.deepEqual(
        await ringsAfter(() =>
          coll.updateOne({ id: "py1" }, { $set: { lifespan: 20, lastmodified: new Date(2_000) } }),
        ),
        ["py1"],
      );
      assert.equal((await store.listSpecs()).specs[0]?.doc.lifespan, 20);
      assert.deepEqual(await ringsAfter(() => coll.deleteOne({ id: "py1" })), []);
    } finally {
      await store.close();
      await raw.close();
    }
  });
});
