/** Text formatting shared by the log instrument and error messages. */
import { inspect } from "node:util";

/** Longest value (and tag list) a log line carries; longer text is cut to MAX_CHARS - 3 plus "...". */
export const MAX_CHARS = 2000;

/** Strings as they are; anything else the way Node prints it, on one line, three levels deep. */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  return inspect(value, { depth: 3, breakLength: Infinity, maxArrayLength: 100, maxStringLength: MAX_CHARS });
}

export function truncate(text: string, max = MAX_CHARS): string {
  return text.length > max ? text.slice(0, max - 3) + "..." : text;
}
