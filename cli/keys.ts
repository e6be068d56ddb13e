/**
 * `diagnose keys generate`: a new Ed25519 key pair for signed specs. The private key signs
 * (`diagnose specs add --sign-key`), the public key goes to every service
 * (`DIAGNOSE_VERIFY_KEYS`). The private key file is created readable by its owner only, and never
 * over an existing file unless `--force`.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { generateSigningKeyPair } from "../runtime/manager/signing-keys.js";
import type { CommandIO } from "./command.js";
import { CommandFailure, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit-codes.js";

export const KEYS_USAGE = `Usage: diagnose keys generate [--out PREFIX] [--force] [--json]

Make an Ed25519 key pair for signed specs:
  PREFIX.key   the private key (PKCS#8 PEM, mode 600): signs with 'diagnose specs add --sign-key'
  PREFIX.pub   the public key (SPKI PEM): give it to services with DIAGNOSE_VERIFY_KEYS
Prints the key id (the first 16 hex digits of the public key's SHA-256), which signatures name.

Options:
  --out PREFIX   where to write (default: ./diagnose-signing)
  --force        overwrite existing files
  --json         print { keyId, privateKey, publicKey } (the paths) as JSON
`;

export function runKeys(args: string[], io: CommandIO): number {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h" || sub === "help") {
    io.stdout(KEYS_USAGE);
    return EXIT_OK;
  }
  if (sub !== "generate") {
    throw new CommandFailure(
      EXIT_USAGE,
      sub === undefined ? "keys needs a sub-command: generate" : `unknown sub-command 'keys ${sub}' (generate)`,
    );
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      force: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    io.stdout(KEYS_USAGE);
    return EXIT_OK;
  }
  if (positionals.length > 0)
    throw new CommandFailure(EXIT_USAGE, `unexpected argument ${JSON.stringify(positionals[0])} (use --out PREFIX)`);
  const prefix = resolve(io.cwd, values.out ?? "diagnose-signing");
  const pair = generateSigningKeyPair();
  const privatePath = `${prefix}.key`;
  const publicPath = `${prefix}.pub`;
  const flag = values.force === true ? "w" : "wx";
  // Checked before writing either file: half a pair (a new private key beside an old public one) is worse than none.
  for (const path of [privatePath, publicPath]) {
    if (flag === "wx" && existsSync(path))
      throw new CommandFailure(
        EXIT_USAGE,
        `${path} exists; nothing was written (--force replaces it, or choose another --out)`,
      );
  }
  try {
    mkdirSync(dirname(prefix), { recursive: true });
    writeFileSync(privatePath, pair.privateKeyPem, { mode: 0o600, flag });
  } catch (error) {
    throw writeFailure(privatePath, error);
  }
  try {
    writeFileSync(publicPath, pair.publicKeyPem, { mode: 0o644, flag });
  } catch (error) {
    throw writeFailure(publicPath, error);
  }
  if (values.json === true)
    io.stdout(JSON.stringify({ keyId: pair.keyId, privateKey: privatePath, publicKey: publicPath }) + "\n");
  else {
    io.stdout(
      `key id ${pair.keyId}\n  private key: ${privatePath} (keep it with whoever signs specs)\n  public key:  ${publicPath} ` +
        `(give it to services: DIAGNOSE_VERIFY_KEYS=${publicPath})\n`,
    );
  }
  return EXIT_OK;
}

function writeFailure(path: string, error: unknown): CommandFailure {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "EEXIST")
    return new CommandFailure(
      EXIT_USAGE,
      `${path} exists; nothing was overwritten (--force replaces it, or choose another --out)`,
    );
  return new CommandFailure(EXIT_FAILURE, `cannot write ${path}: ${(error as Error).message}`, { cause: error });
}
