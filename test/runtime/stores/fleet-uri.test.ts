/** openStore URIs of the database stores (real servers), descriptions without passwords, and the missing-driver error. */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { openStore, storeSchemes, StoreDriverMissingError } from "../../../runtime/manager/stores/index.js";
import type { SpecStore } from "../../../runtime/manager/stores/contract.js";
import { loadDriver } from "../../../runtime/manager/stores/remote.js";
import { dropPgSchema, dropRedisPrefix, PG_URL, REDIS_URL, runId } from "./servers.js";

const id = runId();
const opened: SpecStore[] = [];
after(async () => {
  for (const s of opened) await s.close();
  await dropRedisPrefix(REDIS_URL, `uri${id}:`);
  await dropPgSchema(PG_URL, `uri${id}`);
});

test("every database scheme is known", () => {
  for (const s of ["mongodb", "mongodb+srv", "redis", "rediss", "postgres", "postgresql"])
    assert.ok(storeSchemes().includes(s), s);
});

test("redis://…?prefix= opens a working store under that prefix; the password never shows", async () => {
  const url = REDIS_URL.replace("redis://", "redis://:s3cret-pw@");
  const store = await openStore(`${url}?prefix=uri${id}:`);
  opened.push(store);
  assert.doesNotMatch(store.description, /s3cret-pw/);
  assert.match(store.description, new RegExp(`uri${id}:`));
  await assert.rejects(store.list(), /s3cret-pw|AUTH|auth|password/i).catch(async () => {
    // A server without a password accepts the connection: then the store simply works.
    await store.put("a", { target: "src/a.ts:f" });
    assert.equal((await store.list()).specs.length, 1);
  });
});

test("postgres://…?schema= creates its tables in that schema; the password never shows", async () => {
  const url = PG_URL.replace("postgres://postgres@", "postgres://postgres:s3cret-pw@");
  const store = await openStore(`${url}?schema=uri${id}`);
  opened.push(store);
  assert.doesNotMatch(store.description, /s3cret-pw/);
  await store.put("a", { target: "src/a.ts:f" });
  assert.deepEqual(
    (await store.list()).specs.map((s) => s.id),
    ["a"],
  );
});

test("mongodb://…/db?collection= names the database and collection; the password never shows; an unreachable server rejects", async () => {
  const store = await openStore(
    "mongodb://ana:s3cret-pw@127.0.0.1:1/shop?collection=probes&serverSelectionTimeoutMS=300",
  );
  opened.push(store);
  assert.doesNotMatch(store.description, /s3cret-pw/);
  assert.match(store.description, /shop\.probes/);
  await assert.rejects(store.list(), (e: unknown) => (e as { code?: string }).code === "DIAGNOSE_STORE_UNAVAILABLE");
});

test("a bad option value is refused with the URI redacted", async () => {
  await assert.rejects(openStore("redis://u:pw@127.0.0.1:6379?statusTtl=soon"), (e: unknown) => {
    assert.match(String(e), /statusTtl/);
    assert.doesNotMatch(String(e), /:pw@/);
    return true;
  });
});

test("a missing driver is a clear error naming the package to install", async () => {
  await assert.rejects(loadDriver("Redis", "diagnose-no-such-driver", "1.2.3"), (e: unknown) => {
    assert.ok(e instanceof StoreDriverMissingError);
    assert.equal(e.packageName, "diagnose-no-such-driver");
    assert.match(e.message, /npm install diagnose-no-such-driver@1\.2\.3/);
    return true;
  });
});

test("listSpecs() gives list()'s specs and revision without assembling every process's status", async () => {
  for (const uri of [`${REDIS_URL}?prefix=uri${id}:ls:`, `${PG_URL}?schema=uri${id}`]) {
    const store = await openStore(uri);
    opened.push(store);
    const lm = new Date(7000);
    await store.put("ls", { target: "src/a.ts:f", lastmodified: lm });
    await store.reportStatus({
      processId: "p.1:2",
      labels: {},
      at: new Date(),
      specs: { ls: { lm, err: null, state: "applied", hits: 0, at: new Date() } },
    });
    const full = await store.list();
    const lean = await store.listSpecs!();
    assert.equal(lean.revision, full.revision, uri);
    const fullDoc = full.specs.find((s) => s.id === "ls")!;
    const leanDoc = lean.specs.find((s) => s.id === "ls")!;
    assert.equal(leanDoc.version, fullDoc.version);
    assert.deepEqual(Object.keys(fullDoc.doc["applied"] as object), ["p.1:2"]);
    assert.deepEqual(leanDoc.doc["applied"], {});
  }
});
