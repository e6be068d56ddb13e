/**
 * Peer: istanbul-lib-instrument, the coverage instrumenter behind nyc and Jest. Its counters
 * (`cov.s[3]++` at every statement, function and branch) are always on; this is the build-time
 * baseline our "off" state is compared with.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { REPO } from "../paths.js";

interface Instrumenter {
  instrumentSync(code: string, filename: string): string;
}

let instrumenter: Instrumenter | undefined;

/** Instruments one JavaScript ES module the way nyc does (statement, branch, function counters). */
export function istanbulInstrument(code: string, filename: string): string {
  if (instrumenter === undefined) {
    const lib = createRequire(join(REPO, "package.json"))("istanbul-lib-instrument") as {
      createInstrumenter(options: Record<string, unknown>): Instrumenter;
    };
    instrumenter = lib.createInstrumenter({
      esModules: true,
      compact: true,
      produceSourceMap: false,
      coverageVariable: "__coverage__",
    });
  }
  return instrumenter.instrumentSync(code, filename);
}
