#!/usr/bin/env node
/**
 * The `diagnose` command. Commands live in their own modules; this file only dispatches and turns
 * designed errors (bad config, broken manifest) into a message and an exit code.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ManifestError } from "../abi/manifest.js";
import { DiagnoseConfigError } from "../integrations/shared/config.js";
import { describeError } from "../errors/index.js";
import type { CommandIO } from "./command.js";
import { CommandFailure, EXIT_FAILURE } from "./exit-codes.js";
import { EXIT_OK, EXIT_USAGE, runSites, SITES_USAGE } from "./sites.js";
import { KEYS_USAGE, runKeys } from "./keys.js";
import { runSpecs, specsUsage, SPECS_USAGE } from "./specs.js";
import { runStatus, STATUS_USAGE } from "./status.js";

export const USAGE = `Usage: diagnose <command> [options]

Commands:
  sites [filter] [--json] [--root DIR]   list the functions and sites probes can address
  specs add <id> --target NAME ...        write a spec: switch a probe on in running services
  specs list                              list the specs in the store
  specs rm <id>                           remove a spec: switch the probe off
  specs verify [id] --public-key FILE     check the specs' signatures
  keys generate [--out PREFIX]            make a key pair for signed specs
  status [id]                             what every process did with every spec
  help [command]                          show help

Store commands take --store URI (default: $DIAGNOSE_STORE, then file:./diagnose-specs.json)
and --json. Exit codes: 0 ok, 1 failure (e.g. the store is down), 2 usage, 3 spec refused
by the checks, 4 conflict (id taken or changed meanwhile), 5 no such spec.
Run 'diagnose <command> --help' for details.
`;

/** Runs the CLI with `args` (without node and the script); resolves with the exit code. */
export async function main(args: string[], io: CommandIO): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "sites":
        return runSites(rest, io);
      case "specs":
        return await runSpecs(rest, io);
      case "status":
        return await runStatus(rest, io);
      case "keys":
        return runKeys(rest, io);
      case "help":
      case "--help":
      case "-h":
        io.stdout(helpFor(rest));
        return EXIT_OK;
      case undefined:
        io.stderr(USAGE);
        return EXIT_USAGE;
      default:
        io.stderr(`diagnose: unknown command '${command}'\n\n${USAGE}`);
        return EXIT_USAGE;
    }
  } catch (error) {
    const prefix =
      (command === "specs" || command === "keys") && rest[0] !== undefined
        ? `diagnose ${command} ${rest[0]}`
        : `diagnose ${command ?? ""}`.trimEnd();
    if (error instanceof CommandFailure) {
      io.stderr(`${prefix}: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof DiagnoseConfigError || error instanceof ManifestError) {
      io.stderr(`diagnose: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (isParseArgsError(error)) {
      io.stderr(`${prefix}: ${(error as Error).message}\n\n${helpFor(command === "specs" ? rest : [command ?? ""])}`);
      return EXIT_USAGE;
    }
    if (command === "specs" || command === "status" || command === "keys") {
      io.stderr(`${prefix}: ${describeError(error)}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
}

function helpFor(rest: string[]): string {
  if (rest[0] === "sites") return SITES_USAGE;
  if (rest[0] === "status") return STATUS_USAGE;
  if (rest[0] === "keys") return KEYS_USAGE;
  if (rest[0] === "specs") return rest[1] === undefined ? SPECS_USAGE : specsUsage(rest[1]);
  if (rest[0] === "add" || rest[0] === "list" || rest[0] === "rm" || rest[0] === "verify") return specsUsage(rest[0]);
  return USAGE;
}

/** node:util parseArgs reports unknown flags and missing values as TypeErrors with these codes. */
function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
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
  process.exitCode = await main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
    isTTY: process.stdout.isTTY === true,
  });
}
