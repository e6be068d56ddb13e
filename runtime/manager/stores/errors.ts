/**
 * Typed errors of the spec stores. Each extends the package's one error root and carries a stable
 * `code`; a store rejects with these, never throws them synchronously.
 */
import { DiagnoseError } from "../../../errors/index.js";

/** A compare-and-set put or remove found another version than the one the writer read. */
export class SpecConflictError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_SPEC_CONFLICT";
  readonly id: string;
  /** The version the writer expected (`null`: it expected no spec of that id). */
  readonly expectedVersion: string | null;
  /** The version found in the store (`null`: there is no spec of that id). */
  readonly actualVersion: string | null;
  constructor(id: string, expectedVersion: string | null, actualVersion: string | null) {
    const what =
      expectedVersion === null
        ? `already exists (version ${actualVersion ?? "?"}): remove it first, or put it with its current version`
        : actualVersion === null
          ? `was removed since it was read (expected version ${expectedVersion})`
          : `was changed by another writer since it was read (expected version ${expectedVersion}, found ${actualVersion})`;
    super(SpecConflictError.CODE, `Spec ${JSON.stringify(id)} ${what}. Re-read it and apply your change again.`);
    this.id = id;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

/** The store's backend cannot be reached or used (a lock held too long, a closed store, I/O failure). */
export class StoreUnavailableError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_STORE_UNAVAILABLE";
  /** The store's description (never credentials). */
  readonly store: string;
  constructor(store: string, detail: string, options?: { cause?: unknown }) {
    super(StoreUnavailableError.CODE, `Store ${store} is unavailable: ${detail}`, options);
    this.store = store;
  }
}

/** What the store holds, or what was given to it, is not in a form it can read or write. */
export class StoreFormatError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_STORE_FORMAT";
  readonly store: string;
  constructor(store: string, detail: string, options?: { cause?: unknown }) {
    super(StoreFormatError.CODE, `Store ${store}: ${detail}`, options);
    this.store = store;
  }
}

/** A store URI (`--store`, `DIAGNOSE_STORE`) that names no store this installation can open. */
export class InvalidStoreUriError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_INVALID_STORE_URI";
  /** The URI with any credentials replaced by `***`. */
  readonly uri: string;
  constructor(uri: string, detail: string) {
    super(InvalidStoreUriError.CODE, `Invalid store URI ${JSON.stringify(uri)}: ${detail}`);
    this.uri = uri;
  }
}

/** A store needs a database driver (an optional peer dependency) that is not installed. */
export class StoreDriverMissingError extends DiagnoseError {
  static readonly CODE = "DIAGNOSE_STORE_DRIVER_MISSING";
  /** The npm package to install. */
  readonly packageName: string;
  constructor(store: string, packageName: string, version: string, options?: { cause?: unknown }) {
    super(
      StoreDriverMissingError.CODE,
      `The ${store} store needs the "${packageName}" package, which is not installed: run \`npm install ${packageName}@${version}\` ` +
        `in your service (Diagnose loads it only when this store is used), or pass an existing client in the store's options.`,
      options,
    );
    this.packageName = packageName;
  }
}
