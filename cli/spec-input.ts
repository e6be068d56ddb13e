/**
 * The spec document `specs add` writes, from flags or from `--file spec.json` (flags override the
 * file's fields). Field names are the stored ones (the seed's), so a file written for the Python
 * library can be added as it is.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { SpecDocument } from "../runtime/manager/spec.js";
import { CommandFailure, EXIT_USAGE } from "./exit-codes.js";

/** The flags of `specs add` that describe the spec. */
export interface SpecFlags {
  target?: string | undefined;
  type?: string | undefined;
  value?: string | undefined;
  event?: string | undefined;
  lifespan?: string | undefined;
  name?: string | undefined;
  tags?: string | undefined;
  condition?: string | undefined;
  selector?: string | undefined;
  file?: string | undefined;
}

/** Larger spec files are refused before they are parsed. */
const MAX_FILE_BYTES = 1024 * 1024;

/** The document to write for spec `id`, stamped `lastmodified` = now. */
export function buildSpecDocument(id: string, flags: SpecFlags, cwd: string, now = new Date()): SpecDocument {
  const doc: SpecDocument = flags.file !== undefined ? readSpecFile(resolve(cwd, flags.file)) : {};
  const instrument: Record<string, unknown> = isPlainObject(doc["instrument"]) ? { ...doc["instrument"] } : {};
  const custom: Record<string, unknown> = isPlainObject(instrument["custom"]) ? { ...instrument["custom"] } : {};

  if (flags.target !== undefined) doc["target"] = flags.target;
  if (flags.type !== undefined) instrument["type"] = flags.type;
  if (flags.value !== undefined) instrument["value"] = flags.value;
  if (flags.event !== undefined) instrument["event"] = flags.event;
  if (flags.name !== undefined) instrument["name"] = flags.name;
  if (flags.tags !== undefined) custom["tags"] = flags.tags;
  if (flags.condition !== undefined) custom["condition"] = flags.condition;
  if (flags.lifespan !== undefined) doc["lifespan"] = parseLifespan(flags.lifespan);
  if (flags.selector !== undefined) doc["selector"] = parseSelector(flags.selector);

  // Defaults that make a one-line `specs add` useful: a log line named after the spec.
  if (instrument["type"] === undefined) instrument["type"] = "log";
  if (instrument["name"] === undefined) instrument["name"] = id;
  instrument["custom"] = custom;
  doc["instrument"] = instrument;
  if (!("lifespan" in doc)) doc["lifespan"] = null;
  doc["lastmodified"] = now;
  // Status belongs to the processes (reported separately); a copied document's is dropped.
  doc["applied"] = {};
  return doc;
}

/** Minutes as a non-negative number; "default" (or "null") leaves it to the manager's default. */
export function parseLifespan(text: string): number | null {
  const t = text.trim();
  if (t === "default" || t === "null") return null;
  const n = Number(t);
  if (t === "" || !Number.isFinite(n) || n < 0) {
    throw new CommandFailure(
      EXIT_USAGE,
      `--lifespan takes minutes (a number ≥ 0) or "default", got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

/** `k=v,k2=v2` → `{ k: "v", k2: "v2" }`. */
export function parseSelector(text: string): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const part of text.split(",")) {
    const p = part.trim();
    if (p === "") continue;
    const eq = p.indexOf("=");
    const key = eq === -1 ? "" : p.slice(0, eq).trim();
    if (key === "") {
      throw new CommandFailure(EXIT_USAGE, `--selector takes labels as k=v,k2=v2; ${JSON.stringify(p)} has no key`);
    }
    selector[key] = p.slice(eq + 1).trim();
  }
  return selector;
}

function readSpecFile(path: string): SpecDocument {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new CommandFailure(EXIT_USAGE, `cannot read --file ${path}: ${(error as Error).message}`);
  }
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) {
    throw new CommandFailure(
      EXIT_USAGE,
      `--file ${path} is larger than ${MAX_FILE_BYTES} bytes; a spec is a few lines of JSON`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CommandFailure(EXIT_USAGE, `--file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(json)) {
    throw new CommandFailure(
      EXIT_USAGE,
      `--file ${path} must hold one spec object ({ "target": …, "instrument": {…} })`,
    );
  }
  return { ...json };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
