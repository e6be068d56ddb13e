/**
 * Per-line timings of one probed call ("hotspots"). When a "return" instrument's value, tags or
 * condition mention `hotspots`, the probe switches on every line site of its target and each call
 * records, per line, how often it ran, its longest single run and its total time. A line's time is
 * measured from its site to the next line site (or the call's exit) of the same call, so it
 * includes the calls and awaits the line makes.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { inspect } from "node:util";

/** One line's figure: `time` in ms, the 1-based `line`, and its `source` text (trimmed). */
export interface LineTime {
  readonly time: number;
  readonly line: number;
  /** The line's text from the module's source file (read when the report is first read); "" if not found. */
  readonly source: string;
}

/** Per-line statistics of one call. */
export interface LineStats {
  count: number;
  /** Longest single run (ms). */
  max: number;
  /** Sum of all runs (ms). */
  total: number;
}

/** What the `hotspots` name holds in a "return" event. */
export interface HotspotsReport {
  /** The line with the largest total time in this call, or undefined when no line ran. */
  readonly worst: LineTime | undefined;
  /** The line with the longest single run in this call, or undefined when no line ran. */
  readonly slowest: LineTime | undefined;
  /** Every line that ran: line number → statistics. */
  readonly lines: ReadonlyMap<number, LineStats>;
}

const sourceCache = new Map<string, readonly string[] | null>();

/**
 * The text of `line` in `modulePath` (a path relative to the project root, as in qualified names),
 * looked up relative to `process.cwd()`; "" when the file cannot be read.
 */
export function sourceLine(modulePath: string, line: number): string {
  const file = resolve(process.cwd(), modulePath);
  let lines = sourceCache.get(file);
  if (lines === undefined) {
    try {
      lines = readFileSync(file, "utf8").split(/\r?\n/);
    } catch {
      lines = null;
    }
    sourceCache.set(file, lines);
  }
  return lines?.[line - 1]?.trim() ?? "";
}

/**
 * A plain object with `source` as a data property (a getter would print as `[Getter]` in a log
 * line). Made only when `worst`/`slowest` is first read, so the source file is read (once per
 * module, cached) only for a report someone looks at.
 */
function lineTime(modulePath: string, time: number, line: number): LineTime {
  return { time, line, source: sourceLine(modulePath, line) };
}

/** Records one call's line timings. @internal */
export class HotspotsRecorder implements HotspotsReport {
  readonly lines = new Map<number, LineStats>();
  private lastLine = 0;
  private lastTime = 0;
  private report: { worst: LineTime | undefined; slowest: LineTime | undefined } | undefined;

  constructor(private readonly modulePath: string) {}

  /** A line site of this call was reached. */
  hit(line: number): void {
    const now = performance.now();
    if (this.lastLine !== 0) this.add(this.lastLine, now - this.lastTime);
    this.lastLine = line;
    // Read the clock again so this bookkeeping is not charged to the next line.
    this.lastTime = performance.now();
  }

  /** The call exited: closes the last line. */
  finish(): void {
    if (this.lastLine !== 0) this.add(this.lastLine, performance.now() - this.lastTime);
    this.lastLine = 0;
  }

  get worst(): LineTime | undefined {
    return this.summary().worst;
  }

  get slowest(): LineTime | undefined {
    return this.summary().slowest;
  }

  private add(line: number, elapsed: number): void {
    const s = this.lines.get(line);
    if (s === undefined) this.lines.set(line, { count: 1, max: elapsed, total: elapsed });
    else {
      s.count++;
      if (elapsed > s.max) s.max = elapsed;
      s.total += elapsed;
    }
    this.report = undefined;
  }

  private summary(): { worst: LineTime | undefined; slowest: LineTime | undefined } {
    if (this.report !== undefined) return this.report;
    let worst: [number, number] | undefined;
    let slowest: [number, number] | undefined;
    for (const [line, s] of this.lines) {
      if (worst === undefined || s.total > worst[0]) worst = [s.total, line];
      if (slowest === undefined || s.max > slowest[0]) slowest = [s.max, line];
    }
    return (this.report = {
      worst: worst && lineTime(this.modulePath, worst[0], worst[1]),
      slowest: slowest && lineTime(this.modulePath, slowest[0], slowest[1]),
    });
  }

  /** Logged (LogInstrument, console.log) as its summary, not its bookkeeping. */
  [inspect.custom](): { worst: LineTime | undefined; slowest: LineTime | undefined } {
    return this.toJSON();
  }

  toJSON(): { worst: LineTime | undefined; slowest: LineTime | undefined } {
    const { worst, slowest } = this.summary();
    const plain = (t: LineTime | undefined) => t && { time: t.time, line: t.line, source: t.source };
    return { worst: plain(worst), slowest: plain(slowest) };
  }
}
