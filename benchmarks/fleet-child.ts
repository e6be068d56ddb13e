/**
 * One process of the fleet benchmark: a manager on the store named by argv[2] (a URI). After
 * every apply it tells the parent (IPC) which spec ids it now has, with the wall-clock time; on
 * "idle?" it answers its store calls and CPU time since the last "mark".
 */
import { InstrumentManager } from "../runtime/index.js";
import type { ApplyReport } from "../runtime/manager/reconcile.js";
import type { SpecStore } from "../runtime/manager/stores/contract.js";
import { openStore } from "../runtime/manager/stores/uri.js";

const uri = process.argv[2] as string;
const index = process.argv[3] as string;
const send = (m: unknown): void => void process.send?.(m);

let calls = 0;
function counted(store: SpecStore): SpecStore {
  const wrap =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> => {
      calls++;
      return f(...a);
    };
  return {
    description: store.description,
    get lastError() {
      return store.lastError ?? null;
    },
    list: wrap(() => store.list()),
    put: wrap((id, doc, o) => store.put(id, doc, o)),
    remove: wrap((id, o) => store.remove(id, o)),
    reportStatus: wrap((r) => store.reportStatus(r)),
    listStatus: wrap(() => store.listStatus()),
    ...(store.watch === undefined
      ? {}
      : { watch: (l: Parameters<NonNullable<SpecStore["watch"]>>[0]) => store.watch!(l) }),
    close: () => store.close(),
  };
}

class ReportingManager extends InstrumentManager {
  override async apply(): Promise<ApplyReport> {
    const report = await super.apply();
    send({ kind: "applied", at: Date.now(), ids: [...this.specs.keys()] });
    return report;
  }
}

const store = counted(await openStore(uri));
const mgr = new ReportingManager({ store, processId: `bench-${index}.fleet:${process.pid}`, pollInterval: 1_000 });
mgr.errorOutput = { write: () => true };
await mgr.start();
let cpu = process.cpuUsage();
let mark = Date.now();
process.on("message", (m: unknown) => {
  if (m === "mark") {
    calls = 0;
    cpu = process.cpuUsage();
    mark = Date.now();
  } else if (m === "idle?") {
    const used = process.cpuUsage(cpu);
    send({ kind: "idle", calls, ms: Date.now() - mark, cpuUs: used.user + used.system });
  } else if (m === "stop") {
    void mgr
      .stop()
      .then(() => store.close())
      .finally(() => process.exit(0));
  }
});
send({ kind: "ready" });
