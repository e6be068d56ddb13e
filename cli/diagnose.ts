#!/usr/bin/env node
/**
 * The `diagnose` command. Commands live in their own modules; this file only dispatches and turns
 * designed errors (bad config, broken manifest) into a message and an exit code.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ManifestError } from "../abi/manifest.js";
import { DiagnoseConfigError } from "../integrations/shared/config.js";
import { EXIT_OK, EXIT_USAGE, runSites, SITES_USAGE, type CliIO } from "./sites.js";

export const USAGE = `Usage: diagnose <command> [options]

Commands:
  sites [filter] [--json] [--root DIR]   list the functions and sites probes can address
  help [command]                          show help

Run 'diagnose sites --help' for the filter syntax.
`;

/** Runs the CLI with `args` (without node and the script); returns the exit code. */
export function main(args: string[], io: CliIO): number {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "sites":
        return runSites(rest, io);
      case "help":
      case "--help":
      case "-h":
        io.stdout(rest[0] === "sites" ? SITES_USAGE : USAGE);
        return EXIT_OK;
      case undefined:
        io.stderr(USAGE);
        return EXIT_USAGE;
      default:
        io.stderr(`diagnose: unknown command '${command}'\n\n${USAGE}`);
        return EXIT_USAGE;
    }
  } catch (error) {
    if (error instanceof DiagnoseConfigError || error instanceof ManifestError) {
      io.stderr(`diagnose: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

function isMainModule(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  process.exitCode = main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
  });
}
