/**
 * The MongoDB store against nx-27017 (a MongoDB wire-protocol server installed by .ci/run), with
 * change streams failing there so the polling fallback is what rings; and against a real replica
 * set when MONGODB_URI names one.
 */
import { after, before, describe, it } from "node:test";
import { mongodbStore } from "../../../runtime/manager/stores/index.js";
import { storeConformance } from "../../../runtime/testing/store-conformance.js";
import { nxPath, PrivateMongo, runId } from "./servers.js";

const bin = nxPath();
let n = 0;

if (bin === undefined) {
  describe("store conformance: mongodb (nx-27017)", () => {
    it("needs nx-27017", (t) => {
      t.skip("nx-27017 is not installed (.ci/run installs it into .tmp/venv; or set DIAGNOSE_NX27017)");
      console.log("# SKIPPED: MongoDB store tests: nx-27017 not found (set DIAGNOSE_NX27017 or run .ci/run)");
    });
  });
} else {
  let server: PrivateMongo | undefined;
  before(async () => {
    server = await PrivateMongo.start(bin);
  });
  after(() => server?.kill());
  storeConformance(
    "mongodb (nx-27017)",
    async () => mongodbStore({ url: server!.url, collection: `specs_${runId()}_${++n}`, pollInterval: 150 }),
    {
      requireWatch: true,
    },
  );
}

const replicaSet = process.env["MONGODB_URI"];
if (replicaSet === undefined || replicaSet === "") {
  describe("store conformance: mongodb (replica set, change streams)", () => {
    it("needs MONGODB_URI", (t) => {
      t.skip("MONGODB_URI is not set: the change-stream path runs only against a real replica set");
      console.log("# SKIPPED: MongoDB change-stream tests: set MONGODB_URI to a replica set to run them");
    });
  });
} else {
  storeConformance(
    "mongodb (replica set, change streams)",
    async () => mongodbStore({ url: replicaSet, collection: `specs_${runId()}_${++n}`, pollInterval: 60_000 }),
    { requireWatch: true },
  );
}
