import { inject } from 'vitest';
import { startNatsServer, type LocalServer } from '@stackyard/devinfra';
import { uuidv7 } from '@stackyard/events';
import { baseConfigSchema, type BaseConfig } from '@stackyard/config';

/** The MongoDB-wire server of this test run (FerretDB started by the global setup, or MONGO_URL). */
export function mongoUrl(): string {
  return inject('mongoUrl');
}

/** A database prefix no other test uses. */
export function uniquePrefix(tag = 't'): string {
  return `${tag}_${uuidv7().replace(/-/g, '').slice(-12)}`;
}

/** A private nats-server with JetStream for one test file (no cross-talk between files). */
export function privateNats(): Promise<LocalServer> {
  return startNatsServer();
}

/** Base service config on loopback with ephemeral ports. */
export function testConfig(natsUrl: string, dbPrefix: string, extra: Record<string, string> = {}): BaseConfig & Record<string, unknown> {
  return {
    ...baseConfigSchema.parse({ NATS_URL: natsUrl, MONGO_URL: mongoUrl(), MONGO_DB_PREFIX: dbPrefix, GRPC_PORT: 0, HTTP_PORT: 0, LOG_LEVEL: 'silent' }),
    ...extra,
  };
}

/** Polls until `fn` returns a value (not undefined) or the timeout passes. */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { InMemoryAggregateStore, type FakeWrite, type FakeWriteOptions } from './fakes';
