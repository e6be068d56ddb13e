/**
 * The file store's disk format and its two I/O primitives: a bounded read (a huge file is refused
 * before it is read into memory) and an atomic write (tmp + rename, so a reader or a killed writer
 * never sees half a file).
 *
 * Spec file: `{ "version": 1, "specs": { "<id>": <document> } }`, dates as ISO strings. Other
 * top-level fields are kept on every rewrite. Status file (one per process, beside it in
 * `<file>.status/`): `{ "version": 1, "processId", "labels", "at", "specs": { "<id>": status } }`.
 */
import { randomBytes, createHash } from "node:crypto";
import { constants, promises as fsp } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { ProcessReport } from "./contract.js";
import { defineData, isPlainRecord, reviveDate, reviveSpecDates, reviveStatus } from "./documents.js";
import { StoreFormatError } from "./errors.js";

/** The format this code writes; a file with a higher one was written by a newer Diagnose. */
export const FORMAT_VERSION = 1;

/** A parsed spec file: its top-level object, with `specs` a plain object of documents. */
export interface SpecFile {
  readonly top: Record<string, unknown>;
  readonly specs: Record<string, unknown>;
}

/** The text of a file, or null when there is none; refuses a file above `maxBytes` unread. */
export async function readBounded(path: string, maxBytes: number, store: string): Promise<string | null> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, constants.O_RDONLY);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) {
      throw new StoreFormatError(
        store,
        `${path} is ${size} bytes, more than the limit of ${maxBytes} bytes (option maxFileBytes); it was not read. ` +
          "Remove specs from it, or raise the limit.",
      );
    }
    // Read one byte more than the limit: the file may have grown since stat.
    const buffer = Buffer.alloc(Math.min(size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    if (length > maxBytes)
      throw new StoreFormatError(store, `${path} grew beyond the limit of ${maxBytes} bytes while it was read.`);
    return buffer.toString("utf8", 0, length);
  } finally {
    await handle.close().catch(() => {});
  }
}

/** `<base>.<pid>-<random>.tmp`: recognisable, so strays of killed writers can be cleaned. */
export function tmpName(path: string): string {
  return `${path}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`;
}

/** Writes through a temporary file renamed over `path`; `beforeRename` may veto (throw). */
export async function writeAtomic(
  path: string,
  text: string,
  sync: boolean,
  beforeRename?: () => Promise<void>,
): Promise<void> {
  const tmp = tmpName(path);
  try {
    const handle = await fsp.open(tmp, "wx", 0o644);
    try {
      await handle.writeFile(text, "utf8");
      if (sync) await handle.sync();
    } finally {
      await handle.close();
    }
    if (beforeRename) await beforeRename();
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
}

/** Parses a spec file's text; an empty file is an empty spec set (someone created it by hand). */
export function parseSpecFile(text: string, path: string, store: string): SpecFile {
  if (text.trim() === "") return { top: { version: FORMAT_VERSION, specs: {} }, specs: {} };
  let top: unknown;
  try {
    top = JSON.parse(text);
  } catch (e) {
    throw new StoreFormatError(
      store,
      `${path} is not valid JSON (${(e as Error).message}). Fix the file; the last good specs stay applied.`,
      {
        cause: e,
      },
    );
  }
  if (!isPlainRecord(top))
    throw new StoreFormatError(store, `${path} must hold a JSON object { "version": 1, "specs": { ... } }.`);
  const version = top["version"];
  if (version !== undefined && version !== FORMAT_VERSION) {
    const detail =
      typeof version === "number" && version > FORMAT_VERSION
        ? `was written in format ${version} by a newer Diagnose; upgrade this process to read it.`
        : `has an unknown "version" ${JSON.stringify(version)}; expected ${FORMAT_VERSION}.`;
    throw new StoreFormatError(store, `${path} ${detail}`);
  }
  const specs = top["specs"] ?? {};
  if (!isPlainRecord(specs))
    throw new StoreFormatError(store, `${path}: "specs" must be an object of spec documents by id.`);
  for (const id of Object.keys(specs)) reviveSpecDates(specs[id]);
  return { top, specs };
}

export function serializeSpecFile(file: SpecFile): string {
  const top: Record<string, unknown> = {};
  defineData(top, "version", FORMAT_VERSION);
  defineData(top, "specs", file.specs);
  for (const key of Object.keys(file.top))
    if (key !== "version" && key !== "specs") defineData(top, key, file.top[key]);
  return `${JSON.stringify(top, null, 2)}\n`;
}

/**
 * A file name for a process id: injective (percent-encoding of everything but [A-Za-z0-9_-]),
 * shortened with a hash when long.
 */
export function statusFileName(processId: string): string {
  let safe = "";
  for (const byte of Buffer.from(processId, "utf8")) {
    const c = String.fromCharCode(byte);
    safe += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).padStart(2, "0").toUpperCase()}`;
  }
  if (safe.length > 120)
    safe = `${safe.slice(0, 80)}~${createHash("sha256").update(processId).digest("hex").slice(0, 32)}`;
  return `${safe}.json`;
}

export function serializeReport(report: ProcessReport): string {
  return `${JSON.stringify({ version: FORMAT_VERSION, ...report })}\n`;
}

/** A report read back, or null when the text is not one (a status file is advisory). */
export function parseReport(text: string): ProcessReport | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isPlainRecord(value)) return null;
  const { processId, labels, at, specs } = value;
  if (typeof processId !== "string" || processId === "" || !isPlainRecord(specs)) return null;
  const when = reviveDate(at);
  if (!(when instanceof Date)) return null;
  for (const id of Object.keys(specs)) reviveStatus(specs[id]);
  return {
    processId,
    labels: isPlainRecord(labels) ? (labels as Record<string, string>) : {},
    at: when,
    specs: specs as ProcessReport["specs"],
  };
}

/**
 * Removes the tmp files of spec writers that were killed, and lock files set aside by breakers
 * that were. Call it only under the lock: then no live writer has a tmp file in flight.
 */
export async function cleanStrays(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((n) => n.startsWith(prefix) && (n.endsWith(".tmp") || n.endsWith(".stale")))
      .map((n) => fsp.rm(join(dir, n), { force: true }).catch(() => {})),
  );
}
