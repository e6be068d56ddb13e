/**
 * Fleet propagation (issue 12): N real child processes each run a manager on one store; the
 * parent writes a spec and measures, per process, the wall-clock time until that process's apply
 * has it; then the fleet idles and each process reports its store calls and CPU. Per store:
 * Redis and PostgreSQL (servers on loopback, private prefix / schema), the file store (a private
 * folder), MongoDB on nx-27017 (the polling fallback, at 1 s and at the default 5 s; skipped when
 * nx-27017 is not installed; --quick: 1 s only). Run on its own: `node dist/benchmarks/fleet-run.js --help`.
 *
 * The counted store calls are the manager's (list, reportStatus, …); a feed's own traffic is
 * added from what it does by design: MongoDB's fallback polls two queries per period.
 */
import { fork, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileStore } from "../runtime/manager/stores/file.js";
import { mongodbStore } from "../runtime/manager/stores/mongodb.js";
import { postgresStore } from "../runtime/manager/stores/postgres.js";
import { redisStore } from "../runtime/manager/stores/redis.js";
import type { SpecStore } from "../runtime/manager/stores/contract.js";
import { DIST, REPO } from "./paths.js";
import { nx27017Files, type Nx27017Files } from "./nx27017.js";
import { spawn } from "node:child_process";
import { createServer } from "node:net";

export interface FleetStoreResult {
  readonly store: string;
  readonly processes: number;
  readonly rounds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Applies that did not arrive within the round's 15 s (counted as slower than any that did). */
  readonly missed: number;
  /** Store requests per process per minute with nothing changing. */
  readonly idleRequestsPerMin: number;
  /** Manager CPU per process while idle, in % of one core. */
  readonly idleCpuPercent: number;
  readonly note: string;
}

export type FleetResult = {
  readonly processes: number;
  readonly stores: (FleetStoreResult | { store: string; skipped: string })[];
};

