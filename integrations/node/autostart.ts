/**
 * Autostart: the default manager on the store the environment or package.json names, so a
 * service takes probes from outside without a line of Diagnose in its code.
 *
 * Sources, the first one set wins: `DIAGNOSE_STORE` (a store URI such as
 * "file:./diagnose-specs.json", a relative path from the working directory), else
 * `"diagnose": { "store": … }` in the nearest package.json of the working directory (a relative
 * path from that package.json's folder, as the CLI reads it). Labels: `DIAGNOSE_LABELS` ("app=shop,zone=eu"), else
 * `"diagnose": { "labels": {…} }`. Signed specs: `DIAGNOSE_VERIFY_KEYS` (a public key file or a
 * folder of them, from the working directory), else `"diagnose": { "verifyKeys" }` (from the
 * package.json's folder).
 *
 * Nothing here may stop the service: a store that cannot be opened is one line on stderr, and the
 * service runs on without probes from a store. Keys that were asked for but cannot be read are
 * the one case where the manager is not started: running it without verification would apply
 * specs its operator meant to refuse.
 */
import { resolve } from "node:path";
import { findPackageJson } from "../shared/config.js";
import { anchorFileUri } from "../shared/store-uri.js";

const STARTED = Symbol.for("diagnose.autostart");

/** What autostart would use, or undefined when no store is configured. @internal */
export function autostartConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
):
  | { store: string; labels: Record<string, string> | undefined; source: string; verifyKeys: string | undefined }
  | undefined {
  const block = packageBlock(cwd);
  const envStore = env["DIAGNOSE_STORE"]?.trim();
  let store: string | undefined;
  let source = "DIAGNOSE_STORE";
  if (envStore !== undefined && envStore !== "") store = anchorFileUri(envStore, cwd);
  else if (typeof block?.value["store"] === "string" && block.value["store"].trim() !== "") {
    store = anchorFileUri(block.value["store"].trim(), resolve(block.path, ".."));
    source = `"diagnose.store" in ${block.path}`;
  }
  if (store === undefined) return undefined;
  let labels: Record<string, string> | undefined;
  const envLabels = env["DIAGNOSE_LABELS"]?.trim();
  if (envLabels !== undefined && envLabels !== "") {
    labels = {};
    for (const pair of envLabels.split(",")) {
      const i = pair.indexOf("=");
      if (i > 0) labels[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
    }
  } else {
    const l = block?.value["labels"];
    if (typeof l === "object" && l !== null && !Array.isArray(l)) {
      labels = {};
      for (const [k, v] of Object.entries(l)) if (typeof v === "string") labels[k] = v;
    }
  }
  let verifyKeys: string | undefined;
  const envKeys = env["DIAGNOSE_VERIFY_KEYS"]?.trim();
  if (envKeys !== undefined && envKeys !== "") verifyKeys = resolve(cwd, envKeys);
  else if (typeof block?.value["verifyKeys"] === "string" && block.value["verifyKeys"].trim() !== "") {
    verifyKeys = resolve(block.path, "..", block.value["verifyKeys"].trim());
  }
  return { store, labels, source, verifyKeys };
}

function packageBlock(cwd: string): { path: string; value: Record<string, unknown> } | undefined {
  try {
    const pkg = findPackageJson(cwd);
    const block = pkg?.json["diagnose"];
    if (pkg === undefined || typeof block !== "object" || block === null || Array.isArray(block)) return undefined;
    return { path: `${pkg.dir}/package.json`, value: block as Record<string, unknown> };
  } catch {
    // An unreadable package.json is the loader's to report; autostart only needs to not crash.
    return undefined;
  }
}

/**
 * Opens the configured store and starts the default manager on it (once per thread). Resolves
 * when the store is open and the start was requested; never rejects.
 */
export async function autostart(): Promise<void> {
  const g = globalThis as { [STARTED]?: boolean };
  if (g[STARTED] === true) return;
  g[STARTED] = true;
  let config: ReturnType<typeof autostartConfig>;
  try {
    config = autostartConfig();
  } catch {
    return;
  }
  if (config === undefined) return;
  let keys: import("../../runtime/manager/signing-keys.js").TrustedKey[] | undefined;
  if (config.verifyKeys !== undefined) {
    try {
      const { loadTrustedKeys } = await import("../../runtime/manager/signing-keys.js");
      keys = loadTrustedKeys(config.verifyKeys);
    } catch (error) {
      try {
        const { describeError } = await import("../../errors/index.js");
        process.stderr.write(
          `diagnose: signed specs are required but the keys could not be loaded, so no spec from ${JSON.stringify(config.store)} ` +
            `will be applied; the service runs without probes from a store: ${describeError(error)}\n`,
        );
      } catch {
        // stderr itself is gone: nothing else to tell.
      }
      return;
    }
  }
  try {
    const { manager, openStore } = await import("../../runtime/index.js");
    const store = await openStore(config.store);
    manager.configure({
      store,
      ...(config.labels === undefined ? {} : { labels: config.labels }),
      ...(keys === undefined
        ? {}
        : {
            verify: {
              keys: keys.map((k) => ({
                keyId: k.keyId,
                publicKey: k.key,
                notAfter: k.notAfter === Infinity ? null : new Date(k.notAfter),
              })),
            },
          }),
    });
    // Not awaited: the first read of a remote store must not hold up the service's start.
    void manager.start().catch(() => undefined);
  } catch (error) {
    try {
      const { describeError } = await import("../../errors/index.js");
      process.stderr.write(
        `diagnose: could not open the spec store ${JSON.stringify(config.store)} (from ${config.source}); ` +
          `the service runs without probes from a store: ${describeError(error)}\n`,
      );
    } catch {
      // stderr itself is gone: nothing else to tell.
    }
  }
}
