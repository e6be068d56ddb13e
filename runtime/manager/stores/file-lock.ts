/**
 * The spec file's writer lock: `<file>.lock`, created with `wx` (exclusive create), holding
 * `{pid, host, token, at}`. Writers hold it for one read-modify-write, milliseconds.
 *
 * A lock is stale, and broken, when its process is gone (same host, pid not alive), when it is
 * older than `staleMs`, or when it is still empty a second after it was created (a writer killed
 * between create and write). Breaking renames the lock aside and checks it took the lock it judged
 * stale; a writer also checks it still holds the lock just before its rename, which narrows the
 * race of two breakers to a window no single-host writer has hit in tests.
 */
import { randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import { hostname } from "node:os";
import { StoreUnavailableError } from "./errors.js";

export interface LockOptions {
  readonly timeoutMs: number;
  readonly staleMs: number;
  /** The store's description, for errors. */
  readonly store: string;
}

interface LockInfo {
  readonly pid?: unknown;
  readonly host?: unknown;
  readonly token?: unknown;
  readonly at?: unknown;
}

const EMPTY_GRACE_MS = 1000;
const HOST = hostname();

/** A held lock. */
export interface HeldLock {
  /** Rejects when another writer broke the lock (this writer was stalled past `staleMs`). */
  check(): Promise<void>;
}

/** Runs `work` while holding the lock at `lockPath`. */
export async function withLock<T>(
  lockPath: string,
  options: LockOptions,
  work: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  const token = await acquire(lockPath, options);
  const lock: HeldLock = {
    async check() {
      const info = await readInfo(lockPath);
      if (info?.token !== token) {
        throw new StoreUnavailableError(
          options.store,
          `the lock ${lockPath} was taken over while this write held it; nothing was written. Retry.`,
        );
      }
    },
  };
  try {
    return await work(lock);
  } finally {
    const info = await readInfo(lockPath).catch(() => null);
    if (info?.token === token) await fsp.rm(lockPath, { force: true }).catch(() => {});
  }
}

async function acquire(lockPath: string, options: LockOptions): Promise<string> {
  const token = `${process.pid}-${randomBytes(8).toString("hex")}`;
  const deadline = Date.now() + options.timeoutMs;
  let wait = 2;
  let holder: LockInfo | null = null;
  for (;;) {
    try {
      const handle = await fsp.open(lockPath, "wx", 0o644);
      try {
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: HOST, token, at: new Date().toISOString() }));
      } finally {
        await handle.close();
      }
      return token;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new StoreUnavailableError(
          options.store,
          `cannot create the lock file ${lockPath} (${(e as Error).message}).`,
          { cause: e },
        );
      }
    }
    holder = await readInfo(lockPath);
    if (await isStale(lockPath, holder, options.staleMs)) {
      await breakLock(lockPath, holder);
      continue;
    }
    if (Date.now() >= deadline) {
      const who =
        holder === null
          ? "another writer"
          : `process ${String(holder.pid)} on ${String(holder.host)} since ${String(holder.at)}`;
      throw new StoreUnavailableError(
        options.store,
        `the lock file ${lockPath} has been held by ${who} for more than ${options.timeoutMs} ms. ` +
          "If that process is gone, delete the lock file.",
      );
    }
    // Jittered, growing waits: writers that collided do not retry in lockstep.
    await new Promise((resolve) => setTimeout(resolve, wait / 2 + Math.random() * wait));
    wait = Math.min(wait * 2, 50);
  }
}

/** The lock's content; null when it is gone; `{}` when it is empty or unreadable. */
async function readInfo(lockPath: string): Promise<LockInfo | null> {
  let text: string;
  try {
    text = await fsp.readFile(lockPath, "utf8");
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? null : {};
  }
  try {
    const info = JSON.parse(text) as unknown;
    return typeof info === "object" && info !== null ? (info as LockInfo) : {};
  } catch {
    return {};
  }
}

async function isStale(lockPath: string, info: LockInfo | null, staleMs: number): Promise<boolean> {
  if (info === null) return false; // released meanwhile: retry at once
  let age: number;
  try {
    age = Date.now() - (await fsp.stat(lockPath)).mtimeMs;
  } catch {
    return false;
  }
  if (age > staleMs) return true;
  if (info.token === undefined) return age > EMPTY_GRACE_MS;
  if (info.host === HOST && typeof info.pid === "number") return !isAlive(info.pid);
  return false;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by another user.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function breakLock(lockPath: string, judged: LockInfo | null): Promise<void> {
  const aside = `${lockPath}.${randomBytes(6).toString("hex")}.stale`;
  try {
    await fsp.rename(lockPath, aside);
  } catch {
    return; // someone else broke or released it
  }
  const taken = await readInfo(aside);
  if (taken?.token !== judged?.token) {
    // Between judging and renaming, another writer replaced the stale lock with a live one: put it back.
    await fsp.link(aside, lockPath).catch(() => {});
  }
  await fsp.rm(aside, { force: true }).catch(() => {});
}
