/**
 * `diagnose/register`: run TypeScript (and included JavaScript) with dormant hook sites.
 *
 *     node --import diagnose/register app.ts
 *
 * Stacks show the .ts file's own lines and columns: the compiled code carries an inline source
 * map and the loader turns Node's source-map support on (as `--enable-source-maps` would), since
 * SWC's output has other line numbers than the file it is named after.
 * `DIAGNOSE_SOURCE_MAPS=off` leaves it as it was.
 *
 * Which Node API carries the hooks (see docs/node-loader.md):
 * - Node 24+: `module.registerHooks()` — synchronous, in this thread, covers `import` and
 *   `require()` alike.
 * - Node 20 and 22: `module.register()` — the hooks run in Node's hooks thread and cover `import`
 *   (and the entry point); `require()` goes through the require hook (`require.extensions`).
 * `DIAGNOSE_LOADER=register` or `=registerHooks` forces one (for tests and bug reports).
 *
 * With `DIAGNOSE_STORE` set (or `"diagnose": { "store": … }` in package.json), the default manager
 * is started on that store (see autostart.ts).
 */
import * as nodeModule from "node:module";
import { resolve } from "node:path";
import { MessageChannel, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { writeManifest } from "../../abi/manifest.js";
import type { ModuleSites } from "../../abi/manifest-format.js";
import type { LoaderHooks } from "./hooks.js";
import { autostart } from "./autostart.js";
import { installRequireHook } from "./require-hook.js";
import { setSitesReporter } from "./sites-reporter.js";
import { addCopySource, copyStore } from "../../runtime/registry/copies.js";
import { copiesDir, readCopies } from "./copies-cache.js";
import { noteCopies, regenerateCopies } from "./copies-origins.js";
import type { CopiesReport } from "./sites-reporter.js";

/** What the hooks thread posts: a manifest entry, or a report of a module's deferred copies. */
interface PortMessage {
  manifest?: string;
  sites?: ModuleSites;
  copies?: CopiesReport;
}

/** The loader API in use in this process. */
export type LoaderApi = "registerHooks" | "register";

const REGISTERED = Symbol.for("diagnose.loader");
type RegisterHooks = (hooks: LoaderHooks) => unknown;

/** Manifest entries waiting for process exit, by manifest path, then by package + module. */
const pending = new Map<string, Map<string, ModuleSites>>();

function collect(manifest: string, sites: ModuleSites): void {
  let entries = pending.get(manifest);
  if (entries === undefined) pending.set(manifest, (entries = new Map()));
  entries.set(`${sites.package}\0${sites.module}`, sites);
}

function chooseApi(): LoaderApi {
  const forced = process.env["DIAGNOSE_LOADER"];
  const registerHooks = (nodeModule as { registerHooks?: unknown }).registerHooks;
  if (forced === "register") return "register";
  if (forced === "registerHooks" && typeof registerHooks === "function") return "registerHooks";
  // Node 22's synchronous hooks hand a CommonJS entry point to the ESM translator's reduced
  // `require` (no TypeScript fallback, no require.cache); from Node 24 they cover it fully.
  const major = Number(process.versions.node.split(".")[0]);
  return typeof registerHooks === "function" && major >= 24 ? "registerHooks" : "register";
}

/**
 * A stack must never name a line of the .ts file that holds other code. Without source maps Node
 * would show SWC's output lines under the .ts name, so they are on unless the user said otherwise.
 */
function enableSourceMaps(): void {
  if (/^(off|0|false)$/i.test(process.env["DIAGNOSE_SOURCE_MAPS"] ?? "")) return;
  const p = process as { setSourceMapsEnabled?: (on: boolean) => void; sourceMapsEnabled?: boolean };
  if (p.sourceMapsEnabled === true || typeof p.setSourceMapsEnabled !== "function") return;
  p.setSourceMapsEnabled(true);
}

async function install(): Promise<LoaderApi> {
  const api = chooseApi();
  enableSourceMaps();
  setSitesReporter(collect);
  // Deferred copies (docs/node-loader.md): read from the cache directory when a probe needs them.
  const dir = copiesDir();
  if (dir !== null) addCopySource((hash) => readCopies(dir, hash));
  // Relative paths are resolved once, here, before the program can process.chdir(): the threads
  // that write (the hooks thread, workers' loaders) inherit the absolute paths, so the copy text
  // is written where this thread reads it, and every project's manifest entries go to one file.
  if (dir !== null && (process.env["DIAGNOSE_COPIES_DIR"] ?? "") !== "") process.env["DIAGNOSE_COPIES_DIR"] = dir;
  const manifest = process.env["DIAGNOSE_MANIFEST"];
  if (manifest !== undefined && manifest !== "") process.env["DIAGNOSE_MANIFEST"] = resolve(manifest);
  let port: MessagePort | undefined;
  if (api === "registerHooks") {
    const registerHooks = (nodeModule as unknown as { registerHooks: RegisterHooks }).registerHooks;
    // Loaded only here: with module.register() the compiler runs in the hooks thread instead.
    const { createHooks } = await import("./hooks.js");
    registerHooks(createHooks({ synchronous: true }));
  } else {
    const channel = new MessageChannel();
    port = channel.port1;
    const hooksPort = port;
    const receive = (m: PortMessage): void => {
      if (m.copies !== undefined) noteCopies(m.copies);
      else if (m.manifest !== undefined && m.sites !== undefined) collect(m.manifest, m.sites);
    };
    port.on("message", receive);
    port.unref();
    // Deferred copies compiled in the hooks thread: reported before their module's source was
    // returned, so a registration that needs them finds the report queued on the port.
    addCopySource((hash) => {
      for (let m = receiveMessageOnPort(hooksPort); m !== undefined; m = receiveMessageOnPort(hooksPort)) {
        receive(m.message as PortMessage);
      }
      return copyStore().texts.get(hash);
    });
    nodeModule.register(new URL("./hooks.js", import.meta.url).href, {
      data: { port: channel.port2 },
      transferList: [channel.port2],
    });
    installRequireHook();
  }
  // Last: the text is nowhere it was put, so the module is compiled again from its file.
  addCopySource(regenerateCopies);
  process.on("exit", () => {
    if (port !== undefined) {
      // Entries the hooks thread posted that the event loop has not delivered yet.
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
        const { manifest, sites } = m.message as PortMessage;
        if (manifest !== undefined && sites !== undefined) collect(manifest, sites);
      }
    }
    for (const [manifest, entries] of pending) {
      try {
        writeManifest(manifest, entries.values());
      } catch (error) {
        process.stderr.write(`diagnose: could not write the site manifest ${manifest}: ${String(error)}\n`);
      }
    }
  });
  return api;
}

const g = globalThis as { [REGISTERED]?: Promise<LoaderApi> };

/** The loader API this process uses (registering twice is a no-op). */
export const loaderApi: LoaderApi = await (g[REGISTERED] ??= install());

// With DIAGNOSE_STORE (or "diagnose.store" in package.json) set, probes come from that store.
await autostart();
