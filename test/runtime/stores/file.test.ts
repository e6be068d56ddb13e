/**
 * The file store with real files and real child processes: concurrent status writers, concurrent
 * compare-and-set writers, a writer killed mid-write, bad files while watched, and how fast a put
 * reaches another process's watch.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import type { SpecDocument } from "../../../runtime/manager/spec.js";
import type { StoreChange } from "../../../runtime/manager/stores/contract.js";
import { StoreFormatError, StoreUnavailableError } from "../../../runtime/manager/stores/errors.js";
import { fileStore, type FileStore } from "../../../runtime/manager/stores/file.js";
import { openStore } from "../../../runtime/manager/stores/uri.js";

const WORKER = fileURLToPath(new URL("./file-worker.js", import.meta.url));
const dirs: string[] = [];
const children = new Set<ChildProcess>();
const stores: FileStore[] = [];

after(async () => {
  for (const c of children) c.kill("SIGKILL");
  for (const s of stores) await s.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function folder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "diagnose-file-"));
  dirs.push(dir);
  return dir;
}

async function open(path: string, options: Parameters<typeof fileStore>[1] = {}): Promise<FileStore> {
  const store = fileStore(path, options);
  stores.push(store);
  return store;
}

function doc(fields: Record<string, unknown> = {}): SpecDocument {
  return {
    target: "src/shop/cart.ts:Cart.total",
    instrument: { type: "log", name: "total", value: "result", event: "return", custom: {} },
    lifespan: 10,
    lastmodified: new Date("2026-01-01T00:00:00.000Z"),
    ...fields,
  };
}

/** A worker process, with its stdout as parsed JSON lines. */
function worker(...args: string[]): {
  child: ChildProcess;
  lines: AsyncIterator<Record<string, unknown>>;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      children.delete(child);
      if (code !== 0 && code !== null) process.stderr.write(`worker ${args.join(" ")} failed: ${stderr}\n`);
      resolve(code);
    }),
  );
  const rl = createInterface({ input: child.stdout! });
  const lines = (async function* () {
    for await (const line of rl) yield JSON.parse(line) as Record<string, unknown>;
  })();
  return { child, lines, exit };
}

async function next(lines: AsyncIterator<Record<string, unknown>>, ms = 10_000): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    lines.next(),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no line within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
  assert.ok(!r.done, "the worker ended early");
  return r.value;
}

