/**
 * Ed25519 keys for signed specs, through node:crypto only: parsing the forms a user hands us (PEM,
 * raw base64, JSON key rings), key ids, loading a file or folder of trusted public keys, and
 * generating a key pair.
 *
 * A key id defaults to a fingerprint of the public key (the first 16 hex digits of the SHA-256 of
 * its SPKI DER form), so a signer holding only the private key and a verifier holding only the
 * public key agree on the id without exchanging anything else.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DiagnoseError } from "../../errors/index.js";
import { toDate } from "./validate.js";

/** A public key this process trusts: PEM text, raw base64 (32 bytes), or a KeyObject, with its id and expiry. */
export interface TrustedKeyInput {
  /** Default: the key's fingerprint (see keyIdOf). */
  keyId?: string;
  publicKey: string | KeyObject;
  /** After this moment specs signed with the key are refused, and those applied expire. */
  notAfter?: Date | string | null;
}

/** A parsed trusted key. */
export interface TrustedKey {
  readonly keyId: string;
  readonly key: KeyObject;
  /** Epoch ms; Infinity when the key does not expire. */
  readonly notAfter: number;
}

/** A private key to sign with, and the id its signatures name. */
export interface SigningKey {
  readonly keyId: string;
  readonly key: KeyObject;
}

/** A key that cannot be used: not Ed25519, unreadable, a private key where a public one belongs… */
export class SigningKeyError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_SIGNING_KEY";
  constructor(message: string, options?: { cause?: unknown }) {
    super(SigningKeyError.CODE, message, options);
  }
}

/** Longest key id accepted (ids travel in every signed spec). */
export const MAX_KEY_ID = 200;
const KEY_ID = /^[\x21-\x7e]{1,200}$/;
const RAW_BASE64 = /^[A-Za-z0-9+/_-]{43}=?$/;
/** Key files and rings are a few hundred bytes; anything far larger is not one. */
const MAX_KEY_FILE_BYTES = 256 * 1024;

/** The default id of a public key: the first 16 hex digits of the SHA-256 of its SPKI DER form. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("hex").slice(0, 16);
}

/** A public Ed25519 key from PEM, raw base64 (32 bytes, base64 or base64url) or a KeyObject. */
export function parsePublicKey(input: string | KeyObject, where = "the public key"): KeyObject {
  let key: KeyObject;
  try {
    if (typeof input !== "string") key = input.type === "private" ? createPublicKey(input) : input;
    else {
      const text = input.trim();
      if (text.includes("PRIVATE KEY")) {
        throw new SigningKeyError(
          `${where} is a private key; give the public key (the .pub file) here and keep the private key with the signer.`,
        );
      }
      if (RAW_BASE64.test(text)) {
        const x = Buffer.from(text, "base64");
        if (x.length !== 32)
          throw new SigningKeyError(`${where} is not 32 bytes of base64, the raw form of an Ed25519 public key.`);
        key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: x.toString("base64url") }, format: "jwk" });
      } else key = createPublicKey(text);
    }
  } catch (error) {
    if (error instanceof SigningKeyError) throw error;
    throw new SigningKeyError(
      `${where} could not be read as an Ed25519 public key (PEM or raw base64): ${describe(error)}`,
      { cause: error },
    );
  }
  if (key.type !== "public" || key.asymmetricKeyType !== "ed25519") {
    throw new SigningKeyError(
      `${where} is a ${key.asymmetricKeyType ?? key.type} key; signed specs use Ed25519 ('diagnose keys generate' makes one).`,
    );
  }
  return key;
}

/** Checks one trusted key (its id defaults to the fingerprint). */
export function trustedKey(input: TrustedKeyInput | string | KeyObject, where = "a trusted key"): TrustedKey {
  const given: TrustedKeyInput = typeof input === "string" || isKeyObject(input) ? { publicKey: input } : input;
  if (typeof given !== "object" || given === null)
    throw new SigningKeyError(`${where} must be { keyId?, publicKey, notAfter? }, PEM text or a KeyObject.`);
  const key = parsePublicKey(given.publicKey, where);
  const keyId = given.keyId ?? keyIdOf(key);
  if (typeof keyId !== "string" || !KEY_ID.test(keyId)) {
    throw new SigningKeyError(
      `${where}: keyId must be 1 to ${MAX_KEY_ID} printable characters without spaces, got ${JSON.stringify(String(keyId)).slice(0, 80)}.`,
    );
  }
  let notAfter = Infinity;
  if (given.notAfter !== undefined && given.notAfter !== null) {
    const d = toDate(given.notAfter);
    if (d === undefined)
      throw new SigningKeyError(
        `${where} (key ${keyId}): notAfter must be a Date or an ISO 8601 date, e.g. "2027-01-31T00:00:00Z".`,
      );
    notAfter = d.getTime();
  }
  return { keyId, key, notAfter };
}

