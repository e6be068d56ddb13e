/** The Redis store against the Redis server on 127.0.0.1:6379, each store under a private key prefix. */
import { after } from "node:test";
import { redisStore } from "../../../runtime/manager/stores/index.js";
import { storeConformance } from "../../../runtime/testing/store-conformance.js";
import { dropRedisPrefix, REDIS_URL, runId } from "./servers.js";

const base = `diagnose-test-${runId()}:`;
let n = 0;
after(() => dropRedisPrefix(REDIS_URL, base));

storeConformance("redis", async () => redisStore({ url: REDIS_URL, prefix: `${base}${++n}:` }), { requireWatch: true });