/** Collects the changes a watch delivers; `until` waits for one that matches. */
function recorder(store: FileStore) {
  const changes: StoreChange[] = [];
  let waiters: (() => void)[] = [];
  const sub = store.watch((c) => {
    changes.push(c);
    for (const w of waiters.splice(0)) w();
  });
  return {
    changes,
    sub,
    async until(kind: StoreChange["kind"], ms = 3000): Promise<StoreChange> {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = changes.find((c) => c.kind === kind);
        if (hit) {
          changes.splice(0);
          return hit;
        }
        const left = deadline - Date.now();
        if (left <= 0)
          assert.fail(`no "${kind}" change within ${ms} ms (got ${JSON.stringify(changes.map((c) => c.kind))})`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
  };
}

describe("file store: several processes", () => {
  it("four processes reporting status at once lose no report, while a fifth writes specs", async () => {
    const path = join(await folder(), "specs.json");
    const store = await open(path);
    await store.put("s", doc());
    const names = ["host:101", "host:102", "host/103", "ho st:104"];
    const reporters = names.map((name) => worker("status", path, name, "40"));
    const writer = worker("cas", path, "writer", "10");
    const codes = await Promise.all([...reporters, writer].map((w) => w.exit));
    assert.deepEqual(codes, [0, 0, 0, 0, 0]);
    const reports = await store.listStatus();
    assert.deepEqual(reports.map((r) => r.processId).sort(), [...names].sort());
    for (const r of reports) {
      assert.equal(r.specs["s"]?.hits, 39, `${r.processId} kept its last report`);
      assert.deepEqual(r.labels, { worker: r.processId });
    }
    const snapshot = await store.list();
    const s = snapshot.specs.find((x) => x.id === "s")!;
    assert.deepEqual(Object.keys(s.doc["applied"] as object).sort(), [...names].sort());
    assert.equal(snapshot.specs.find((x) => x.id === "counter")?.doc["counter"], 10);
  });

  it("concurrent compare-and-set writers: exactly one winner per version, no increment lost", async () => {
    const path = join(await folder(), "specs.json");
    const per = 12;
    const ws = ["a", "b", "c", "d"].map((name) => worker("cas", path, name, String(per)));
    const results = await Promise.all(ws.map((w) => next(w.lines, 60_000)));
    assert.deepEqual(await Promise.all(ws.map((w) => w.exit)), [0, 0, 0, 0]);
    const won = results.flatMap((r) => r["won"] as number[]).sort((x, y) => x - y);
    assert.deepEqual(
      won,
      Array.from({ length: 4 * per }, (_, i) => i + 1),
      "every counter value won exactly once",
    );
    const store = await open(path);
    assert.equal((await store.list()).specs[0]?.doc["counter"], 4 * per);
  });

  it("a writer killed with SIGKILL mid-loop: the file always parses, the lock is recovered, strays are cleaned", async () => {
    const dir = await folder();
    const path = join(dir, "specs.json");
    let locksLeft = 0;
    // At least three kills, and more (up to twelve) until one lands while the lock is held: on a
    // loaded machine the writer can spend a kill's moment outside the lock.
    for (let round = 0; round < 12 && (round < 3 || locksLeft === 0); round++) {
      const w = worker("writer", path, `killed-${round}`);
      await next(w.lines);
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 250));
      w.child.kill("SIGKILL");
      await w.exit;
      if (existsSync(`${path}.lock`)) locksLeft++;
      const text = await readFile(path, "utf8");
      const parsed = JSON.parse(text) as { version: number; specs: Record<string, unknown> };
      assert.equal(parsed.version, 1);
      assert.ok(Object.keys(parsed.specs).length > 0);
    }
    // The writer holds the lock nearly all the time, so a kill leaves it behind.
    assert.ok(locksLeft > 0, "no kill landed while the lock was held");
    // A fresh writer gets the lock a dead process holds, quickly (dead pid, not the age rule).
    const store = await open(path, { lockTimeoutMs: 3000 });
    const t0 = Date.now();
    await store.put("after", doc());
    assert.ok(Date.now() - t0 < 2500, `recovered the lock in ${Date.now() - t0} ms`);
    const names = await readdir(dir);
    assert.deepEqual(
      names.filter((n) => n.endsWith(".tmp") || n.endsWith(".lock") || n.endsWith(".stale")),
      [],
      names.join(", "),
    );
    const { specs } = await store.list();
    assert.ok(specs.some((s) => s.id === "after"));
  });

  it("a put is seen by another process's watch within 500 ms", async () => {
    const path = join(await folder(), "specs.json");
    const store = await open(path);
    await store.put("seed", doc());
    const w = worker("watch", path, "watcher");
    await next(w.lines);
    // Let the child's first (spare) ring pass.
    await new Promise((r) => setTimeout(r, 200));
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const stamp = `stamp-${i}`;
      const t0 = Date.now();
      await store.put("probe", doc({ stamp }));
      let line: Record<string, unknown>;
      do line = await next(w.lines, 3000);
      while (line["stamp"] !== stamp);
      latencies.push((line["at"] as number) - t0);
    }
    w.child.kill("SIGKILL");
    latencies.sort((a, b) => a - b);
    assert.ok(latencies.at(-1)! < 500, `put → seen latencies (ms): ${latencies.join(", ")}`);
  });
});

