/**
 * The one glob matcher of the project: `include` / `exclude` options (instrument(), the Node
 * loader, the tsc plugin) and the CLI's filters all use it, so a pattern means the same everywhere.
 * Node 20 has no `path.matchesGlob`.
 *
 * Syntax: `**` any run of characters including `/` (`a/**` also matches `a`, `a/**` + `/b` also
 * matches `a/b`), `*` any run without `/`, `?` one character other than `/`, `{a,b}` alternatives,
 * `[abc]` / `[!abc]` character classes. Everything else is literal. A pattern ending in `/` matches
 * everything below. In include/exclude lists (`matchesAny`), a pattern without `/` matches the
 * file name in any folder, like .gitignore: `*.test.ts` excludes tests everywhere.
 */

const cache = new Map<string, RegExp>();

/** Compiles a glob to an anchored regular expression; `sep` is the character `*` does not cross. */
export function globToRegExp(glob: string, sep = "/"): RegExp {
  const key = sep + "\0" + glob;
  let re = cache.get(key);
  if (re === undefined) {
    re = new RegExp("^" + translate(glob.endsWith("/") ? glob + "**" : glob, sep) + "$");
    cache.set(key, re);
  }
  return re;
}

/** True when `text` matches `glob` (see the module comment for the syntax). */
export function matchesGlob(text: string, glob: string, sep = "/"): boolean {
  return globToRegExp(glob, sep).test(text);
}

/** True when a string contains glob syntax, i.e. is not meant as a plain substring. */
export function isGlob(text: string): boolean {
  return /[*?[{]/.test(text);
}

function translate(glob: string, sep: string): string {
  const notSep = `[^${escapeClass(sep)}]`;
  let out = "";
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        // `a/**/b` also matches `a/b`; a trailing `/**` also matches the folder itself.
        if (glob[i + 1] === sep) {
          i++;
          out += `(?:.*${escapeRe(sep)})?`;
        } else if (out.endsWith(escapeRe(sep)) && i + 1 === glob.length) {
          out = out.slice(0, -escapeRe(sep).length) + `(?:${escapeRe(sep)}.*)?`;
        } else {
          out += ".*";
        }
      } else {
        out += `${notSep}*`;
      }
    } else if (c === "?") {
      out += notSep;
    } else if (c === "{") {
      braces++;
      out += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      out += ")";
    } else if (c === "," && braces > 0) {
      out += "|";
    } else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end === -1) {
        out += "\\[";
      } else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith("!")) body = "^" + body.slice(1);
        out += "[" + body.replace(/\\/g, "\\\\") + "]";
        i = end;
      }
    } else {
      out += escapeRe(c);
    }
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function escapeClass(s: string): string {
  return s.replace(/[\]\\^-]/g, "\\$&");
}

/**
 * True if a module path (relative to the project root, "/" separators) matches one of the
 * include/exclude globs. A leading `./` is ignored; a pattern without `/` matches in any folder.
 */
export function matchesAny(path: string, globs: readonly string[]): boolean {
  for (const glob of globs) {
    let pattern = glob.startsWith("./") ? glob.slice(2) : glob;
    if (!pattern.includes("/")) pattern = `**/${pattern}`;
    if (globToRegExp(pattern).test(path)) return true;
  }
  return false;
}
