import { MongoClient, type Db } from 'mongodb';
import { DependencyUnavailableError } from '@stackyard/errors';
import { commandCountsDir, countCommands } from './command-counts';

export interface MongoConnection {
  readonly client: MongoClient;
  db(name: string): Db;
  close(): Promise<void>;
}

/**
 * Connects with the official driver. Works against MongoDB and FerretDB (docs/adr/0003: no
 * multi-document transactions are used, so a standalone server is enough).
 */
export async function connectMongo(url: string, opts: { timeoutMs?: number; appName?: string } = {}): Promise<MongoConnection> {
  const countsDir = commandCountsDir();
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: opts.timeoutMs ?? 10_000,
    appName: opts.appName ?? 'stackyard',
    retryWrites: false,
    // FerretDB maps client connections onto backend (PostgreSQL) connections: keep the pool small.
    maxPoolSize: 10,
    // Domain objects use undefined for absent optional fields; never store them as null.
    ignoreUndefined: true,
    // Bench only (STACKYARD_MONGO_COMMAND_COUNTS): command events are not even emitted otherwise.
    ...(countsDir ? { monitorCommands: true } : {}),
  });
  const stopCounting = countsDir ? countCommands(client, countsDir, opts.appName ?? 'stackyard') : undefined;
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } catch (e) {
    await client.close().catch(() => undefined);
    stopCounting?.();
    throw new DependencyUnavailableError(`MongoDB at ${redactUrl(url)}`, e);
  }
  return {
    client,
    db: (name) => client.db(name),
    close: async () => {
      try {
        await client.close();
      } finally {
        stopCounting?.();
      }
    },
  };
}

/** Removes credentials from a connection string before it is logged or shown. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

export function isDuplicateKey(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 11000;
}
