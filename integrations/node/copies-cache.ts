/**
 * Where the loader keeps deferred copy text (site ABI 4, docs/node-loader.md): a cache directory of
 * content-addressed files, `<sha256>.js`, written once by whichever thread compiles the module and
 * read by the main thread's registry only when a probe first needs the module's copies. The text
 * then costs the process no heap until it is used, and survives restarts (a file that exists is
 * reused: the registry checks every text against its hash before it runs, so a stale or planted
 * file is refused, never evaluated).
 *
 * `DIAGNOSE_COPIES_DIR` names the directory; `memory` keeps the text in the process instead (the
 * fallback whenever the directory cannot be written). Default: `diagnose-copies-<uid>` in the
 * system's temporary directory. The directory is used only if it is this user's own and no one
 * else can write to it (checked once per process): in a shared temporary directory another user
 * could create it first, and though a file planted there is never run (its hash would not match),
 * it would stand in for the real text and leave the probes of that module unavailable.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The cache directory, or null for in-memory text. */
export function copiesDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const value = env["DIAGNOSE_COPIES_DIR"];
  if (value === "memory") return null;
  if (value !== undefined && value !== "") return resolve(value);
  const uid = typeof process.getuid === "function" ? process.getuid() : "user";
  return join(tmpdir(), `diagnose-copies-${uid}`);
}

const unwritable = new Set<string>();
const checked = new Set<string>();

/**
 * Creates `dir` (owner-only) if needed and checks that it is a real directory (not a link), owned by
 * this process's user, and not writable by group or others. Throws when it is not.
 */
function ensurePrivateDir(dir: string): void {
  if (checked.has(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (uid !== undefined && stat.uid !== uid) throw new Error(`${dir} belongs to another user`);
  if (uid !== undefined && (stat.mode & 0o022) !== 0) throw new Error(`${dir} is writable by others`);
  checked.add(dir);
}

/**
 * Writes `text` as `<hash>.js` unless it exists (with `replace`, also then: the file found was not
 * that text); false when the directory cannot be written or is not this user's private directory
 * (the caller then keeps the text in memory).
 */
export function writeCopies(dir: string, hash: string, text: string, replace = false): boolean {
  if (unwritable.has(dir)) return false;
  const file = join(dir, `${hash}.js`);
  try {
    ensurePrivateDir(dir);
    if (!replace && existsSync(file)) return true;
    // Written aside and renamed: a reader never sees half a file (and would refuse it anyway).
    const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(temp, text);
    renameSync(temp, file);
    return true;
  } catch {
    unwritable.add(dir);
    return false;
  }
}

/** The text of `<hash>.js` in `dir`, or undefined. */
export function readCopies(dir: string, hash: string): string | undefined {
  if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
  try {
    return readFileSync(join(dir, `${hash}.js`), "utf8");
  } catch {
    return undefined;
  }
}
