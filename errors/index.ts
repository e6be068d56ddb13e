/**
 * The one error root of the package. Every error Diagnose creates — in the transformer, the
 * runtime, the integrations, the manager and its stores — extends DiagnoseError and carries a stable
 * `code`. This module imports nothing, so every layer can depend on it.
 *
 * Two copies of the package (CJS and ESM, nested installs) share one registry, so an error may
 * have been created by the other copy's class: `instanceof` therefore checks the code (via a
 * realm-wide brand), not the prototype.
 */

const BRAND: unique symbol = Symbol.for("diagnose.error") as never;

function hasCode(value: unknown, code: string | undefined): boolean {
  if (typeof value !== "object" || value === null) return false;
  try {
    const brand = (value as { [BRAND]?: unknown })[BRAND];
    return brand === true && (code === undefined || (value as { code?: unknown }).code === code);
  } catch {
    // A Proxy whose traps throw is not one of ours.
    return false;
  }
}

/** Base class of every error Diagnose creates or reports. */
export class DiagnoseError extends Error {
  /** Stable machine-readable code, e.g. `"DIAGNOSE_TARGET_NOT_FOUND"`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, "name", { value: new.target.name, writable: true, configurable: true });
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses inherit this method; `this` is the class `instanceof` was asked about.
    const code = (this as unknown as { CODE?: string }).CODE;
    return hasCode(value, code);
  }
}

/**
 * `Name: message` on one line, for any thrown value — never throws itself. Errors with hostile
 * shapes (a Proxy, a `message` getter that throws, a `toString` that throws) are described as far
 * as they can be read safely.
 */
export function describeError(error: unknown): string {
  let text: string;
  try {
    text = describeUnsafe(error);
  } catch {
    text = "an unprintable thrown value";
  }
  return text.replace(/\s*\n\s*/g, " ");
}

function describeUnsafe(error: unknown): string {
  if (error instanceof Error) {
    const name = readString(error, "name") ?? "Error";
    const message = readString(error, "message");
    return message === undefined ? `${name} (its message could not be read)` : `${name}: ${message}`;
  }
  if (typeof error === "object" && error !== null) return `thrown value ${String(error)}`;
  if (typeof error === "symbol") return `thrown value ${error.toString()}`;
  return `thrown value ${String(error)}`;
}

function readString(obj: object, key: string): string | undefined {
  try {
    const v = (obj as Record<string, unknown>)[key];
    return typeof v === "string" ? v : v === undefined ? undefined : String(v);
  } catch {
    return undefined;
  }
}
