/**
 * Type stripping that keeps every character where it was: annotations, `interface`s, `import type`
 * and the like become spaces, so the output has the lines and columns of its input and needs no
 * source map of its own (and no composition with the instrumenter's). The stripper is amaro's
 * strip-only mode (the WebAssembly build of SWC's type stripper that Node's own
 * `--experimental-strip-types` runs), one pinned version on every Node version. Node's built-in
 * `module.stripTypeScriptTypes` (22.13+) is the same code, but it prints an ExperimentalWarning into
 * the user's process, so it is not used here.
 *
 * Off unless `DIAGNOSE_STRIP=in-place` (inPlaceRequested): loading amaro's WebAssembly costs a few
 * hundred milliseconds once per thread, more than it saves on the files a process loads once each
 * (docs/benchmarks.md, "Build side"). Where it is on, it gives the program SWC's transform gives only
 * where nothing needs a transform: `stripInPlace` answers `undefined` (the caller then runs SWC as
 * before) when:
 * - the output is CommonJS (imports become `require` calls) or the file is `.tsx`/`.jsx` (JSX);
 * - the nearest tsconfig.json does not set `verbatimModuleSyntax`: without it SWC drops imports
 *   that only name types, which a strip keeps (`import { Options } from "./types"` would then fail
 *   to link);
 * - it sets `useDefineForClassFields: false` or `experimentalDecorators` (both need a transform);
 * - the text may hold syntax that SWC lowers to ES2022 and Node 20–24 cannot run: decorators,
 *   `using` declarations, `accessor` fields (mayNeedLowering);
 * - the stripper refuses the file: enums, namespaces, parameter properties, `import x =`,
 *   `export =`, `<T>x` assertions, or a syntax error (SWC then reports it as before);
 *
 * A missing amaro (an optional dependency; npm leaves it out on Node 20, below its engines range)
 * is a MissingDependencyError naming the package to install.
 */
import { amaro } from "../../transformer/dependencies.js";
import { endOfBlockComment, endOfLineComment, endOfQuotedString } from "../../transformer/lexical.js";
import type { ModuleFormat } from "./compile.js";
import { DiagnoseConfigError } from "./config.js";
import type { TsCompilerOptions } from "./tsconfig.js";

/** Whether `DIAGNOSE_STRIP` asks for the in-place strip: "in-place" yes; unset or "swc" no. */
export function inPlaceRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env["DIAGNOSE_STRIP"];
  if (value === undefined || value === "" || value === "swc") return false;
  if (value === "in-place") return true;
  throw new DiagnoseConfigError(`DIAGNOSE_STRIP must be "in-place" or "swc", not ${JSON.stringify(value)}`);
}

/** Why a file is not stripped in place (null: it can be), before the stripper is asked. */
export function inPlaceRefusal(
  code: string,
  filename: string,
  format: ModuleFormat,
  ts: TsCompilerOptions,
): string | null {
  if (format !== "module") return "CommonJS output needs the module transform";
  if (!/\.m?ts$/.test(filename)) return "only .ts and .mts files (JSX needs a transform)";
  if (ts.verbatimModuleSyntax !== true) return "tsconfig.json does not set verbatimModuleSyntax";
  if (ts.useDefineForClassFields === false) return "useDefineForClassFields: false needs a transform";
  if (ts.experimentalDecorators === true) return "experimentalDecorators need a transform";
  if (mayNeedLowering(code)) return "decorators, `using` or `accessor` need lowering to ES2022";
  return null;
}

/** Characters after which a `/` starts a regular expression literal rather than a division. */
const BEFORE_REGEX = new Set("(,=:[!&|?{};+-*%<>~^".split("").map((c) => c.charCodeAt(0)));
const KEYWORDS_BEFORE_REGEX =
  /(?:^|[^\w$])(?:return|typeof|instanceof|in|of|new|delete|void|throw|case|do|else|yield|await)$/;
