/**
 * `diagnose specs verify [id]`: checks the signatures of the specs in the store against trusted
 * public keys, as a process started with those keys would (signature, key, key expiry). Replays
 * are judged by each process against what it applied, so they are not checked here.
 */
import { parseArgs } from "node:util";
import { verifySpecSignature } from "../runtime/manager/signing.js";
import { loadTrustedKeys, SigningKeyError, type TrustedKey } from "../runtime/manager/signing-keys.js";
import { validateSpec } from "../runtime/manager/validate.js";
import { describeStoreError, type CommandIO } from "./command.js";
import { CommandFailure, EXIT_NOT_FOUND, EXIT_OK, EXIT_REFUSED, EXIT_USAGE } from "./exit-codes.js";
import { resolve } from "node:path";
import { chooseStore, withStore } from "./store-option.js";

export const SPECS_VERIFY_USAGE = `Usage: diagnose specs verify [id] [--public-key FILE|DIR]... [--store URI] [--json]

Check the signatures of the specs in the store (or of one spec) with trusted public keys, as a
service started with DIAGNOSE_VERIFY_KEYS would: unsigned, tampered, unknown-key and expired-key
specs are listed with the reason.

Options:
  --public-key PATH   a public key file (PEM, raw base64 or a JSON key ring) or a folder of them;
                      repeatable (default: $DIAGNOSE_VERIFY_KEYS)
Exit codes: 0 every spec checked is signed by a trusted key, 3 some are refused, 5 no such spec,
2 no usable key.
`;

interface Verdict {
  readonly id: string;
  readonly ok: boolean;
  readonly keyId?: string;
  readonly error?: string;
}

export async function runSpecsVerify(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      "public-key": { type: "string", multiple: true },
      store: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    io.stdout(SPECS_VERIFY_USAGE);
    return EXIT_OK;
  }
  if (positionals.length > 1)
    throw new CommandFailure(EXIT_USAGE, `expected at most one spec id, got ${positionals.join(" ")}`);
  const only = positionals[0];
  const keys = loadKeys(values["public-key"], io);

  const choice = chooseStore(values.store, io.env, io.cwd);
  const snapshot = await withStore(choice, (store) =>
    store.list().catch((e: unknown) => Promise.reject(describeStoreError(e, store.description))),
  );
  const specs = snapshot.specs
    .filter((s) => only === undefined || s.id === only)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (only !== undefined && specs.length === 0) {
    throw new CommandFailure(
      EXIT_NOT_FOUND,
      `no spec ${JSON.stringify(only)} in ${choice.uri} (see 'diagnose specs list')`,
    );
  }
  const now = Date.now();
  const verdicts: Verdict[] = specs.map((s) => {
    const checked = validateSpec(s.id, s.doc);
    if (!checked.ok) return { id: s.id, ok: false, error: checked.error };
    const v = verifySpecSignature(s.id, s.doc, checked.spec, keys, now);
    return v.ok ? { id: s.id, ok: true, keyId: v.keyId } : { id: s.id, ok: false, error: v.error };
  });
  const refused = verdicts.filter((v) => !v.ok).length;
  if (values.json === true)
    io.stdout(JSON.stringify({ store: choice.uri, keys: [...keys.keys()], specs: verdicts }, null, 2) + "\n");
  else if (verdicts.length === 0) io.stdout(`no specs in ${choice.uri}\n`);
  else {
    for (const v of verdicts)
      io.stdout(v.ok ? `ok       ${v.id} (key ${v.keyId})\n` : `REFUSED  ${v.id}: ${v.error}\n`);
  }
  if (refused > 0) {
    if (values.json !== true)
      io.stderr(
        `diagnose specs verify: ${refused} of ${verdicts.length} spec(s) would be refused by a verifying service\n`,
      );
    return EXIT_REFUSED;
  }
  return EXIT_OK;
}

function loadKeys(paths: string[] | undefined, io: CommandIO): Map<string, TrustedKey> {
  const given =
    paths !== undefined && paths.length > 0
      ? paths
      : io.env["DIAGNOSE_VERIFY_KEYS"]?.trim()
        ? [io.env["DIAGNOSE_VERIFY_KEYS"].trim()]
        : [];
  if (given.length === 0)
    throw new CommandFailure(EXIT_USAGE, "specs verify needs --public-key FILE|DIR (or DIAGNOSE_VERIFY_KEYS)");
  const keys = new Map<string, TrustedKey>();
  try {
    for (const p of given) {
      for (const k of loadTrustedKeys(resolve(io.cwd, p))) {
        if (keys.has(k.keyId))
          throw new SigningKeyError(
            `two trusted keys have the id ${JSON.stringify(k.keyId)}; give each key its own keyId.`,
          );
        keys.set(k.keyId, k);
      }
    }
  } catch (error) {
    if (error instanceof SigningKeyError) throw new CommandFailure(EXIT_USAGE, error.message);
    throw error;
  }
  return keys;
}
