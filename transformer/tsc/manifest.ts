/**
 * Writing `diagnose-sites.json` from a tsc build. The transformer sees one file at a time and
 * tsc has no "emit finished" hook for plugins, so entries are collected and written once the
 * synchronous emit is over (next macrotask, or process exit: tsc ends with `process.exit`, which
 * skips pending callbacks but runs "exit" listeners). Writing merges per module with the file on
 * disk (abi/manifest.ts), so partial builds and several tsconfigs fill one manifest.
 */
import { accessSync, constants, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { manifestPath, writeManifest, type ModuleSites } from "../../abi/manifest.js";

/** Why the manifest cannot be written at `target`, checked before the build so it can be a diagnostic. */
export function manifestTargetProblem(target: string): string | undefined {
  const folder = dirname(manifestPath(target));
  try {
    mkdirSync(folder, { recursive: true });
    accessSync(folder, constants.W_OK);
    return undefined;
  } catch (error) {
    return `the site manifest cannot be written to ${manifestPath(target)} (${(error as Error).message}); fix the "manifest" option or the folder's permissions`;
  }
}

export class ManifestCollector {
  private pending = new Map<string, ModuleSites>();
  private scheduled = false;
  private readonly onExit = (): void => this.flush();

  constructor(
    /** Manifest file or folder (absolute). */
    private readonly target: string,
    /** Reports a failed write. It happens after tsc printed its diagnostics, so this is not one. */
    private readonly onError: (message: string) => void = (message) => {
      process.stderr.write(`diagnose/transformer: ${message}\n`);
      process.exitCode = 1;
    },
  ) {}

  add(entry: ModuleSites): void {
    this.pending.set(`${entry.package}\0${entry.module}`, entry);
    if (this.scheduled) return;
    this.scheduled = true;
    process.once("exit", this.onExit);
    setImmediate(() => this.flush()).unref();
  }

  /** Writes what was collected since the last write. */
  flush(): void {
    if (!this.scheduled) return;
    this.scheduled = false;
    process.removeListener("exit", this.onExit);
    const entries = [...this.pending.values()];
    this.pending = new Map();
    try {
      writeManifest(this.target, entries);
    } catch (error) {
      this.onError(`could not write the site manifest ${this.target}: ${(error as Error).message}`);
    }
  }
}
