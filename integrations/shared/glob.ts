/**
 * A small glob matcher shared by the integrations and the CLI (Node 20 has no `path.matchesGlob`).
 *
 * Syntax: `**` any run of characters including `/`, `*` any run without `/`, `?` one character
 * other than `/`, `{a,b}` alternatives, `[abc]` a character class. Everything else is literal.
 * A pattern `dir/**` also matches `dir` itself; a pattern ending in `/` matches everything below.
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