const REDIS = process.env["DIAGNOSE_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6379";
const PG = process.env["DIAGNOSE_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** The stores a fleet run can cover; "mongodb" is one row per poll period (`mongoPollMs`). */
export const FLEET_STORES = ["redis", "postgres", "file", "mongodb"] as const;
export type FleetStoreName = (typeof FLEET_STORES)[number];

export interface FleetOptions {
  readonly processes: number;
  readonly rounds: number;
  readonly idleMs: number;
  readonly stores: readonly FleetStoreName[];
  /** MongoDB poll periods, one row each (ms). */
  readonly mongoPollMs: readonly number[];
}

/** What `npm run bench` runs: 5 processes in --quick, 50 in full (and `fleet-run.js` by default). */
export function fleetOptions(quick: boolean): FleetOptions {
  return quick
    ? // The 5 s poll only in full runs: its rounds take seconds each, and the smoke test runs --quick.
      { processes: 5, rounds: 3, idleMs: 3_000, stores: FLEET_STORES, mongoPollMs: [1_000] }
    : { processes: 50, rounds: 10, idleMs: 60_000, stores: FLEET_STORES, mongoPollMs: [1_000, 5_000] };
}

interface FleetCase {
  name: string;
  uri: string;
  writer: () => SpecStore;
  note: string;
  /** Requests the feed makes by design that the child cannot count (MongoDB's polls), per minute. */
  extraPerMin?: number;
  cleanup?: () => Promise<void>;
}

export async function measureFleet(
  quickOrOptions: boolean | FleetOptions,
  log: (line: string) => void,
): Promise<FleetResult> {
  const o = typeof quickOrOptions === "boolean" ? fleetOptions(quickOrOptions) : quickOrOptions;
  const tag = `fleetbench${process.pid}`;
  const stores: FleetResult["stores"] = [];
  const cases: FleetCase[] = [];
  let mongo: ChildProcess | undefined;
  let mongoFiles: Nx27017Files | undefined;
  if (o.stores.includes("redis"))
    cases.push({
      name: "redis (pub/sub)",
      uri: `${REDIS}?prefix=${tag}:`,
      writer: () => redisStore({ url: REDIS, prefix: `${tag}:` }),
      note: "push",
      cleanup: () => dropRedisPrefix(`${tag}:`),
    });
  if (o.stores.includes("postgres"))
    cases.push({
      name: "postgres (LISTEN/NOTIFY)",
      uri: `${PG}?schema=${tag}`,
      writer: () => postgresStore({ url: PG, schema: tag }),
      note: "push",
      cleanup: async () => {
        const pg = (await import("pg")).default;
        const c = new pg.Client({ connectionString: PG });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${tag}" CASCADE`);
        await c.end();
      },
    });
  if (o.stores.includes("file")) {
    const dir = mkdtempSync(join(tmpdir(), "diagnose-fleet-"));
    const file = join(dir, "specs.json");
    cases.push({
      name: "file (fs.watch)",
      uri: `file:${file}`,
      writer: () => fileStore(file),
      note: "fs.watch, a stat every 2 s",
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    });
  }
  if (o.stores.includes("mongodb")) {
    const nx = process.env["DIAGNOSE_NX27017"] ?? join(REPO, ".tmp/venv/bin/nx-27017");
    if (existsSync(nx)) {
      const port = await freePort();
      mongoFiles = nx27017Files();
      mongo = spawn(nx, mongoFiles.args(port), { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      mongo.stderr?.on("data", (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-2_000);
      });
      let exited = "";
      mongo.once("exit", (code, signal) => {
        exited = ` (it exited: ${signal ?? code})`;
      });
      // A Python server can take long to start on a loaded machine: a server that never listens is
      // this store's rows reported as skipped, not the whole benchmark failed.
      if (await waitPort(port)) {
        const url = `mongodb://127.0.0.1:${port}/diagnose`;
        for (const period of o.mongoPollMs) {
          const collection = `${tag}_${period}`;
          cases.push({
            name: `mongodb (nx-27017, polling ${period / 1000} s)`,
            uri: `${url}?collection=${collection}${period === 5_000 ? "" : `&pollInterval=${period}`}`,
            writer: () => mongodbStore({ url, collection }),
            note: `poll every ${period / 1000} s ± 20%`,
            extraPerMin: MONGO_QUERIES_PER_POLL * (60_000 / period),
          });
        }
      } else
        stores.push({
          store: "mongodb",
          skipped: `nx-27017 did not listen on ${port} within 60 s${exited}: ${stderr.trim()}`,
        });
    } else stores.push({ store: "mongodb", skipped: `nx-27017 not found at ${nx}` });
  }

  try {
    for (const c of cases) {
      try {
        stores.push(await measureOne(c, o));
        const last = stores[stores.length - 1] as FleetStoreResult;
        log(
          `fleet ${c.name}: p50 ${last.p50Ms.toFixed(0)} ms, p99 ${last.p99Ms.toFixed(0)} ms, max ${last.maxMs.toFixed(0)} ms, missed ${last.missed}, idle ${last.idleRequestsPerMin.toFixed(1)} req/min, CPU ${last.idleCpuPercent.toFixed(3)}%`,
        );
      } catch (e) {
        stores.push({ store: c.name, skipped: `failed: ${String(e)}` });
        log(`fleet ${c.name}: failed: ${String(e)}`);
      } finally {
        await c.cleanup?.().catch(() => {});
      }
    }
  } finally {
    mongo?.kill("SIGKILL");
    mongoFiles?.remove();
  }
  return { processes: o.processes, stores };
}

/** The MongoDB store's poll: the write counter and the specs' ids and versions (see mongodb.ts, `#poll`). */
const MONGO_QUERIES_PER_POLL = 2;

async function dropRedisPrefix(prefix: string): Promise<void> {
  const { Redis } = await import("ioredis");
  const c = new Redis(REDIS, { maxRetriesPerRequest: 1 });
  try {
    const keys = await c.keys(`${prefix}*`);
    if (keys.length > 0) await c.del(...keys);
  } finally {
    c.disconnect();
  }
}

async function measureOne(c: FleetCase, o: FleetOptions): Promise<FleetStoreResult> {
  const { name, uri, note } = c;
  const { processes: n, rounds, idleMs } = o;
  const extraPerMin = c.extraPerMin ?? 0;
  const writer = c.writer();
  const children: ChildProcess[] = [];
  try {
    await writer.list();
    const ready: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const child = fork(join(DIST, "benchmarks", "fleet-child.js"), [uri, String(i)], {
        // The benchmark spec targets a module no child loads: its "still pending" warning is expected.
        execArgv: ["--no-warnings"],
        stdio: ["ignore", "ignore", "inherit", "ipc"],
      });
      children.push(child);
      ready.push(
        new Promise((res, rej) => {
          child.on("message", (m: { kind: string }) => {
            if (m.kind === "ready") res();
          });
          child.once("exit", (code) => rej(new Error(`fleet child exited with ${code}`)));
        }),
      );
    }
    await Promise.all(ready);
    let missed = 0;
    const delays: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const id = `round-${r}`;
      // Only applies after the write count: a process sends its full id list after each apply.
      const firstAt = new Map<number, number>();
      const listeners = children.map((child, i) => {
        const l = (m: { kind: string; at: number; ids: string[] }): void => {
          if (m.kind === "applied" && m.ids.includes(id) && !firstAt.has(i)) firstAt.set(i, m.at);
        };
        child.on("message", l);
        return l;
      });
      const t0 = Date.now();
      await writer.put(id, {
        target: "src/none.ts:f",
        instrument: { type: "log", name: id, value: "result" },
        lifespan: 10,
        lastmodified: new Date(),
      });
      const deadline = Date.now() + 15_000;
      while (firstAt.size < n && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
      children.forEach((c, i) => {
        c.off("message", listeners[i] as never);
      });
      missed += n - firstAt.size;
      for (const at of firstAt.values()) delays.push(Math.max(0, at - t0));
      for (let i = firstAt.size; i < n; i++) delays.push(Number.POSITIVE_INFINITY);
      await new Promise((res) => setTimeout(res, 300));
    }
    // Idle: nothing changes.
    await new Promise((res) => setTimeout(res, 1_500));
    for (const c of children) c.send("mark");
    await new Promise((res) => setTimeout(res, idleMs));
    const idle = await Promise.all(
      children.map(
        (c) =>
          new Promise<{ calls: number; ms: number; cpuUs: number }>((res) => {
            const l = (m: { kind: string; calls: number; ms: number; cpuUs: number }): void => {
              if (m.kind === "idle") {
                c.off("message", l);
                res(m);
              }
            };
            c.on("message", l);
            c.send("idle?");
          }),
      ),
    );
    delays.sort((a, b) => a - b);
    const q = (p: number): number => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))] ?? NaN;
    const perMin = idle.reduce((s, x) => s + (x.calls / x.ms) * 60_000, 0) / idle.length + extraPerMin;
    const cpu = idle.reduce((s, x) => s + x.cpuUs / 1000 / x.ms, 0) / idle.length;
    return {
      store: name,
      processes: n,
      rounds,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      maxMs: delays[delays.length - 1] ?? NaN,
      missed,
      idleRequestsPerMin: perMin,
      idleCpuPercent: cpu * 100,
      note,
    };
  } finally {
    for (const c of children) {
      if (c.connected) c.send("stop");
    }
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((res) => {
            if (c.exitCode !== null) return res();
            const t = setTimeout(() => c.kill("SIGKILL"), 5_000);
            c.once("exit", () => {
              clearTimeout(t);
              res();
            });
          }),
      ),
    );
    await writer.close();
  }
}

