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
 * system's temporary directory.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
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

/** Writes `text` as `<hash>.js` unless it exists; false when the directory cannot be written. */
export function writeCopies(dir: string, hash: string, text: string): boolean {
  if (unwritable.has(dir)) return false;
  const file = join(dir, `${hash}.js`);
  try {
    if (existsSync(file)) return true;
    mkdirSync(dir, { recursive: true });
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
