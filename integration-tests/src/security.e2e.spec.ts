import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGenericClientConstructor, status, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { call, clientCredentials, insecure, sha256Hex, withToken } from '@stackyard/grpc';
import { startInventory, configSchema } from '@stackyard/inventory';
import type { RunningService } from '@stackyard/service';
import type { LocalServer } from '@stackyard/devinfra';
import { InventoryServiceClient } from '@stackyard/proto/inventory/v1/inventory_service';
import { mongoUrl, privateNats, uniquePrefix } from '@stackyard/testing';
import { makePki } from './pki';

// gRPC with mutual TLS and API tokens (roles, site scope) on a real inventory service.
let f: (name: string) => string;

const TOKENS = { viewer: 'tok-viewer-0123456789', opDc1: 'tok-operator-dc1-0123456789', admin: 'tok-admin-0123456789' };

describe('gRPC security: mutual TLS and API tokens', () => {
  let nats: LocalServer;
  let svc: RunningService;
  let client: InventoryServiceClient;
  const addr = () => `127.0.0.1:${svc.grpcPort}`;

  beforeAll(async () => {
    f = makePki();
    writeFileSync(
      f('tokens.json'),
      JSON.stringify([
        { name: 'viewer', role: 'viewer', sites: ['*'], token_sha256: sha256Hex(TOKENS.viewer) },
        { name: 'dc1-operator', role: 'operator', sites: ['dc1'], token_sha256: sha256Hex(TOKENS.opDc1) },
        { name: 'admin', role: 'admin', sites: ['*'], token_sha256: sha256Hex(TOKENS.admin) },
      ]),
    );
    nats = await privateNats();
    svc = await startInventory(
      configSchema.parse({
        NATS_URL: nats.url,
        MONGO_URL: mongoUrl(),
        MONGO_DB_PREFIX: uniquePrefix('sec'),
        GRPC_PORT: '0',
        HTTP_PORT: '0',
        LOG_LEVEL: 'silent',
        GRPC_TLS_CERT_FILE: f('server.crt'),
        GRPC_TLS_KEY_FILE: f('server.key'),
        GRPC_TLS_CLIENT_CA_FILE: f('ca.crt'),
        AUTH_TOKENS_FILE: f('tokens.json'),
      }),
    );
    client = new InventoryServiceClient(addr(), clientCredentials({ caFile: f('ca.crt'), certFile: f('client.crt'), keyFile: f('client.key') }));
  });
  afterAll(async () => {
    client?.close();
    await svc?.stop();
    await nats?.stop();
  });

  const code = (p: Promise<unknown>) => p.then(() => status.OK, (e: ServiceError) => e.code);
  const as = (token: string) => ({ metadata: withToken(token), attempts: 1 });

  it('refuses callers without a token or with an unknown one (UNAUTHENTICATED)', async () => {
    expect(await code(call(client, client.getSite, { id: 'dc1' }, { attempts: 1 }))).toBe(status.UNAUTHENTICATED);
    expect(await code(call(client, client.getSite, { id: 'dc1' }, as('not-a-token')))).toBe(status.UNAUTHENTICATED);
  });

  it('lets a viewer read but not write (PERMISSION_DENIED), and writes nothing', async () => {
    expect(await code(call(client, client.createSite, { id: 'dc9', displayName: '' }, as(TOKENS.viewer)))).toBe(status.PERMISSION_DENIED);
    expect(await code(call(client, client.getSite, { id: 'dc9' }, as(TOKENS.viewer)))).toBe(status.NOT_FOUND);
  });

  it('keeps a site-scoped operator inside its sites', async () => {
    expect(await code(call(client, client.createSite, { id: 'dc1', displayName: 'one' }, as(TOKENS.opDc1)))).toBe(status.OK);
    expect(await code(call(client, client.createSite, { id: 'dc2', displayName: 'two' }, as(TOKENS.opDc1)))).toBe(status.PERMISSION_DENIED);
    expect(await code(call(client, client.getHost, { id: 'dc2-h1' }, as(TOKENS.opDc1)))).toBe(status.PERMISSION_DENIED);
    const reg = { siteId: 'dc2', name: 'h1', groups: ['compute'], bmc: { address: '10.0.0.1', driver: 'lab', credentialRef: '' }, labels: {}, hardwareProfile: '', requestId: 'r' };
    expect(await code(call(client, client.registerHost, reg, as(TOKENS.opDc1)))).toBe(status.PERMISSION_DENIED);
    expect(await code(call(client, client.createSite, { id: 'dc2', displayName: 'two' }, as(TOKENS.admin)))).toBe(status.OK);
    expect(await code(call(client, client.registerHost, reg, as(TOKENS.admin)))).toBe(status.OK);
    const denied = await call(client, client.getHost, { id: 'dc2-h1' }, as(TOKENS.opDc1)).catch((e: ServiceError) => e);
    expect((denied as ServiceError).details).toMatch(/dc1-operator may not act on host "dc2-h1"/);
  });

  it('requires a client certificate from the trusted CA (mutual TLS)', async () => {
    const noCert = new InventoryServiceClient(addr(), clientCredentials({ caFile: f('ca.crt') }));
    const rogue = new InventoryServiceClient(addr(), clientCredentials({ caFile: f('ca.crt'), certFile: f('rogue.crt'), keyFile: f('rogue.key') }));
    const plain = new InventoryServiceClient(addr(), insecure());
    try {
      for (const c of [noCert, rogue, plain]) {
        expect(await code(call(c, c.getSite, { id: 'dc1' }, { ...as(TOKENS.admin), deadlineMs: 3000 }))).toBe(status.UNAVAILABLE);
      }
    } finally {
      noCert.close();
      rogue.close();
      plain.close();
    }
  });

  it('keeps the health service open to probes without a token', async () => {
    const Health = makeGenericClientConstructor(healthService, 'Health');
    const health = new Health(addr(), clientCredentials({ caFile: f('ca.crt'), certFile: f('client.crt'), keyFile: f('client.key') })) as unknown as {
      check(req: { service: string }, cb: (e: unknown, r: { status: string | number }) => void): void;
      close(): void;
    };
    const res = await new Promise<{ status: string | number }>((resolve, reject) =>
      health.check({ service: '' }, (e, r) => (e ? reject(e) : resolve(r))),
    );
    health.close();
    expect([1, 'SERVING']).toContain(res.status);
  });
});