/** A delay for the table; an apply that never came within the round's 15 s is "> 15 s". */
function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(0)} ms` : "> 15 s";
}

export function fleetText(r: FleetResult | { skipped: string } | undefined): string {
  if (r === undefined) return "Not measured in this run.";
  if ("skipped" in r) return `Skipped: ${r.skipped}.`;
  const rows = r.stores.map((s) =>
    "skipped" in s
      ? `| ${s.store} | skipped: ${s.skipped} | | | | |`
      : `| ${s.store} | ${ms(s.p50Ms)} | ${ms(s.p99Ms)} | ${s.idleRequestsPerMin.toFixed(1)} | ${s.idleCpuPercent.toFixed(3)}% | ${s.note}${s.missed > 0 ? `; ${s.missed} of ${s.processes * s.rounds} applies later than 15 s` : ""} |`,
  );
  return [
    `${r.processes} processes (real child processes on this machine), spec written → applied in every process.`,
    "",
    "| store | p50 | p99 | idle requests / process / min | idle CPU / process | feed |",
    "| --- | ---: | ---: | ---: | ---: | --- |",
    ...rows,
  ].join("\n");
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** True once something listens on `port`; false after 60 s. */
async function waitPort(port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  for (let i = 0; i < 600; i++) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        res(true);
      });
      s.once("error", () => res(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
