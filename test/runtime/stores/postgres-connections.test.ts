/**
 * The PostgreSQL store's connections, counted by the server (pg_stat_activity, by
 * application_name): a watching process holds one connection by default, `poolSize` bounds
 * what it opens under concurrent calls, and a connection whose server stops answering is replaced.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { postgresStore, type PostgresStore } from "../../../runtime/manager/stores/postgres.js";
import { openStore } from "../../../runtime/manager/stores/uri.js";
import type { StoreChange } from "../../../runtime/manager/stores/contract.js";
import { dropPgSchema, PG_URL, runId, sleep } from "./servers.js";

const schema = `dgc_${runId()}`;
after(() => dropPgSchema(PG_URL, schema));

const doc = (name: string) => ({
  target: "src/a.ts:f",
  instrument: { type: "log", name, value: "result" },
  lifespan: 10,
  lastmodified: new Date(),
});

/** The store's URL with its own application_name, so the server can count its connections. */
function urlFor(app: string): string {
  return `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}application_name=${app}`;
}

async function connectionsOf(app: string): Promise<number> {
  const pg = (await import("pg")).default;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const { rows } = await c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [
      app,
    ]);
    return rows[0].n as number;
  } finally {
    await c.end();
  }
}

/** Many calls at once, of every kind the manager makes. */
async function busy(store: PostgresStore, tag: string): Promise<void> {
  await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      i % 3 === 0
        ? store.listSpecs()
        : i % 3 === 1
          ? store.reportStatus({ processId: `${tag}-${i}`, labels: {}, at: new Date(), specs: {} })
          : store.list(),
    ),
  );
}

test("a watching store holds one connection: queries and LISTEN share it, and the doorbell still rings", async () => {
  const app = `diagnose_t1_${runId()}`;
  const store = postgresStore({ url: urlFor(app), schema });
  const writer = postgresStore({ url: PG_URL, schema });
  try {
    const changes: StoreChange[] = [];
    store.watch((c) => changes.push(c));
    await busy(store, "one");
    for (let i = 0; i < 100 && !changes.some((c) => c.kind === "reconnected"); i++) await sleep(50);
    assert.ok(
      changes.some((c) => c.kind === "reconnected"),
      "the feed is live",
    );
    await busy(store, "two");
    assert.equal(await connectionsOf(app), 1);
    const before = changes.length;
    await writer.put("s1", doc("s1"));
    for (let i = 0; i < 100 && !changes.slice(before).some((c) => c.kind === "changed"); i++) await sleep(50);
    assert.ok(
      changes.slice(before).some((c) => c.kind === "changed"),
      "a put by another store rings the feed",
    );
    assert.deepEqual(
      (await store.listSpecs()).specs.map((s) => s.id),
      ["s1"],
    );
    assert.equal(await connectionsOf(app), 1);
  } finally {
    await store.close();
    await writer.close();
  }
  // The server's backend leaves pg_stat_activity a moment after the client hung up.
  let left = await connectionsOf(app);
  for (let i = 0; i < 50 && left > 0; i++) left = (await sleep(100), await connectionsOf(app));
  assert.equal(left, 0, "close() ends the connection");
});

test("?poolSize=3 in the URI: concurrent calls open at most 3 connections", async () => {
  const app = `diagnose_t2_${runId()}`;
  const store = (await openStore(`${urlFor(app)}&schema=${schema}&poolSize=3`)) as PostgresStore;
  try {
    store.watch(() => {});
    let most = 0;
    const counting = (async () => {
      for (let i = 0; i < 20; i++) {
        most = Math.max(most, await connectionsOf(app));
        await sleep(20);
      }
    })();
    for (let i = 0; i < 5; i++) await busy(store, `pool${i}`);
    await counting;
    assert.ok(most >= 1 && most <= 3, `at most 3 connections, saw ${most}`);
    assert.ok((await connectionsOf(app)) <= 3);
  } finally {
    await store.close();
  }
});

/** The server process of each connection the application has open. */
async function backendsOf(app: string): Promise<number[]> {
  const pg = (await import("pg")).default;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const { rows } = await c.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [app]);
    return rows.map((r) => r.pid as number);
  } finally {
    await c.end();
  }
}

test("a statement the server never answers times out, and the next call runs on a new connection, not behind it", async () => {
  const app = `diagnose_t3_${runId()}`;
  const store = postgresStore({ url: urlFor(app), schema, queryTimeout: 1_000 });
  let stopped: number | undefined;
  try {
    await store.put("never-answered", doc("n"));
    const [backend, ...others] = await backendsOf(app);
    assert.ok(backend !== undefined && others.length === 0, "one connection");
    // The server process of the store's one connection stops: no answer, and no statement_timeout
    // either (that needs the process to run). Only the driver's own read timeout can end the call.
    process.kill(backend, "SIGSTOP");
    stopped = backend;
    await assert.rejects(store.list(), /Query read timeout/);
    // The stuck connection was dropped: this call opens a new one instead of queueing behind the
    // stopped statement (where it would time out too).
    const snapshot = await store.list();
    assert.ok(snapshot.specs.some((s) => s.id === "never-answered"));
    const now = await backendsOf(app);
    assert.ok(
      now.some((pid) => pid !== backend),
      `a new connection beside ${backend}: ${now.join(", ")}`,
    );
  } finally {
    if (stopped !== undefined) process.kill(stopped, "SIGCONT");
    await store.close();
  }
});

test("a bad poolSize is refused", async () => {
  await assert.rejects(openStore(`${PG_URL}?poolSize=0`), { code: "DIAGNOSE_INVALID_STORE_URI" });
  await assert.rejects(openStore(`${PG_URL}?poolSize=many`), { code: "DIAGNOSE_INVALID_STORE_URI" });
  assert.throws(() => postgresStore({ url: PG_URL, poolSize: 1.5 }), { code: "DIAGNOSE_INVALID_STORE_URI" });
});
