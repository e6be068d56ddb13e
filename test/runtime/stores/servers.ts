/**
 * Real servers for the database store tests: the Redis and PostgreSQL servers this machine runs on
 * loopback, private ones a test can kill and restart (redis-server on another port, a throwaway
 * PostgreSQL cluster), and nx-27017 (a MongoDB wire-protocol server from PyPI, installed by .ci/run).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { nx27017Files, type Nx27017Files } from "../../../benchmarks/nx27017.js";

export const REDIS_URL = process.env["DIAGNOSE_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6379";
export const PG_URL = process.env["DIAGNOSE_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";

export function runId(): string {
  return `${process.pid}_${randomBytes(3).toString("hex")}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

/** Resolves once something accepts connections on the port. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        res(true);
      });
      s.once("error", () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Deletes every key under a prefix (SCAN + DEL). */
export async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = await import("ioredis");
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await c.connect();
    let cursor = "0";
    do {
      const [next, keys] = await c.scan(cursor, "MATCH", `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await c.del(...keys);
    } while (cursor !== "0");
  } finally {
    c.disconnect();
  }
}

/** A private redis-server without persistence, to kill and restart. */
export class PrivateRedis {
  child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly extra: string[] = [],
  ) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  static async start(extra: string[] = []): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort(), extra);
    await r.restart();
    return r;
  }
  async restart(): Promise<void> {
    this.child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...this.extra],
      {
        stdio: "ignore",
      },
    );
    await waitForPort(this.port);
  }
  /** kill -9, and waits for the process to be gone. */
  async kill(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    await new Promise<void>((res) => {
      c.once("exit", () => res());
      c.kill("SIGKILL");
    });
  }
}

export async function dropPgSchema(url: string, schema: string): Promise<void> {
  const pg = (await import("pg")).default;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema.replace(/"/g, '""')}" CASCADE`);
  } finally {
    await c.end();
  }
}

const PG_BIN = "/usr/lib/postgresql/15/bin";

/**
 * A throwaway PostgreSQL cluster on its own port. initdb refuses to run as root, so as root the
 * cluster's folder is given to the `postgres` OS user and the binaries run as that user (runuser).
 */
export class PrivatePostgres {
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }
  static available(): string | undefined {
    if (!existsSync(join(PG_BIN, "initdb"))) return `no PostgreSQL 15 binaries in ${PG_BIN}`;
    return undefined;
  }
  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), "diagnose-pg-"));
    const p = new PrivatePostgres(await freePort(), dir);
    p.#asOwner();
    p.#run(join(PG_BIN, "initdb"), ["-D", p.#data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    await p.restart();
    return p;
  }
  get #data(): string {
    return join(this.dir, "data");
  }
  #asOwner(): void {
    if (process.getuid?.() !== 0) return;
    const id = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    chownSync(this.dir, Number(id.stdout.trim()), Number(gid.stdout.trim()));
    chmodSync(this.dir, 0o700);
  }
  #run(cmd: string, args: string[]): void {
    const asRoot = process.getuid?.() === 0;
    const r = asRoot
      ? spawnSync("runuser", ["-u", "postgres", "--", cmd, ...args], { encoding: "utf8" })
      : spawnSync(cmd, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  }
  async restart(): Promise<void> {
    this.#run(join(PG_BIN, "pg_ctl"), [
      "-D",
      this.#data,
      "-l",
      join(this.dir, "log"),
      "-o",
      `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off`,
      "-w",
      "start",
    ]);
    await waitForPort(this.port);
  }
  /** kill -9 of the postmaster (an immediate stop, as a crash). */
  async kill(): Promise<void> {
    this.#run(join(PG_BIN, "pg_ctl"), ["-D", this.#data, "-m", "immediate", "-w", "stop"]);
  }
  async destroy(): Promise<void> {
    try {
      await this.kill();
    } catch {
      // Already stopped.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The nx-27017 executable: `DIAGNOSE_NX27017` (set by .ci/run), else .tmp/venv/bin/nx-27017. */
export function nxPath(): string | undefined {
  const env = process.env["DIAGNOSE_NX27017"];
  if (env !== undefined && env !== "" && existsSync(env)) return env;
  const local = resolve(".tmp/venv/bin/nx-27017");
  return existsSync(local) ? local : undefined;
}

/** A private nx-27017 (in-memory database) to kill and restart. */
export class PrivateMongo {
  child: ChildProcess | undefined;
  private files: Nx27017Files | undefined;
  constructor(
    readonly bin: string,
    readonly port: number,
  ) {}
  get url(): string {
    return `mongodb://127.0.0.1:${this.port}/diagnose`;
  }
  static async start(bin: string): Promise<PrivateMongo> {
    const m = new PrivateMongo(bin, await freePort());
    await m.restart();
    return m;
  }
  async restart(): Promise<void> {
    this.files ??= nx27017Files();
    const child = spawn(this.bin, this.files.args(this.port), { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    // What the server said, so a server that never listens fails the test with its reason.
    let said = "";
    child.stderr?.on("data", (d: Buffer) => {
      said = (said + d.toString()).slice(-2_000);
    });
    let failed = "";
    child.once("error", (e) => {
      failed = `spawn failed: ${e.message}`;
    });
    child.once("exit", (code, signal) => {
      failed ||= `exited with ${signal ?? code}`;
    });
    try {
      await waitForPort(this.port, 30_000);
    } catch (e) {
      throw new Error(`nx-27017 (${this.bin}) did not listen: ${failed || "still running"}; stderr: ${said.trim()}`, {
        cause: e,
      });
    }
  }
  /** Kills the server (SIGKILL) and deletes its PID and log files; `restart()` starts it again. */
  async kill(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (c !== undefined && c.exitCode === null && c.signalCode === null) {
      await new Promise<void>((res) => {
        c.once("exit", () => res());
        c.kill("SIGKILL");
      });
    }
    this.files?.remove();
    this.files = undefined;
  }
}
