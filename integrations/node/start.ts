/**
 * `diagnose/start`: starts the default manager on the store named by `DIAGNOSE_STORE` (or the
 * `"diagnose"` block of package.json), for code already built with the diagnose compiler pass:
 *
 *     DIAGNOSE_STORE=file:./diagnose-specs.json node --import diagnose/start dist/app.js
 *
 * `diagnose/register` does the same while it compiles TypeScript at load time.
 */
import { autostart } from "./autostart.js";

await autostart();