describe("file store: bad files", () => {
  it("a malformed file while watched: the last good snapshot is kept and the error reported, until it is fixed", async () => {
    const path = join(await folder(), "specs.json");
    const store = await open(path, { debounceMs: 20 });
    await store.put("good", doc());
    const good = await store.list();
    const watch = recorder(store);
    await writeFile(path, '{"version": 1, "specs": {"good": ');
    const change = await watch.until("error");
    assert.ok(
      change.kind === "error" && change.error instanceof StoreFormatError,
      String(change.kind === "error" && change.error),
    );
    assert.match(change.error.message, /not valid JSON/);
    const kept = await store.list();
    assert.equal(kept.revision, good.revision);
    assert.deepEqual(
      kept.specs.map((s) => s.id),
      ["good"],
    );
    assert.ok(store.lastError instanceof StoreFormatError);
    assert.match(store.lastError.message, /specs\.json/);
    // A write on a malformed file is refused: it may be someone's unsaved work.
    await assert.rejects(store.put("other", doc()), StoreFormatError);
    await writeFile(path, JSON.stringify({ version: 1, specs: { fixed: doc() } }));
    await watch.until("changed");
    assert.equal(store.lastError, null);
    assert.deepEqual(
      (await store.list()).specs.map((s) => s.id),
      ["fixed"],
    );
    watch.sub.close();
  });

  it("wrong shapes and a newer format are errors with the last good kept", async () => {
    const path = join(await folder(), "specs.json");
    const store = await open(path);
    await store.put("good", doc());
    const cases: [string, RegExp][] = [
      ["[1,2]", /must hold a JSON object/],
      ['{"version": 1, "specs": [1]}', /"specs" must be an object/],
      ['{"version": 2, "specs": {}}', /newer Diagnose/],
      ['{"version": "one", "specs": {}}', /unknown "version"/],
    ];
    for (const [text, message] of cases) {
      await writeFile(path, text);
      const { specs } = await store.list();
      assert.deepEqual(
        specs.map((s) => s.id),
        ["good"],
        text,
      );
      assert.match(store.lastError?.message ?? "", message, text);
    }
  });

  it("a malformed file with no good copy yet: list rejects with a clear error; a missing file is empty", async () => {
    const path = join(await folder(), "specs.json");
    const store = await open(path);
    assert.deepEqual((await store.list()).specs, []);
    assert.equal(store.lastError, null);
    await writeFile(path, "not json");
    await assert.rejects(
      store.list(),
      (e: unknown) => e instanceof StoreFormatError && /not valid JSON/.test(e.message),
    );
    await writeFile(path, "");
    assert.deepEqual((await store.list()).specs, [], "an empty file is an empty spec set");
  });

  it("a file deleted while watched keeps the last good snapshot and reports it; a replaced file is read", async () => {
    const dir = await folder();
    const path = join(dir, "specs.json");
    const store = await open(path, { debounceMs: 20 });
    await store.put("good", doc());
    await store.list();
    const watch = recorder(store);
    await rm(path);
    const change = await watch.until("error");
    assert.ok(change.kind === "error" && change.error instanceof StoreUnavailableError);
    assert.match(change.error.message, /was deleted/);
    assert.deepEqual(
      (await store.list()).specs.map((s) => s.id),
      ["good"],
    );
    // Replaced by another file renamed over it (as editors and deploy tools do).
    const other = join(dir, "incoming.json");
    await writeFile(other, JSON.stringify({ version: 1, specs: { replaced: doc() } }));
    await rename(other, path);
    await watch.until("changed");
    assert.equal(store.lastError, null);
    assert.deepEqual(
      (await store.list()).specs.map((s) => s.id),
      ["replaced"],
    );
    watch.sub.close();
  });

  it("a file over the size limit is refused unread, and a put that would exceed it writes nothing", async () => {
    const path = join(await folder(), "specs.json");
    const store = await open(path, { maxFileBytes: 4096 });
    await store.put("small", doc());
    await writeFile(path, JSON.stringify({ version: 1, specs: { big: doc({ blob: "x".repeat(10_000) }) } }));
    const { specs } = await store.list();
    assert.deepEqual(
      specs.map((s) => s.id),
      ["small"],
    );
    assert.match(store.lastError?.message ?? "", /more than the limit of 4096 bytes/);
    await writeFile(path, JSON.stringify({ version: 1, specs: {} }));
    await assert.rejects(store.put("big", doc({ blob: "x".repeat(10_000) })), /larger than/);
    assert.deepEqual(JSON.parse(await readFile(path, "utf8")), { version: 1, specs: {} });
  });

  it("keeps unknown top-level fields and writes dates as ISO strings, revived on read", async () => {
    const path = join(await folder(), "specs.json");
    await writeFile(
      path,
      JSON.stringify({
        version: 1,
        comment: "owned by the shop team",
        specs: { py: { ...doc(), lastmodified: "2026-02-03T04:05:06" } },
      }),
    );
    const store = await open(path);
    const [py] = (await store.list()).specs;
    assert.equal(
      (py!.doc["lastmodified"] as Date).toISOString(),
      "2026-02-03T04:05:06.000Z",
      "a zone-less date (Python's) is UTC",
    );
    await store.put("ts", doc());
    const onDisk = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown> & {
      specs: Record<string, Record<string, unknown>>;
    };
    assert.equal(onDisk["comment"], "owned by the shop team");
    assert.equal(onDisk.specs["ts"]?.["lastmodified"], "2026-01-01T00:00:00.000Z");
    assert.equal(onDisk.specs["ts"]?.["applied"], undefined, "status lives in the status files");
  });

  it("a put returns the version a later list reports, and a hand edit changes it", async () => {
    const path = join(await folder(), "specs.json");
    const store = await open(path);
    const v = await store.put("s", { ...doc(), lastmodified: "2026-01-01T00:00:00Z" });
    assert.equal((await store.list()).specs[0]?.version, v);
    const file = JSON.parse(await readFile(path, "utf8")) as { specs: Record<string, Record<string, unknown>> };
    file.specs["s"]!["lifespan"] = 20;
    await writeFile(path, JSON.stringify(file));
    assert.notEqual((await store.list()).specs[0]?.version, v);
  });
});

