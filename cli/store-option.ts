/**
 * Which store a command talks to: `--store <uri>`, else `DIAGNOSE_STORE`, else the `"diagnose":
 * { "store" }` of the nearest package.json, else `file:./diagnose-specs.json` — the same places a
 * service started through the loader looks, so the CLI and the service meet without configuration.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describeError } from "../errors/index.js";
import type { SpecStore } from "../runtime/manager/stores/contract.js";
import { InvalidStoreUriError } from "../runtime/manager/stores/errors.js";
import { openStore } from "../runtime/manager/stores/uri.js";
import { findPackageJson } from "../integrations/shared/config.js";
import { anchorFileUri } from "../integrations/shared/store-uri.js";
import { CommandFailure, EXIT_FAILURE, EXIT_USAGE } from "./exit-codes.js";

export const DEFAULT_STORE = "file:./diagnose-specs.json";

export interface StoreChoice {
  /** The URI as given or found. */
  readonly uri: string;
  /** Where it came from, for messages. */
  readonly from: "--store" | "DIAGNOSE_STORE" | "package.json" | "default";
}

/** The store URI for a command run in `cwd`. */
export function chooseStore(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): StoreChoice {
  if (flag !== undefined && flag !== "") return { uri: anchorFileUri(flag, cwd), from: "--store" };
  const fromEnv = env["DIAGNOSE_STORE"];
  if (fromEnv !== undefined && fromEnv !== "") return { uri: anchorFileUri(fromEnv, cwd), from: "DIAGNOSE_STORE" };
  const pkg = findPackageJson(cwd);
  if (pkg !== undefined) {
    const store = packageStore(join(pkg.dir, "package.json"));
    if (store !== undefined) return { uri: anchorFileUri(store, pkg.dir), from: "package.json" };
  }
  return { uri: anchorFileUri(DEFAULT_STORE, cwd), from: "default" };
}

/** Opens the chosen store; a bad URI is a usage error, a store that cannot be opened a failure. */
export async function openChosenStore(choice: StoreChoice): Promise<SpecStore> {
  try {
    return await openStore(choice.uri);
  } catch (error) {
    if (error instanceof InvalidStoreUriError) {
      throw new CommandFailure(EXIT_USAGE, `${describeError(error)} (store from ${choice.from})`);
    }
    throw new CommandFailure(EXIT_FAILURE, `cannot open the store ${choice.uri}: ${describeError(error)}`);
  }
}

/** Runs `work` on the chosen store and closes it whatever happens. */
export async function withStore<T>(choice: StoreChoice, work: (store: SpecStore) => Promise<T>): Promise<T> {
  const store = await openChosenStore(choice);
  try {
    return await work(store);
  } finally {
    await store.close().catch(() => undefined);
  }
}

function packageStore(path: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(path, "utf8")) as { diagnose?: { store?: unknown } };
    const store = pkg.diagnose?.store;
    return typeof store === "string" && store !== "" ? store : undefined;
  } catch {
    // An unreadable package.json is `diagnose sites`' and the loader's to report, not the store's.
    return undefined;
  }
}