const USING_OR_ACCESSOR = /^(?:using|accessor)\s+[\p{ID_Start}$_\\#[]/u;

/**
 * Whether the code (outside comments, strings, template text and regular expression literals) has
 * an `@` (decorators: no other JavaScript syntax uses it), or the word `using` or `accessor` before
 * a name (`using` declarations, auto-accessor fields): syntax SWC lowers to ES2022 and Node 20–24
 * cannot run. A lexical scan, linear in the text; it errs on the side of yes (`using x` in an
 * expression counts), which only costs the SWC path. Regular expression literals are told from
 * divisions by the token before the `/`, as tokenizers do.
 */
export function mayNeedLowering(code: string): boolean {
  const n = code.length;
  // Open `${` of template literals, by brace depth: a `}` at that depth resumes the template text.
  const templates: number[] = [];
  let braces = 0;
  let previous = 0; // the last significant character of code, 0 at the start
  let i = 0;
  const templateText = (): void => {
    while (i < n) {
      const c = code.charCodeAt(i);
      if (c === 92 /* \ */) i += 2;
      else if (c === 96 /* ` */) {
        i++;
        return;
      } else if (c === 36 /* $ */ && code.charCodeAt(i + 1) === 123 /* { */) {
        i += 2;
        templates.push(++braces);
        return;
      } else i++;
    }
  };
  while (i < n) {
    const c = code.charCodeAt(i);
    if (c === 47 /* / */) {
      const next = code.charCodeAt(i + 1);
      if (next === 47) {
        i = endOfLineComment(code, i);
        continue;
      }
      if (next === 42 /* * */) {
        i = endOfBlockComment(code, i);
        continue;
      }
      if (
        previous === 0 ||
        BEFORE_REGEX.has(previous) ||
        KEYWORDS_BEFORE_REGEX.test(code.slice(Math.max(0, i - 12), i).trimEnd())
      ) {
        // A regular expression literal: up to the `/` that closes it, on this line.
        let j = i + 1;
        let inClass = false;
        while (j < n) {
          const d = code.charCodeAt(j);
          if (d === 92) j += 2;
          else if (d === 10 || d === 13) break;
          else {
            if (d === 91 /* [ */) inClass = true;
            else if (d === 93 /* ] */) inClass = false;
            else if (d === 47 && !inClass) break;
            j++;
          }
        }
        if (j < n && code.charCodeAt(j) === 47) {
          i = j + 1;
          previous = 47;
          continue;
        }
      }
    } else if (c === 34 /* " */ || c === 39 /* ' */) {
      i = endOfQuotedString(code, i);
      previous = c;
      continue;
    } else if (c === 96) {
      i++;
      templateText();
      previous = c;
      continue;
    } else if (c === 64 /* @ */) {
      return true;
    } else if (c === 123) {
      braces++;
    } else if (c === 125 /* } */) {
      if (templates.length > 0 && templates[templates.length - 1] === braces) {
        templates.pop();
        braces--;
        i++;
        templateText();
        previous = 96;
        continue;
      }
      braces--;
    } else if ((c === 117 /* u */ || c === 97) /* a */ && !isWordChar(code.charCodeAt(i - 1))) {
      if (USING_OR_ACCESSOR.test(code.slice(i, i + 40))) return true;
    }
    if (!isSpace(c)) previous = c;
    i++;
  }
  return false;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36 || c === 95 || c > 127;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12 || c === 0xa0 || c === 0xfeff;
}

/**
 * `code` with its types stripped in place (same length, same line breaks), or undefined when the
 * file needs SWC's transform (see the module comment).
 */
export function stripInPlace(
  code: string,
  filename: string,
  format: ModuleFormat,
  ts: TsCompilerOptions,
): string | undefined {
  if (inPlaceRefusal(code, filename, format, ts) !== null) return undefined;
  // Outside the try: a missing package is an error to report, not a file to leave to SWC.
  const stripper = amaro();
  try {
    return stripper.transformSync(code, { mode: "strip-only" }).code;
  } catch {
    return undefined;
  }
}
