/** The PostgreSQL store against the server on 127.0.0.1:5432, each store in a private schema. */
import { after } from "node:test";
import { postgresStore } from "../../../runtime/manager/stores/index.js";
import { storeConformance } from "../../../runtime/testing/store-conformance.js";
import { dropPgSchema, PG_URL, runId } from "./servers.js";

const base = `dgt_${runId()}`;
const schemas: string[] = [];
after(async () => {
  for (const s of schemas) await dropPgSchema(PG_URL, s);
});

storeConformance(
  "postgres",
  async () => {
    const schema = `${base}_${schemas.length}`;
    schemas.push(schema);
    return postgresStore({ url: PG_URL, schema });
  },
  { requireWatch: true },
);
