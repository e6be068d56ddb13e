// Runs the race example's tests with the diagnose Node loader (`npm run build` first).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const register = join(here, "..", "..", "dist", "integrations", "node", "register.js");
const { NODE_TEST_CONTEXT: _, ...env } = process.env;
const result = spawnSync(
  process.execPath,
  ["--enable-source-maps", "--import", register, "--test", "--test-reporter=spec", "race.test.ts"],
  {
    cwd: here,
    env,
    stdio: "inherit",
  },
);
process.exit(result.status ?? 1);
