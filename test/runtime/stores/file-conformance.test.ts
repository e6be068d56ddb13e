/** The file store passes the store conformance suite. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { fileStore } from "../../../runtime/manager/stores/file.js";
import { storeConformance } from "../../../runtime/testing/store-conformance.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

storeConformance(
  "file",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "diagnose-file-store-"));
    dirs.push(dir);
    return fileStore(join(dir, "specs.json"));
  },
  { requireWatch: true },
);
