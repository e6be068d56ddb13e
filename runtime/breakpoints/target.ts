/**
 * `(objectOrClass, "method")` → the method's qualified name, like the seed's
 * `Breakpoint(S3Archive, "unarchive")`. The registry knows functions by name only, so the name is
 * found from the class's name and the member's name (`Cart.total`, `Cart.total@get`), and, when
 * several functions share that path (a static and an instance method of one name get `~2`), from
 * the entry site id written in the instrumented function's own code.
 */
import { listFunctions, type FunctionInfo } from "../registry/index.js";
import { BreakpointMisuseError } from "./errors.js";

interface Member {
  fn: Function;
  owner: string | undefined;
  getter: boolean;
}

function findMember(holder: object, name: string): Member | undefined {
  for (
    let o: object | null = holder;
    o !== null && o !== Object.prototype && o !== Function.prototype;
    o = Object.getPrototypeOf(o)
  ) {
    const d = Object.getOwnPropertyDescriptor(o, name);
    if (d === undefined) continue;
    const fn = typeof d.value === "function" ? (d.value as Function) : typeof d.get === "function" ? d.get : undefined;
    if (fn === undefined) return undefined;
    const owner = typeof o === "function" ? o.name : (o as { constructor?: { name?: unknown } }).constructor?.name;
    return {
      fn,
      owner: typeof owner === "string" && owner !== "" && owner !== "Object" ? owner : undefined,
      getter: d.get === fn,
    };
  }
  return undefined;
}

/** The qualified name of `holder[name]`; throws BreakpointMisuseError when it cannot be found. */
export function resolveMember(holder: unknown, name: string): string {
  if ((typeof holder !== "object" && typeof holder !== "function") || holder === null) {
    throw new BreakpointMisuseError(
      `Breakpoint target: expected a class or an object and a method name, got ${typeof holder}.`,
    );
  }
  // A class: its instance methods first (the seed's usage), then its static ones.
  const member =
    (typeof holder === "function" && typeof (holder as { prototype?: unknown }).prototype === "object"
      ? findMember((holder as { prototype: object }).prototype, name)
      : undefined) ?? findMember(holder, name);
  if (member === undefined) {
    throw new BreakpointMisuseError(
      `Breakpoint target: ${describe(holder)} has no method or getter ${JSON.stringify(name)}.`,
    );
  }
  const suffix = member.getter ? "@get" : "";
  const base = `${member.owner === undefined ? "" : member.owner + "."}${name}${suffix}`;
  const matches = (path: string) =>
    path === base || path.startsWith(`${base}~`) || (member.owner === undefined && path.endsWith(`.${name}${suffix}`));
  let candidates: FunctionInfo[] = listFunctions().filter((f) => matches(f.path));
  if (candidates.length > 1) {
    const code = Function.prototype.toString.call(member.fn);
    const byEntry = candidates.filter((f) => {
      const entry = f.sites.find((s) => s.kind === "entry");
      return entry !== undefined && new RegExp(`\\$dg\\w*E\\(${entry.id},`).test(code);
    });
    if (byEntry.length > 0) candidates = byEntry;
  }
  if (candidates.length === 1) return candidates[0]!.qualifiedName;
  if (candidates.length === 0) {
    throw new BreakpointMisuseError(
      `Breakpoint target: no instrumented function is named ${JSON.stringify(base)}. Is its module built with ` +
        `the diagnose transformer? Pass its qualified name ("src/file.ts:${base}") instead.`,
    );
  }
  throw new BreakpointMisuseError(
    `Breakpoint target: ${candidates.length} instrumented functions match ${JSON.stringify(base)} ` +
      `(${candidates.map((f) => f.qualifiedName).join(", ")}); pass the qualified name of the one you mean.`,
  );
}

function describe(holder: object): string {
  try {
    return typeof holder === "function" ? `class ${holder.name || "(anonymous)"}` : `the object`;
  } catch {
    return "the object";
  }
}
