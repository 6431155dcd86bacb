import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Events, newEvent, toWire, type Envelope } from '@stackyard/events';
import type { LocalServer } from '@stackyard/devinfra';
import { startNatsServer } from '@stackyard/devinfra';
import { createLogger } from '@stackyard/telemetry';
import { eventually } from '@stackyard/testing';
import { connectBus, ensureStreams, type Bus } from './connection';
import { EventConsumer } from './consumer';
import { natsUsersConfig } from './permissions';
import { publisherFor } from './publisher';

// Per-service NATS users on a real nats-server: each publishes only its own context's events.
describe('NATS subject permissions per service', () => {
  let server: LocalServer;
  let inventory: Bus;
  let provisioning: Bus;
  const pw = (s: string) => `pw-${s}-secret`;

  beforeAll(async () => {
    server = await startNatsServer({ authorization: natsUsersConfig(pw) });
    inventory = await connectBus(server.url, 'inventory', { user: 'inventory', pass: pw('inventory') });
    provisioning = await connectBus(server.url, 'provisioning', { user: 'provisioning', pass: pw('provisioning') });
    await ensureStreams(inventory.jsm);
  });
  afterAll(async () => {
    await inventory?.close();
    await provisioning?.close();
    await server?.stop();
  });

  const host = (id: string): Envelope => newEvent({ type: Events.HostRegistered, site: 'dc1', entityId: id, service: 'inventory', data: { host: undefined } });

  it('lets a service publish its own events and others consume them', async () => {
    const got: string[] = [];
    const consumer = new EventConsumer(provisioning, { durable: 'provisioning-on-host-registered', event: Events.HostRegistered, handle: async (e) => (got.push(e.entityId), 'applied') }, createLogger('t', { level: 'silent' }));
    await consumer.start();
    const e = host('ok-1');
    await publisherFor(inventory.js)({ ...toWire(e), id: e.id });
    await eventually(async () => (got.includes('ok-1') ? true : undefined), 10_000, 'delivery');
    await consumer.stop();
  });

  it("refuses a service publishing another context's events", async () => {
    const forged = newEvent({ type: Events.NodeProvisioned, site: 'dc1', entityId: 'h', service: 'provisioning', data: { host: undefined, image: '', nics: [] } });
    await expect(publisherFor(inventory.js)({ ...toWire(forged), id: forged.id })).rejects.toThrow(/unavailable/);
    const info = await inventory.jsm.streams.info('STACKYARD_PROVISIONING', { subjects_filter: forged.subject });
    expect(info.state.subjects?.[forged.subject] ?? 0).toBe(0);
  });

  it('refuses deleting or purging a stream', async () => {
    await expect(inventory.jsm.streams.delete('STACKYARD_INVENTORY')).rejects.toThrow();
    await expect(inventory.jsm.streams.purge('STACKYARD_INVENTORY')).rejects.toThrow();
    expect((await inventory.jsm.streams.info('STACKYARD_INVENTORY')).state.messages).toBeGreaterThan(0);
  });

  it('refuses a wrong password', async () => {
    await expect(connectBus(server.url, 'x', { user: 'inventory', pass: 'wrong' })).rejects.toThrow(/unavailable/);
  });
});
