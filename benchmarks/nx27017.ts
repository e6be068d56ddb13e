/**
 * How the benchmarks and the store tests start nx-27017 (the MongoDB wire-protocol server from
 * PyPI that .ci/run installs). Each instance gets its own PID and log files: by default every
 * instance on the machine shares /tmp/nx_27017.pid, and a second one exits with "already running"
 * while the first lives — so two test files, a benchmark, or another checkout's tests running at
 * the same time would take each other's server away.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A private folder for one server's PID and log files; `remove()` deletes it. */
export interface Nx27017Files {
  readonly args: (port: number) => string[];
  readonly remove: () => void;
}

/** Arguments for an in-memory server on 127.0.0.1:`port` whose files live in a fresh private folder. */
export function nx27017Files(): Nx27017Files {
  const dir = mkdtempSync(join(tmpdir(), "diagnose-nx27017-"));
  return {
    args: (port) => [
      "--db",
      "memory",
      "--host",
      "127.0.0.1",
      "-p",
      String(port),
      "--pid-file",
      join(dir, "nx.pid"),
      "--log-file",
      join(dir, "nx.log"),
    ],
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
