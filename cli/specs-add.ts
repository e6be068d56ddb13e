/**
 * `diagnose specs add <id>`: check a spec, then write it to the store. Writing is compare-and-set:
 * without `--replace` the id must be free; with it, the version read just before must still be the
 * stored one, so two people adding the same id never overwrite each other silently.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { manifestPath, readManifest } from "../abi/manifest.js";
import type { SiteManifest } from "../abi/manifest-format.js";
import { MANIFEST_VERSION } from "../abi/manifest-format.js";
import { findPackageJson, loadConfig } from "../integrations/shared/config.js";
import { signSpec, SpecSigningError } from "../runtime/manager/signing.js";
import { parseSigningKey, SigningKeyError, type SigningKey } from "../runtime/manager/signing-keys.js";
import type { SpecDocument } from "../runtime/manager/spec.js";
import { SpecConflictError } from "../runtime/manager/stores/errors.js";
import { CommandFailure, EXIT_CONFLICT, EXIT_OK, EXIT_REFUSED, EXIT_USAGE } from "./exit-codes.js";
import { describeStoreError, type CommandIO } from "./command.js";
import { checkExpression, knownInstrumentTypes } from "./expressions.js";
import { scanProject } from "./scan.js";
import { checkSpec } from "./spec-check.js";
import { buildSpecDocument } from "./spec-input.js";
import { chooseStore, withStore } from "./store-option.js";

export const SPECS_ADD_USAGE = `Usage: diagnose specs add <id> [spec flags | --file spec.json] [options]

Write a spec: the processes watching the store attach the instrument within a second.

Spec flags:
  --target NAME        qualified name of the function, e.g. src/shop/cart.ts:Cart.total
  --type TYPE          log (default), hist, incr or test
  --value EXPR         the value expression, e.g. result, args[0].items.length
  --event EVENT        call, return (default), end or line:N
  --name NAME          the name in log lines and metrics (default: the id)
  --tags EXPR          an object expression, e.g. "{ user: args[0].user }"
  --condition EXPR     fire only when it is truthy, e.g. "elapsed > 100"
  --lifespan MINUTES   minutes until the spec expires ("default": the service's default)
  --selector k=v,...   only processes with these labels apply it
  --file FILE          a JSON spec document; the flags above override its fields

Options:
  --sign-key FILE      sign the spec with this private key (from 'diagnose keys generate'), for
                       services that require signed specs (DIAGNOSE_VERIFY_KEYS)
  --key-id ID          the id the signature names (default: the key file's, else the key's
                       fingerprint, as 'keys generate' prints it)
  --replace            overwrite an existing spec of this id
  --force              write even if the checks refuse it
  --root DIR           the project whose site manifest checks the target (default: the
                       nearest package.json's folder)
  --store URI          file:PATH or memory: (default: $DIAGNOSE_STORE, then
                       file:./diagnose-specs.json)
  --json               print the written spec as JSON
`;

export async function runSpecsAdd(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      target: { type: "string" },
      type: { type: "string" },
      value: { type: "string" },
      event: { type: "string" },
      name: { type: "string" },
      tags: { type: "string" },
      condition: { type: "string" },
      lifespan: { type: "string" },
      selector: { type: "string" },
      file: { type: "string" },
      replace: { type: "boolean" },
      force: { type: "boolean" },
      root: { type: "string" },
      store: { type: "string" },
      json: { type: "boolean" },
      "sign-key": { type: "string" },
      "key-id": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    io.stdout(SPECS_ADD_USAGE);
    return EXIT_OK;
  }
  const id = positionals[0];
  if (id === undefined || positionals.length > 1 || id.trim() === "") {
    throw new CommandFailure(
      EXIT_USAGE,
      `expected one spec id, got ${positionals.length === 0 ? "none" : positionals.join(" ")}`,
    );
  }
  if (values.file === undefined && (values.target === undefined || values.value === undefined)) {
    throw new CommandFailure(EXIT_USAGE, "specs add needs --target and --value (or --file spec.json)");
  }
  if (values["key-id"] !== undefined && values["sign-key"] === undefined)
    throw new CommandFailure(EXIT_USAGE, "--key-id goes with --sign-key FILE");
  // Read before anything is checked or written: a wrong key path should not cost a round trip.
  const signingKey =
    values["sign-key"] === undefined
      ? undefined
      : readSigningKey(resolve(io.cwd, values["sign-key"]), values["key-id"]);
  let doc = buildSpecDocument(id, values, io.cwd);
  if ("signature" in doc) {
    // A copied signature covers the old lastmodified (and perhaps other fields): it could only be refused.
    delete doc["signature"];
    if (signingKey === undefined)
      io.stderr(
        "diagnose specs add: warning: the --file's signature was dropped (it cannot cover the new lastmodified); use --sign-key to sign\n",
      );
  }

  const root = values.root !== undefined ? resolve(io.cwd, values.root) : findPackageJson(io.cwd)?.dir;
  const { problems, warnings } = checkSpec(id, doc, {
    knownTypes: knownInstrumentTypes(),
    manifest: root === undefined ? undefined : projectSites(root, io),
    checkExpression,
  });
  for (const warning of warnings) io.stderr(`diagnose specs add: warning: ${warning}\n`);
  if (problems.length > 0) {
    if (values.force !== true) {
      throw new CommandFailure(
        EXIT_REFUSED,
        `spec ${JSON.stringify(id)} refused:\n  ${problems.join("\n  ")}\nNothing was written (--force writes it anyway).`,
      );
    }
    io.stderr(`diagnose specs add: writing despite (--force):\n  ${problems.join("\n  ")}\n`);
  }

  if (signingKey !== undefined) doc = signDocument(id, doc, signingKey);

  const choice = chooseStore(values.store, io.env, io.cwd);
  const version = await withStore(choice, async (store) => {
    try {
      if (values.replace !== true) return await store.put(id, doc, { expectedVersion: null });
      const current = (await store.list()).specs.find((s) => s.id === id);
      return await store.put(id, doc, { expectedVersion: current?.version ?? null });
    } catch (error) {
      if (error instanceof SpecConflictError) {
        throw new CommandFailure(
          EXIT_CONFLICT,
          values.replace === true
            ? `spec ${JSON.stringify(id)} was changed by someone else while it was being replaced; nothing was written. Check it with 'diagnose specs list' and try again.`
            : `spec ${JSON.stringify(id)} already exists in ${store.description}; nothing was written. Use --replace to overwrite it, or 'diagnose specs rm ${id}'.`,
        );
      }
      throw describeStoreError(error, store.description);
    }
  });
  if (values.json === true) {
    io.stdout(JSON.stringify({ id, version, store: choice.uri, spec: doc }, null, 2) + "\n");
  } else {
    io.stdout(
      `${values.replace === true ? "replaced" : "added"} spec ${id} in ${choice.uri} (${describeSpec(doc)}${signingKey === undefined ? "" : `, signed with key ${signingKey.keyId}`})\n`,
    );
  }
  return EXIT_OK;
}

function readSigningKey(path: string, keyId: string | undefined): SigningKey {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new CommandFailure(EXIT_USAGE, `cannot read --sign-key ${path}: ${(error as Error).message}`);
  }
  try {
    return parseSigningKey(text, keyId, `--sign-key ${path}`);
  } catch (error) {
    if (error instanceof SigningKeyError) throw new CommandFailure(EXIT_USAGE, error.message);
    throw error;
  }
}

function signDocument(id: string, doc: SpecDocument, key: SigningKey): SpecDocument {
  try {
    return signSpec(id, doc, key);
  } catch (error) {
    if (error instanceof SpecSigningError)
      throw new CommandFailure(EXIT_REFUSED, `${error.message}\nNothing was written.`);
    throw error;
  }
}

/** `log result of src/cart.ts:Cart.total on return` */
function describeSpec(doc: Record<string, unknown>): string {
  const ins = (doc["instrument"] ?? {}) as Record<string, unknown>;
  return `${String(ins["type"])} ${String(ins["value"])} of ${String(doc["target"])} on ${String(ins["event"] ?? "return")}`;
}

/**
 * The project's sites as `diagnose sites` finds them: the manifest when there is one, else an
 * analysis of the sources. Undefined (nothing to check against) when neither gives any function.
 */
function projectSites(root: string, io: CommandIO): SiteManifest | undefined {
  let manifest = readManifest(loadConfig(root).manifest ?? manifestPath(root));
  if (manifest === undefined) {
    const scan = scanProject(root);
    if (scan.problems.length > 0) {
      io.stderr(
        `diagnose specs add: ${scan.problems.length} source file(s) under ${root} could not be analysed; their functions are not known to the check ('diagnose sites --scan' lists the problems)\n`,
      );
    }
    manifest = { version: MANIFEST_VERSION, modules: scan.modules };
  }
  return manifest.modules.some((m) => m.functions.length > 0) ? manifest : undefined;
}
