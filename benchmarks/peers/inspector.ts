/**
 * Peer: a V8 inspector conditional breakpoint that logs and never pauses — the mechanism of
 * Datadog's Node.js log probes (and Lightrun/Rookout-style agents). The condition formats the same
 * kind of line our LogInstrument writes, hands it to a null sink and returns false, so the
 * debugger never pauses; what remains is the per-hit cost of evaluating a condition through the
 * inspector.
 */
import { Session } from "node:inspector/promises";

export interface InspectorProbe {
  readonly hits: () => number;
  close(): Promise<void>;
}

/** Sets the breakpoint at `line` (1-based) of the script at `url`, logging `value` (an expression). */
export async function setLogBreakpoint(url: string, line: number, value: string): Promise<InspectorProbe> {
  const g = globalThis as Record<string, unknown>;
  let hits = 0;
  let last = "";
  g["__benchInspectorLog"] = (text: string) => {
    hits++;
    last = text; // the null sink
  };
  const session = new Session();
  session.connect();
  await session.post("Debugger.enable");
  const condition = `(globalThis.__benchInspectorLog("Probe (bench) = " + String(${value})), false)`;
  const result = await session.post("Debugger.setBreakpointByUrl", { url, lineNumber: line - 1, condition });
  if (result.locations.length === 0) throw new Error(`The inspector resolved no location for ${url}:${line}`);
  return {
    hits: () => hits,
    async close() {
      void last;
      await session.post("Debugger.removeBreakpoint", { breakpointId: result.breakpointId });
      await session.post("Debugger.disable");
      session.disconnect();
    },
  };
}
