import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { DependencyUnavailableError } from '@stackyard/errors';
import { CONTEXTS, streamFor, type Context } from '@stackyard/events';

export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  close(): Promise<void>;
}

/** Dedup window of every Stackyard stream (docs/adr/0003): longer than any relay retry loop. */
export const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

export async function connectBus(servers: string, name: string, auth: { user?: string | undefined; pass?: string | undefined } = {}): Promise<Bus> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: servers.split(','),
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      ...(auth.user ? { user: auth.user, pass: auth.pass ?? '' } : {}),
    });
  } catch (e) {
    throw new DependencyUnavailableError(`NATS at ${servers}`, e);
  }
  const jsm = await jetstreamManager(nc);
  return {
    nc,
    js: jetstream(nc),
    jsm,
    close: async () => {
      if (!nc.isClosed()) await nc.drain();
    },
  };
}

/** Creates (or updates) the stream of each context. Idempotent; every service calls it at start. */
export async function ensureStreams(jsm: JetStreamManager, contexts: readonly Context[] = CONTEXTS, replicas = 1): Promise<void> {
  for (const c of contexts) {
    const { name, subjects } = streamFor(c);
    const config = { name, subjects, storage: StorageType.File, duplicate_window: nanos(DUPLICATE_WINDOW_MS), num_replicas: replicas };
    try {
      await jsm.streams.info(name);
      await jsm.streams.update(name, { subjects, duplicate_window: config.duplicate_window });
    } catch (e) {
      if (!/stream not found/i.test((e as Error).message)) throw e;
      try {
        await jsm.streams.add(config);
      } catch (e2) {
        // Another service created it between our info and add.
        if (!/already in use|already exists/i.test((e2 as Error).message)) throw e2;
      }
    }
  }
}
