/**
 * "diagnose/pino": a structured sink for the user's own pino logger. Each event is one log entry
 * whose `probe` field holds target, instrument, event, value and tags; the message is the line
 * LogInstrument would print.
 *
 *   import { logSinks, StructuredLogInstrument } from "diagnose";
 *   import { pinoSink } from "diagnose/pino";
 *   logSinks.set("pino", pinoSink(logger));                 // for specs: custom: { sink: "pino" }
 *   new StructuredLogInstrument("cart", "args", { sink: pinoSink(logger) });
 */
import type { ProbeRecord, StructuredSink } from "../../runtime/index.js";

/** The part of a pino Logger this sink calls (pino's `logger[level](object, message)`). */
export type PinoLike = Record<PinoLevel, (fields: object, message: string) => unknown>;
export type PinoLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

export interface PinoSinkOptions {
  /** Default "info". */
  level?: PinoLevel;
}

export function pinoSink(logger: PinoLike, options: PinoSinkOptions = {}): StructuredSink {
  const level = options.level ?? "info";
  return (record: ProbeRecord) => {
    const { message, ...probe } = record;
    logger[level]({ probe }, message);
  };
}
