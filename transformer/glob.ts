/**
 * A tiny glob matcher for the `include` / `exclude` options, matched against module paths
 * relative to the project root ("/" separators). Supported: `**` (any number of path segments),
 * `*` (any characters except "/"), `?` (one character except "/"); everything else is literal.
 * A pattern without "/" matches the file name in any folder (like .gitignore), so `*.test.ts`
 * excludes tests everywhere.
 */

const cache = new Map<string, RegExp>();

/** Compiles a glob to an anchored regular expression (cached: the same lists are matched per file). */
export function globToRegExp(glob: string): RegExp {
  const hit = cache.get(glob);
  if (hit) return hit;
  let pattern = glob.startsWith("./") ? glob.slice(2) : glob;
  if (!pattern.includes("/")) pattern = `**/${pattern}`;
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        // `**/` matches zero or more whole segments; a trailing `**` matches the rest.
        if (pattern[i + 2] === "/") {
          source += "(?:[^/]*/)*";
          i += 2;
        } else {
          source += ".*";
          i += 1;
        }
      } else {
        source += "[^/]*";
      }
    } else if (c === "?") {
      source += "[^/]";
    } else {
      source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  const re = new RegExp(`^${source}$`);
  cache.set(glob, re);
  return re;
}

/** True if `path` matches at least one of the globs. */
export function matchesAny(path: string, globs: readonly string[]): boolean {
  for (const glob of globs) if (globToRegExp(glob).test(path)) return true;
  return false;
}
