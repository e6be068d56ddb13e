// Runs the demo service with the diagnose Node loader (`npm run demo` builds first).
import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
// The example resolves `diagnose` like an application that installed it.
const link = join(here, "node_modules", "diagnose");
if (!existsSync(link)) {
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(repo, link, "dir");
}
// What can be probed: the site manifest, as `npx diagnose sites src/` prints it.
console.log("== 0. probeable functions (npx diagnose sites src/)");
spawnSync(process.execPath, [join(repo, "dist", "cli", "diagnose.js"), "sites", "src/", "--root", here], { stdio: "inherit" });

const register = join(repo, "dist", "integrations", "node", "register.js");
const result = spawnSync(process.execPath, ["--enable-source-maps", "--import", register, "demo.ts"], {
  cwd: here,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
