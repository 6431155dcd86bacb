export { connectMongo, redactUrl, isDuplicateKey, type MongoConnection } from './client';
export {
  AggregateStore,
  inboxKey,
  LISTING_BATCH,
  SITE_KEY,
  HOST_SITE_KEY,
  isStorableId,
  type AggregateDoc,
  type OutboxEntry,
  type StoreOptions,
  type Versioned,
  type WriteOptions,
  type WriteResult,
} from './store';
export { type CommandCount, type CommandCountsFile } from './command-counts';
export { OutboxRelay, type Publish, type RelayLogger } from './relay';
