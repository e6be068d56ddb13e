/**
 * Spec stores: the contract every store implements, the embedded stores (memory, file), opening
 * a store from a URI, and their errors.
 */
export type {
  ProcessReport,
  PutOptions,
  RemoveOptions,
  SpecSnapshot,
  SpecStore,
  StoreChange,
  StoredSpec,
  StoreSubscription,
} from "./contract.js";
export { memoryStore } from "./memory.js";
export type { MemoryStore, MemorySpecs } from "./memory.js";
export { fileStore } from "./file.js";
export type { FileStore, FileStoreOptions } from "./file.js";
export { redisStore } from "./redis.js";
export type { RedisClientLike, RedisStore, RedisStoreOptions } from "./redis.js";
export { postgresStore } from "./postgres.js";
export type { PgPoolLike, PostgresStore, PostgresStoreOptions } from "./postgres.js";
export { mongodbStore } from "./mongodb.js";
export type { MongoCollectionLike, MongoStore, MongoStoreOptions } from "./mongodb.js";
export { STALE_LABEL, withSnapshot } from "./snapshot.js";
export type { SnapshotStore } from "./snapshot.js";
export { openStore, redactUri, storeSchemes } from "./uri.js";
export {
  InvalidStoreUriError,
  SpecConflictError,
  StoreDriverMissingError,
  StoreFormatError,
  StoreUnavailableError,
} from "./errors.js";