describe("file store: status files", () => {
  it("each process writes its own file; files of processes gone past the retention are pruned", async () => {
    const path = join(await folder(), "specs.json");
    const store = await open(path, { statusRetentionMs: 60_000 });
    const at = new Date();
    await store.reportStatus({ processId: "gone:1", labels: {}, at, specs: {} });
    await store.reportStatus({ processId: "../../etc/passwd", labels: {}, at, specs: {} });
    const names = await readdir(`${path}.status`);
    assert.equal(names.length, 2);
    assert.ok(
      names.every((n) => !n.includes("/") && n.endsWith(".json")),
      names.join(", "),
    );
    const old = new Date(Date.now() - 120_000);
    await utimes(join(`${path}.status`, names.find((n) => n.startsWith("gone"))!), old, old);
    await writeFile(join(`${path}.status`, "x.json.1-dead.tmp"), "{");
    await utimes(join(`${path}.status`, "x.json.1-dead.tmp"), old, old);
    await writeFile(join(`${path}.status`, "junk.json"), "not json");
    // A second store instance prunes on its first report.
    const other = await open(path, { statusRetentionMs: 60_000 });
    await other.reportStatus({ processId: "alive:2", labels: {}, at, specs: {} });
    assert.deepEqual(
      (await other.listStatus()).map((r) => r.processId),
      ["../../etc/passwd", "alive:2"],
      "a malformed status file is skipped",
    );
    assert.ok(!(await readdir(`${path}.status`)).some((n) => n.endsWith(".tmp")));
  });
});

describe("file store: the lock", () => {
  it("a lock of a live holder makes a write wait, then fail with a clear error", async () => {
    const path = join(await folder(), "specs.json");
    await writeFile(
      `${path}.lock`,
      JSON.stringify({ pid: process.pid, host: hostname(), token: "someone-else", at: new Date().toISOString() }),
    );
    const store = await open(path, { lockTimeoutMs: 300 });
    const t0 = Date.now();
    await assert.rejects(
      store.put("s", doc()),
      (e: unknown) =>
        e instanceof StoreUnavailableError &&
        /held by process/.test(e.message) &&
        /delete the lock file/.test(e.message),
    );
    assert.ok(Date.now() - t0 >= 250);
    assert.ok(existsSync(`${path}.lock`), "a live holder's lock is not broken");
  });

  it("locks of dead processes, of another host past the age limit, and empty ones are broken", async () => {
    const path = join(await folder(), "specs.json");
    const store = await open(path, { lockTimeoutMs: 3000, lockStaleMs: 2000 });
    // A pid that cannot be alive.
    await writeFile(
      `${path}.lock`,
      JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), token: "dead", at: new Date().toISOString() }),
    );
    await store.put("a", doc());
    const old = new Date(Date.now() - 60_000);
    await writeFile(`${path}.lock`, JSON.stringify({ pid: 1, host: "elsewhere", token: "old", at: old.toISOString() }));
    await utimes(`${path}.lock`, old, old);
    await store.put("b", doc());
    await writeFile(`${path}.lock`, "");
    const aged = new Date(Date.now() - 1500);
    await utimes(`${path}.lock`, aged, aged);
    await store.put("c", doc());
    assert.deepEqual(
      (await store.list()).specs.map((s) => s.id),
      ["a", "b", "c"],
    );
    await assert.rejects(stat(`${path}.lock`), /ENOENT/);
  });

  it("stray tmp files are ignored by readers and cleaned by the next writer", async () => {
    const dir = await folder();
    const path = join(dir, "specs.json");
    const store = await open(path);
    await store.put("a", doc());
    await writeFile(`${path}.999-dead.tmp`, '{"half":');
    assert.deepEqual(
      (await store.list()).specs.map((s) => s.id),
      ["a"],
    );
    assert.equal(store.lastError, null);
    await store.put("b", doc());
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.endsWith(".tmp")),
      [],
    );
  });
});

describe("openStore", () => {
  it("opens memory: and file: stores; file paths are relative to the current directory", async () => {
    const memory = await openStore("memory:");
    assert.equal(memory.description, "memory:");
    await memory.close();
    const dir = await folder();
    const byUrl = await openStore(`file://${join(dir, "a.json")}`);
    assert.equal(byUrl.description, `file:${join(dir, "a.json")}`);
    await byUrl.close();
    const relative = await openStore("file:./diagnose-specs.json");
    assert.equal(relative.description, `file:${join(process.cwd(), "diagnose-specs.json")}`);
    await relative.close();
  });

  it("refuses unknown schemes, naming the known ones, without credentials", async () => {
    for (const uri of [
      "mongo://admin:hunter2@db:27017/app",
      "memcached://:s3cret@cache",
      "ftp://x",
      "./specs.json",
      "",
    ]) {
      await assert.rejects(openStore(uri), (e: unknown) => {
        assert.ok(e instanceof Error && (e as { code?: string }).code === "DIAGNOSE_INVALID_STORE_URI", String(e));
        assert.match(e.message, /memory:, file:/);
        assert.doesNotMatch(e.message, /hunter2|s3cret/);
        return true;
      });
    }
  });
});
