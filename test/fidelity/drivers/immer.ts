/**
 * Fidelity driver for immer (its shipped `src/`): generated recipes (set, delete, push, splice,
 * Map/Set edits, returning a replacement, throwing) run through produce / produceWithPatches /
 * applyPatches; records results, patches, structural sharing (which subtrees are the base's own
 * objects), freezing, errors and the recipe's calls.
 */
import { driverMain, isMain, type Serializer } from "../driver-common.js";

export type Edit =
  | ["set", string[], unknown]
  | ["delete", string[]]
  | ["push", string[], unknown]
  | ["splice", string[], number, number]
  | ["mapSet", string, unknown]
  | ["setAdd", unknown]
  | ["read", string[]]
  | ["throw"]
  | ["replace", unknown];
export interface Case {
  base: Record<string, unknown>;
  edits: Edit[];
}

type Immer = Record<string, any>;

async function run(modules: Map<string, Record<string, unknown>>, inputs: Case[], ser: Serializer): Promise<unknown[]> {
  const im: Immer = modules.get("src/immer.js")!;
  im["enablePatches"]();
  im["enableMapSet"]();
  const results: unknown[] = [];
  const at = (root: any, path: string[]): any =>
    path.reduce((o, k) => (o === null || typeof o !== "object" ? undefined : o[k]), root);
  const sharing = (a: unknown, b: unknown, path: string, out: string[]): string[] => {
    if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return out;
    if (a === b) out.push(path);
    else for (const k of Object.keys(a)) sharing((a as any)[k], (b as any)[k], `${path}/${k}`, out);
    return out;
  };
  for (const c of inputs) {
    const trace: unknown[] = [];
    const base = { ...c.base, m: new Map([["k", 1]]), s: new Set([1, 2]) };
    const recipe = (draft: any): unknown => {
      for (const e of c.edits) {
        trace.push(["edit", ser.value(e)]);
        const parent = e[0] === "set" || e[0] === "delete" ? at(draft, e[1].slice(0, -1)) : undefined;
        switch (e[0]) {
          case "set":
            if (parent !== null && typeof parent === "object") parent[e[1][e[1].length - 1] ?? "x"] = e[2];
            break;
          case "delete":
            if (parent !== null && typeof parent === "object") delete parent[e[1][e[1].length - 1] ?? "x"];
            break;
          case "push": {
            const a = at(draft, e[1]);
            if (Array.isArray(a)) a.push(e[2]);
            break;
          }
          case "splice": {
            const a = at(draft, e[1]);
            if (Array.isArray(a)) trace.push(["spliced", ser.value(a.splice(e[2], e[3]))]);
            break;
          }
          case "mapSet":
            draft.m.set(e[1], e[2]);
            break;
          case "setAdd":
            draft.s.add(e[1]);
            break;
          case "read":
            trace.push(["read", ser.value(im["current"](draft)?.[e[1][0] ?? "x"]), im["isDraft"](at(draft, e[1]))]);
            break;
          case "throw":
            throw ser.userError("recipe");
          case "replace":
            return e[1];
        }
      }
      return undefined;
    };
    try {
      const [next, patches, inverse] = im["produceWithPatches"](base, recipe);
      trace.push(["result", ser.value(next), ser.value(patches), ser.value(inverse)]);
      trace.push(["same", next === base, sharing(next, base, "", []), Object.isFrozen(next)]);
      trace.push(["apply", ser.value(im["applyPatches"](base, patches)), ser.value(im["applyPatches"](next, inverse))]);
      const curried = im["produce"](recipe);
      trace.push(["curried", ser.value(curried(base))]);
    } catch (e) {
      trace.push(["threw", ser.error(e)]);
    }
    results.push(trace);
  }
  return results;
}

if (isMain(import.meta.url)) await driverMain(run);