/** A private Ed25519 key (PKCS#8 PEM, or a JSON file `{ keyId, privateKey }`), with the id it signs as. */
export function parseSigningKey(text: string, keyId?: string, where = "the signing key"): SigningKey {
  let pem = text.trim();
  let id = keyId;
  if (pem.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(pem);
    } catch (error) {
      throw new SigningKeyError(`${where} is neither PEM nor valid JSON: ${describe(error)}`);
    }
    const o = json as { keyId?: unknown; privateKey?: unknown };
    if (typeof o.privateKey !== "string")
      throw new SigningKeyError(`${where} is JSON without a "privateKey" PEM string.`);
    pem = o.privateKey;
    if (id === undefined && typeof o.keyId === "string") id = o.keyId;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new SigningKeyError(
      `${where} could not be read as a private key (PKCS#8 PEM, as 'diagnose keys generate' writes): ${describe(error)}`,
      {
        cause: error,
      },
    );
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new SigningKeyError(
      `${where} is a ${key.asymmetricKeyType ?? "unknown"} key; signed specs use Ed25519 ('diagnose keys generate' makes one).`,
    );
  }
  id ??= keyIdOf(createPublicKey(key));
  if (!KEY_ID.test(id))
    throw new SigningKeyError(
      `the key id must be 1 to ${MAX_KEY_ID} printable characters without spaces, got ${JSON.stringify(id).slice(0, 80)}.`,
    );
  return { keyId: id, key };
}

/**
 * The trusted keys of a file or a folder (every `.pub`, `.pem` and `.json` file in it, by name).
 * A file holds PEM, raw base64, or JSON: one `{ keyId?, publicKey, notAfter? }`, an array of them,
 * or `{ "keys": [...] }`. Throws SigningKeyError naming the file when any key cannot be used: a
 * process must not run with fewer keys than its operator meant, nor silently with none.
 */
export function loadTrustedKeys(path: string): TrustedKey[] {
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((f) => /\.(?:pub|pem|json)$/.test(f))
          .sort()
          .map((f) => join(path, f))
      : [path];
  } catch (error) {
    throw new SigningKeyError(`cannot read the trusted keys at ${path}: ${describe(error)}`, { cause: error });
  }
  const keys: TrustedKey[] = [];
  for (const file of files) {
    let text: string;
    try {
      if (statSync(file).size > MAX_KEY_FILE_BYTES) throw new Error(`larger than ${MAX_KEY_FILE_BYTES} bytes`);
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new SigningKeyError(`cannot read the trusted key file ${file}: ${describe(error)}`, { cause: error });
    }
    keys.push(...parseKeyFile(text, file));
  }
  if (keys.length === 0)
    throw new SigningKeyError(
      `${path} holds no public key (.pub, .pem or .json files); 'diagnose keys generate' makes a pair.`,
    );
  return keys;
}

function parseKeyFile(text: string, file: string): TrustedKey[] {
  const t = text.trim();
  if (!t.startsWith("{") && !t.startsWith("[")) return [trustedKey(t, file)];
  let json: unknown;
  try {
    json = JSON.parse(t);
  } catch (error) {
    throw new SigningKeyError(`${file} is not valid JSON: ${describe(error)}`);
  }
  const list = Array.isArray(json)
    ? json
    : Array.isArray((json as { keys?: unknown }).keys)
      ? (json as { keys: unknown[] }).keys
      : [json];
  return list.map((entry, i) => {
    if (typeof entry !== "object" || entry === null)
      throw new SigningKeyError(`${file}: key ${i} must be { "keyId", "publicKey", "notAfter" }.`);
    const e = entry as Record<string, unknown>;
    if (typeof e["publicKey"] !== "string")
      throw new SigningKeyError(`${file}: key ${i} has no "publicKey" string (PEM or raw base64).`);
    const input: TrustedKeyInput = { publicKey: e["publicKey"] };
    if (e["keyId"] !== undefined) input.keyId = e["keyId"] as string;
    if (e["notAfter"] !== undefined) input.notAfter = e["notAfter"] as string | null;
    return trustedKey(input, `${file}: key ${i}`);
  });
}

/** A new Ed25519 key pair as PEM (PKCS#8 private, SPKI public) and its key id. */
export function generateSigningKeyPair(): { keyId: string; privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    keyId: keyIdOf(publicKey),
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

function isKeyObject(v: unknown): v is KeyObject {
  return v instanceof KeyObject;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.replace(/\s*\n\s*/g, " ") : String(error);
}
