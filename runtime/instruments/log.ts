/**
 * LogInstrument: one line per event, `Probe (name) = value`, or `Probe (name)[k=v, k2=v2] = value`
 * when tags are set. An undefined value prints nothing. Always one line (see format.ts).
 *
 * The value and tags are captured first (runtime/capture: bounded, secrets redacted), and lines
 * beyond `linesPerSecond` are dropped and counted; the next line after such a second is preceded
 * by one `Probe (name) N lines dropped` line.
 */
import type { EventNamespace } from "../expressions/namespace.js";
import { outgoingTags, outgoingValue } from "./outgoing.js";
import { InstrumentOptionsError } from "./errors.js";
import { escapeControls, formatValue, MAX_CHARS, truncate } from "./format.js";
import { Instrument, type InstrumentOptions } from "./instrument.js";

/** One character over the line's limit, so that `truncate` still sees a longer string was cut. */
const LOG_LIMITS = { stringLength: MAX_CHARS + 1 };

/** Lines per second a log instrument writes unless told otherwise. */
export const DEFAULT_LINES_PER_SECOND = 100;

/**
 * Where log lines go: a stream-like object (`write(line + "\n")`), a function (called with the
 * line), or a logger with `.info` such as pino or console (called with the line).
 */
export type LogSink = ((line: string) => unknown) | { info(line: string): unknown } | { write(text: string): unknown };

export interface LogInstrumentOptions extends InstrumentOptions {
  /** Default: `LogInstrument.defaultSink`, else process.stdout. */
  sink?: LogSink;
  /**
   * Most lines written per second (the rest are dropped and counted in `dropped`); Infinity for no
   * limit. Default: `custom.linesPerSecond` (the spec's), else DEFAULT_LINES_PER_SECOND.
   */
  linesPerSecond?: number;
}

export class LogInstrument extends Instrument {
  /** The sink of every LogInstrument without its own; undefined means process.stdout. */
  static defaultSink: LogSink | undefined = undefined;
  /** This instrument's own sink, if any. */
  sink: LogSink | undefined;

  /** Lines dropped by the output limit since the instrument was made. */
  dropped = 0;
  /** @internal */ linesPerSecond: number;
  private secondStart = -Infinity;
  private linesThisSecond = 0;
  private droppedUnreported = 0;

  constructor(name: string, value: string, options: LogInstrumentOptions = {}) {
    super(name, value, options);
    this.sink = options.sink;
    this.linesPerSecond = linesLimit(options.linesPerSecond, this.custom["linesPerSecond"]);
  }

  override fire(namespace: EventNamespace): void {
    const value = this.evaluate(namespace);
    if (value === undefined) return;
    if (!this.admitLine()) return;
    const tags = outgoingTags(this, this.evaluateTags(namespace), LOG_LIMITS);
    const line = formatLine(this.name, outgoingValue(this, value, LOG_LIMITS), tags);
    if (this.droppedUnreported > 0) {
      const n = this.droppedUnreported;
      this.droppedUnreported = 0;
      this.emit(
        `Probe (${escapeControls(this.name)}) ${n} line${n === 1 ? "" : "s"} dropped (over ${this.linesPerSecond} lines/s)`,
      );
    }
    this.emit(line);
  }

  /** The output limit: whether one more line fits in this second. */
  private admitLine(): boolean {
    if (this.linesPerSecond === Infinity) return true;
    const t = Date.now();
    if (t - this.secondStart >= 1000) {
      this.secondStart = t;
      this.linesThisSecond = 0;
    }
    if (this.linesThisSecond >= this.linesPerSecond) {
      this.dropped++;
      this.droppedUnreported++;
      return false;
    }
    this.linesThisSecond++;
    return true;
  }

  /** @internal */
  override reconfigure(from: Instrument): void {
    super.reconfigure(from);
    if (from instanceof LogInstrument) {
      this.linesPerSecond = from.linesPerSecond;
    }
  }

  /** Sends one finished line to the sink. */
  protected emit(line: string): void {
    const sink = this.sink ?? LogInstrument.defaultSink ?? process.stdout;
    if (typeof sink === "function") sink(line);
    else if ("info" in sink && typeof sink.info === "function") sink.info(line);
    else (sink as { write(text: string): unknown }).write(line + "\n");
  }
}

/**
 * `Probe (name) = value` / `Probe (name)[k=v, …] = value`, value and tags cut at 2,000 characters,
 * on one line whatever the value holds.
 */
export function formatLine(name: string, value: unknown, tags: Record<string, unknown>): string {
  const keys = Object.keys(tags);
  const tagText =
    keys.length === 0
      ? ""
      : "[" + truncate(keys.map((k) => `${escapeControls(k)}=${formatValue(tags[k])}`).join(", ")) + "]";
  return `Probe (${escapeControls(name)})${tagText} = ${truncate(formatValue(value))}`;
}

function linesLimit(option: unknown, fromSpec: unknown): number {
  if (option !== undefined) {
    if (typeof option !== "number" || !(option >= 1)) {
      throw new InstrumentOptionsError(
        `\`linesPerSecond\` must be a number >= 1 (Infinity for no limit), got ${JSON.stringify(option) ?? String(option)}.`,
      );
    }
    return option;
  }
  if (fromSpec !== undefined) {
    // A spec may set a limit, never lift it: Infinity is not JSON, and so not a spec's to give.
    if (typeof fromSpec !== "number" || !(fromSpec >= 1) || fromSpec === Infinity) {
      throw new InstrumentOptionsError(
        `custom.linesPerSecond must be a number >= 1, got ${JSON.stringify(fromSpec) ?? String(fromSpec)}.`,
      );
    }
    return fromSpec;
  }
  return DEFAULT_LINES_PER_SECOND;
}
