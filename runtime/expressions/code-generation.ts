/**
 * Whether this realm may generate code from strings (`new Function`), which expressions compile
 * with. Node refuses it under `--disallow-code-generation-from-strings`, a `vm` context may refuse
 * it too (`codeGeneration: { strings: false }`), so it is asked by trying, not by reading
 * `process.execArgv` (which misses NODE_OPTIONS and contexts). The answer cannot change for the
 * life of a realm: asked once, on first need.
 */

let allowed: boolean | undefined;

/** Whether `new Function` works here; false when the realm refuses code generation from strings. */
export function codeGenerationAllowed(): boolean {
  if (allowed === undefined) {
    try {
      new Function("");
      allowed = true;
    } catch (err) {
      // Only V8's refusal is an answer; anything else (a stack overflow) is asked again next time.
      if (!(err instanceof EvalError)) throw err;
      allowed = false;
    }
  }
  return allowed;
}
