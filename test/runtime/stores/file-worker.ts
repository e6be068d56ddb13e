/**
 * A child process for the file store tests: `node file-worker.js <mode> <specs.json> <name> [n]`.
 * Each mode prints one JSON line per event on stdout, so the parent test can assert on them.
 */
import { fileStore } from "../../../runtime/manager/stores/file.js";
import { SpecConflictError } from "../../../runtime/manager/stores/errors.js";
import type { AppliedStatus } from "../../../runtime/manager/spec.js";

const [mode, path, name = "w", count = "10"] = process.argv.slice(2);
const n = Number(count);
const store = fileStore(path as string, { lockTimeoutMs: 20_000 });

function say(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function doc(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    target: "src/shop/cart.ts:Cart.total",
    instrument: { type: "log", name: "total", value: "result", event: "return", custom: {} },
    lifespan: 10,
    lastmodified: new Date(),
    applied: {},
    ...fields,
  };
}

async function main(): Promise<void> {
  switch (mode) {
    case "status": {
      // Report n times, as a running process does; the last report must survive everyone's.
      for (let i = 0; i < n; i++) {
        const at = new Date();
        const status: AppliedStatus = { lm: null, err: null, state: "emitting", hits: i, at };
        await store.reportStatus({ processId: name, labels: { worker: name }, at, specs: { s: status } });
      }
      say({ done: name });
      break;
    }
    case "cas": {
      // Increment a counter in the spec by compare-and-set; print every value this writer won.
      const won: number[] = [];
      let conflicts = 0;
      while (won.length < n) {
        const { specs } = await store.list();
        const current = specs.find((s) => s.id === "counter");
        const value = (current?.doc["counter"] as number | undefined) ?? 0;
        try {
          await store.put("counter", doc({ counter: value + 1, by: name }), {
            expectedVersion: current?.version ?? null,
          });
          won.push(value + 1);
        } catch (e) {
          if (!(e instanceof SpecConflictError)) throw e;
          conflicts++;
        }
      }
      say({ name, won, conflicts });
      break;
    }
    case "writer": {
      // Writes as fast as it can until killed; every write is a whole, parseable file.
      say({ ready: name });
      const blob = "x".repeat(200_000);
      for (let i = 0; ; i++) await store.put(`spec-${i % 5}`, doc({ i, blob }));
    }
    case "watch": {
      // Prints every stamp it sees after a change: the parent measures put → seen.
      const seen = new Set<string>();
      store.watch(() => {
        void store.list().then(({ specs }) => {
          for (const s of specs) {
            const stamp = s.doc["stamp"];
            if (typeof stamp === "string" && !seen.has(stamp)) {
              seen.add(stamp);
              say({ stamp, at: Date.now() });
            }
          }
        });
      });
      // Keep the process alive (the store's watch is unref'd, as in a service).
      setInterval(() => {}, 1000);
      say({ ready: name });
      break;
    }
    default:
      throw new Error(`unknown mode ${String(mode)}`);
  }
}

main().then(
  () => {
    if (mode !== "watch") void store.close();
  },
  (e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  },
);
