/**
 * `diagnose/register`: run TypeScript (and included JavaScript) with dormant hook sites.
 *
 *     node --import diagnose/register app.ts
 *     node --enable-source-maps --import diagnose/register app.ts   # stacks show .ts lines
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
import { MessageChannel, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { writeManifest } from "../../abi/manifest.js";
import type { ModuleSites } from "../../abi/manifest-format.js";
import type { LoaderHooks } from "./hooks.js";
import { autostart } from "./autostart.js";
import { installRequireHook } from "./require-hook.js";
import { setSitesReporter } from "./sites-reporter.js";

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

async function install(): Promise<LoaderApi> {
  const api = chooseApi();
  setSitesReporter(collect);
  let port: MessagePort | undefined;
  if (api === "registerHooks") {
    const registerHooks = (nodeModule as unknown as { registerHooks: RegisterHooks }).registerHooks;
    // Loaded only here: with module.register() the compiler runs in the hooks thread instead.
    const { createHooks } = await import("./hooks.js");
    registerHooks(createHooks({ synchronous: true }));
  } else {
    const channel = new MessageChannel();
    port = channel.port1;
    port.on("message", (m: { manifest: string; sites: ModuleSites }) => collect(m.manifest, m.sites));
    port.unref();
    nodeModule.register(new URL("./hooks.js", import.meta.url).href, {
      data: { port: channel.port2 },
      transferList: [channel.port2],
    });
    installRequireHook();
  }
  process.on("exit", () => {
    if (port !== undefined) {
      // Entries the hooks thread posted that the event loop has not delivered yet.
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
        const { manifest, sites } = m.message as { manifest: string; sites: ModuleSites };
        collect(manifest, sites);
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
