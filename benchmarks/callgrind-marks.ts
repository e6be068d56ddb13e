/**
 * Instructions between marks of one process, counted by callgrind.
 *
 * The child calls `mark()` at the points that delimit what is measured (before and after the
 * measured ops, or at each edge of the warm-up curve). `mark()` calls libuv's
 * `uv_get_constrained_memory` — a C function nothing else calls after start-up — and callgrind,
 * run with `--dump-before=uv_get_constrained_memory`, writes the instructions counted since the
 * previous dump each time it is entered. So one process yields the exact instructions of each
 * interval between marks.
 *
 * Why not the difference of two processes (one with the measured ops, one without)? That
 * difference also holds everything else the two processes did differently. Module loading reads
 * files asynchronously, so callbacks, allocations and V8's timer-driven GC tasks fall at other
 * points, and the heap is in another state when the ops start. Measured on the chevrotain lexer
 * (~500,000 instructions an op): two runs of one config were up to 780 million instructions
 * apart over 1,000 ops. In one, a scavenge landed mid-tokenize and V8 pretenured the token
 * arrays, which were then promoted and collected by repeated mark-compacts. The warm-up curve's
 * one-op buckets (differences of two processes) came out as 0.2× to 17×.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The C function whose entry makes callgrind dump: cheap, exported by node, unused after start-up. */
export const MARK_FUNCTION = "uv_get_constrained_memory";

/** Child side: ends the current interval (callgrind dumps on entering MARK_FUNCTION). */
export function mark(): void {
  process.constrainedMemory();
}

export interface MarkedRun {
  /** Instructions between consecutive marks: `marks − 1` numbers. */
  readonly intervals: number[];
  /** Instructions of the whole run. */
  readonly total: number;
}

/** `totals: 123` (or `summary: 123`) of one callgrind output file. */
export function parseTotals(text: string): number | undefined {
  const m = /^(?:totals|summary): (\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * The intervals between the last `marks` dumps. Files are `<base>.<k>`, one per entry of
 * MARK_FUNCTION, k from 1; dump k holds what ran since dump k − 1. Node itself calls the function
 * once during start-up, so the child's marks are the last `marks` dumps.
 */
export function intervalsOf(dumps: ReadonlyMap<number, number>, marks: number): number[] | string {
  const last = Math.max(0, ...dumps.keys());
  if (last < marks) return `${last} callgrind dumps, expected at least ${marks} (one per mark)`;
  const out: number[] = [];
  for (let k = last - marks + 2; k <= last; k++) {
    const v = dumps.get(k);
    if (v === undefined) return `callgrind dump ${k} is missing`;
    out.push(v);
  }
  return out;
}

/**
 * Runs `node <nodeArgs>` under callgrind, dumping at each mark; resolves to the intervals, or to
 * the reason there are none (exit status, missing dumps).
 */
export function countMarked(
  nodeArgs: readonly string[],
  marks: number,
  timeoutMs = 300_000,
): Promise<MarkedRun | { error: string }> {
  const dir = mkdtempSync(join(tmpdir(), "diagnose-callgrind-"));
  const base = join(dir, "cg.out");
  return new Promise((resolve) => {
    const child = spawn(
      "valgrind",
      [
        "--tool=callgrind",
        `--dump-before=${MARK_FUNCTION}`,
        `--callgrind-out-file=${base}`,
        process.execPath,
        ...nodeArgs,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    const err: Buffer[] = [];
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const finish = (r: MarkedRun | { error: string }) => {
        rmSync(dir, { recursive: true, force: true });
        resolve(r);
      };
      const stderr = Buffer.concat(err).toString("utf8");
      if (code !== 0) {
        const text = stderr
          .split("\n")
          .filter((l) => !l.startsWith("=="))
          .slice(0, 6)
          .join(" | ");
        return finish({ error: `exit ${code ?? signal}: ${text}` });
      }
      const dumps = new Map<number, number>();
      let total = 0;
      for (const name of readdirSync(dir)) {
        const v = parseTotals(readFileSync(join(dir, name), "utf8"));
        if (v === undefined) return finish({ error: `${name}: no totals line` });
        total += v;
        const k = /^cg\.out\.(\d+)$/.exec(name);
        if (k) dumps.set(Number(k[1]), v);
      }
      const intervals = intervalsOf(dumps, marks);
      finish(typeof intervals === "string" ? { error: intervals } : { intervals, total });
    });
  });
}
