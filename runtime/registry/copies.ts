/**
 * Copy sources (site ABI 4, docs/site-abi.md "Deferred copies"): where the registry finds a
 * module's deferred copy text, by the sha256 its table names (`c`).
 *
 * One store per realm, in `globalThis[Symbol.for("diagnose.copies")]`, shared by every copy of the
 * package (like the registry slot) and by whoever produces copy text: the Node loader puts the
 * text of each module it compiles there (from the hooks thread, through a message port it drains
 * synchronously: register.ts), a build tool's runtime entry with `addCopies(text)`. The text is
 * code run in the user's module: whatever a source returns is checked against the hash before it
 * is evaluated, and refused on a mismatch.
 */
import { createHash } from "node:crypto";
import { COPIES_KEY, COPY_HASH_LENGTH } from "../../abi/index.js";
import { describeError } from "../../errors/index.js";

/** A lookup that may produce the text of a hash (or any text: it is checked). */
export type CopySource = (hash: string) => string | undefined;

/** The realm's store: texts by hash, then the sources asked in order. */
export interface CopyStore {
  readonly texts: Map<string, string>;
  readonly sources: CopySource[];
}

const SLOT = Symbol.for(COPIES_KEY);

/** The realm's copy store, created on first use. */
export function copyStore(): CopyStore {
  const g = globalThis as unknown as Record<typeof SLOT, unknown>;
  const found = g[SLOT] as Partial<CopyStore> | undefined;
  if (typeof found === "object" && found !== null && found.texts instanceof Map && Array.isArray(found.sources))
    return found as CopyStore;
  const store: CopyStore = { texts: new Map(), sources: [] };
  Object.defineProperty(globalThis, SLOT, { value: store, writable: true, configurable: true, enumerable: false });
  return store;
}

/** sha256 of `text`, lower-case hex: what a table's `c` holds. */
export function copyHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Makes deferred copy text available to the registry (e.g. the `copies.text` of `instrument()`,
 * read from where a build wrote it). Returns its hash. The text is checked again when it is used.
 */
export function addCopies(text: string): string {
  const hash = copyHash(text);
  copyStore().texts.set(hash, text);
  return hash;
}

/** Adds a source asked for hashes the store does not hold (returns a function that removes it). */
export function addCopySource(source: CopySource): () => void {
  const sources = copyStore().sources;
  sources.push(source);
  return () => {
    const i = sources.indexOf(source);
    if (i >= 0) sources.splice(i, 1);
  };
}

/**
 * The verified text of `hash`, or why there is none. The store is asked first, then each source in
 * order; a text that does not match the hash is never returned, and the next source is asked (the
 * Node loader's last source compiles the module again, so a stale cache file does not stop it).
 */
export function findCopies(hash: string): { text: string } | { problem: string } {
  if (typeof hash !== "string" || !new RegExp(`^[0-9a-f]{${COPY_HASH_LENGTH}}$`).test(hash))
    return { problem: "its table names no valid copy hash" };
  const store = copyStore();
  let mismatched: string | undefined;
  let why = "";
  const candidate = store.texts.get(hash);
  if (candidate !== undefined) {
    if (copyHash(candidate) === hash) return { text: candidate };
    mismatched = "the copy store";
  }
  for (const source of store.sources) {
    let text: unknown;
    try {
      text = source(hash);
    } catch (err) {
      // A source that knows the hash but cannot make its text says why (e.g. the file changed).
      why = ` (${describeError(err)})`;
      continue;
    }
    if (typeof text !== "string") continue;
    // Not kept: once evaluated the copies exist, and a source (a file) can give the text again.
    if (copyHash(text) === hash) return { text };
    mismatched ??= "a copy source";
  }
  if (mismatched !== undefined)
    return {
      problem: `the copy text from ${mismatched} does not match its hash ${hash.slice(0, 12)}… (stale or tampered)${why}`,
    };
  return { problem: `its copy text ${hash.slice(0, 12)}… was not found${why}` };
}
