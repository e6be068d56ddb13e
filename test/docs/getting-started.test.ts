/**
 * docs/getting-started.md runs as written: its project files (the `cat > file <<'EOF'` blocks) in
 * a fresh folder, the service started through the loader with the file store, the CLI commands of
 * "The first probe from outside", and the line the page says the service prints.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { CLI, explain, REPO_ROOT, runNode, tempDir } from "../integrations/helpers.js";

const PAGE = readFileSync(join(REPO_ROOT, "docs", "getting-started.md"), "utf8");

/** The text of the page's `cat > <file> <<'EOF'` block. */
function fileOnPage(file: string): string {
  const start = PAGE.indexOf(`cat > ${file} <<'EOF'\n`);
  assert.ok(start >= 0, `docs/getting-started.md writes no ${file}`);
  const body = PAGE.slice(start).split("\n").slice(1);
  return `${body.slice(0, body.indexOf("EOF")).join("\n")}\n`;
}

/** The arguments of a `npx diagnose …` command on the page (continuation lines joined, quotes kept whole). */
function commandOnPage(prefix: string): string[] {
  const start = PAGE.indexOf(`npx diagnose ${prefix}`);
  assert.ok(start >= 0, `docs/getting-started.md has no "npx diagnose ${prefix}"`);
  let line = "";
  for (const raw of PAGE.slice(start).split("\n")) {
    const text = raw.replace(/\s+#.*$/, "").trim();
    line += ` ${text.replace(/\\$/, "")}`;
    if (!text.endsWith("\\")) break;
  }
  const args = [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  return args.slice(2); // without "npx diagnose"
}

describe("docs/getting-started.md", { timeout: 120_000 }, () => {
  const project = tempDir("getting-started");
  const children: { kill(): void }[] = [];
  after(() => {
    for (const c of children) c.kill();
    project.remove();
  });

  it("the loader path and the first probe from outside work as written", async () => {
    const dir = join(project.dir, "shop");
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "shop", type: "module" }));
    symlinkSync(REPO_ROOT, join(dir, "node_modules", "diagnose"), "dir");
    for (const file of ["src/cart.ts", "src/server.ts"]) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), fileOnPage(file));
    }
    const store = "file:./diagnose-specs.json";
    assert.ok(PAGE.includes(`DIAGNOSE_STORE=${store} node --import diagnose/register src/server.ts`));

    const service = spawn(process.execPath, ["--import", "diagnose/register", "src/server.ts"], {
      cwd: dir,
      env: { ...process.env, DIAGNOSE_STORE: store, NODE_OPTIONS: "" },
    });
    children.push(service);
    let output = "";
    service.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    service.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));

    const sites = runNode([CLI, ...commandOnPage("sites")], dir);
    assert.equal(sites.status, 0, explain(sites));
    assert.match(sites.stdout, /^src\/cart\.ts:total\s/m, explain(sites));
    const add = runNode([CLI, ...commandOnPage("specs add")], dir, { DIAGNOSE_STORE: store });
    assert.equal(add.status, 0, explain(add));

    const expected = /^Probe \(cart-total\)\[discount=10\] = 45$/m;
    assert.match(PAGE, expected, "the page shows the line the service prints");
    // Waits for the line (bounded, not a timing assertion): the service applies the spec on its next read.
    for (let i = 0; i < 300 && !expected.test(output); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(output, expected, `service output:\n${output}`);

    const rm = runNode([CLI, ...commandOnPage("specs rm")], dir, { DIAGNOSE_STORE: store });
    assert.equal(rm.status, 0, explain(rm));
  });
});
