/**
 * The replay ledger: a small file holding, per spec id, the newest signed `lastmodified` this
 * process (or another one sharing the file) applied, and whether it saw that version removed. A
 * verifying manager reads it at start, so a restarted process still refuses an older signed copy
 * written back to the store. Opt-in: `verify.replayFile`, or the env DIAGNOSE_REPLAY_FILE.
 *
 * Written atomically (a temporary file in the same directory, then rename): a crash mid-write
 * leaves the old ledger whole. Each write first merges what is on disk (the newer `lastmodified`
 * wins), so processes sharing the file do not erase each other's entries. A missing ledger starts
 * empty; an unreadable or corrupt one starts empty with a warning that says what that means.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** What the ledger remembers of one spec id. */
export interface ReplayEntry {
  /** The newest signed lastmodified applied, epoch milliseconds. */
  lm: number;
  /** Whether the spec was seen removed after that version. */
  removed: boolean;
}

const VERSION = "diagnose-replay/1";

export class ReplayLedger {
  /** Set when the ledger could not be read at start (the process started with an empty one). */
  readonly startError: string | undefined;
  /** Why the ledger could not be read at start ("it is not JSON"…); undefined when it could. */
  readonly unreadBecause: string | undefined;
  /** When the ledger was read, epoch ms: what was applied before then is what an unread ledger forgot. */
  readonly openedAt = Date.now();
  private failedWrite = false;

  private constructor(
    readonly file: string,
    private readonly warn: (message: string) => void,
    unreadBecause: string | undefined,
    startError: string | undefined,
  ) {
    this.unreadBecause = unreadBecause;
    this.startError = startError;
  }

  /** Opens `file` and returns the ledger with what it holds (empty when missing or unreadable). */
  static open(
    file: string,
    warn: (message: string) => void,
  ): { ledger: ReplayLedger; entries: Map<string, ReplayEntry> } {
    const read = readLedger(file);
    if (typeof read === "string") {
      const message =
        `the replay ledger ${file} could not be read (${read}): starting with an empty one, so until a newer ` +
        `version of a spec is applied here, an older signed copy applied before this start is not refused as a replay.`;
      warn(message);
      return { ledger: new ReplayLedger(file, warn, read, message), entries: new Map() };
    }
    return { ledger: new ReplayLedger(file, warn, undefined, undefined), entries: read };
  }

  /** Writes `entries` merged with what the file holds now. Never throws: a failure is warned once. */
  save(entries: Map<string, ReplayEntry>): void {
    try {
      const onDisk = readLedger(this.file);
      if (typeof onDisk !== "string") {
        for (const [id, theirs] of onDisk) {
          const ours = entries.get(id);
          if (ours === undefined || theirs.lm > ours.lm) entries.set(id, { ...theirs });
        }
      }
      const text = JSON.stringify({ v: VERSION, specs: Object.fromEntries(entries) });
      const tmp = join(dirname(this.file), `.${basename(this.file)}.${process.pid}.${Date.now()}.tmp`);
      try {
        writeFileSync(tmp, text, { mode: 0o600 });
        renameSync(tmp, this.file);
      } catch (error) {
        rmSync(tmp, { force: true });
        throw error;
      }
      this.failedWrite = false;
    } catch (error) {
      if (this.failedWrite) return;
      this.failedWrite = true;
      this.warn(
        `the replay ledger ${this.file} could not be written (${String((error as Error)?.message ?? error)}): ` +
          `replays are refused in this process, but a restart will not remember the versions applied since.`,
      );
    }
  }
}

/** The entries of the ledger file, an empty map when it does not exist, or why it is unreadable. */
function readLedger(file: string): Map<string, ReplayEntry> | string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code === "ENOENT") return new Map();
    return String((error as Error)?.message ?? error);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return "it is not JSON";
  }
  const specs = (doc as { v?: unknown; specs?: unknown } | null)?.specs;
  if ((doc as { v?: unknown } | null)?.v !== VERSION || typeof specs !== "object" || specs === null) {
    return `it is not a ${VERSION} ledger`;
  }
  const out = new Map<string, ReplayEntry>();
  for (const [id, e] of Object.entries(specs)) {
    const lm = (e as { lm?: unknown } | null)?.lm;
    const removed = (e as { removed?: unknown } | null)?.removed;
    if (typeof lm !== "number" || !Number.isFinite(lm) || typeof removed !== "boolean") {
      return `the entry of spec ${JSON.stringify(id)} is not { lm, removed }`;
    }
    out.set(id, { lm, removed });
  }
  return out;
}
