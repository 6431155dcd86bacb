import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { StepFailedError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, streamFor, toWire, type Envelope } from '@stackyard/events';
import type { HostRegistered } from '@stackyard/proto/inventory/v1/events';
import { createLogger } from '@stackyard/telemetry';
import { eventually, privateNats } from '@stackyard/testing';
import type { LocalServer } from '@stackyard/devinfra';
import { connectBus, ensureStreams, type Bus } from './connection';
import { EventConsumer, type HandleOutcome } from './consumer';
import { publisherFor } from './publisher';

// Real nats-server with JetStream, private to this file.
const log = createLogger('test', { level: 'silent' });

function hostEvent(id: string): Envelope<HostRegistered> {
  return newEvent({
    type: Events.HostRegistered,
    site: 'dc1',
    entityId: id,
    service: 'inventory',
    data: { host: { id, siteId: 'dc1', name: id, groups: ['compute'], bmc: undefined, labels: {}, hardwareProfile: '', hardware: undefined, version: 1 } },
  });
}

describe('NATS JetStream adapters', () => {
  let server: LocalServer;
  let bus: Bus;
  const publish = () => publisherFor(bus.js);

  beforeAll(async () => {
    server = await privateNats();
    bus = await connectBus(server.url, 'test');
    await ensureStreams(bus.jsm);
  });
  afterAll(async () => {
    await bus.close();
    await server.stop();
  });

  it('creates one stream per context, idempotently, with an explicit dedup window', async () => {
    await ensureStreams(bus.jsm);
    const info = await bus.jsm.streams.info(streamFor('inventory').name);
    expect(info.config.subjects).toEqual(['stackyard.*.inventory.>']);
    expect(info.config.duplicate_window).toBe(10 * 60 * 1e9);
  });

  it('stores an event published twice with the same ce-id once (message-id dedup)', async () => {
    const e = hostEvent('dedup-1');
    const w = { ...toWire(e), id: e.id };
    await publish()(w);
    await publish()(w);
    const msg = await bus.jsm.streams.getMessage(streamFor('inventory').name, { last_by_subj: e.subject });
    expect(msg?.header.get('ce-id')).toBe(e.id);
    const info = await bus.jsm.streams.info(streamFor('inventory').name, { subjects_filter: e.subject });
    expect(info.state.subjects?.[e.subject]).toBe(1);
  });

  it('delivers decoded envelopes to a durable consumer and redelivers after a retryable failure', async () => {
    const seen: { id: string; delivery: number }[] = [];
    const consumer = new EventConsumer(
      bus,
      {
        durable: 'test-on-registered-retry',
        event: Events.HostRegistered,
        handle: async (env, ctx): Promise<HandleOutcome> => {
          if (env.entityId !== 'retry-1') return 'ignored';
          seen.push({ id: env.id, delivery: ctx.deliveryCount });
          if (ctx.deliveryCount === 1) throw new StepFailedError('BmcTimeout', 'transient', true);
          expect(env.data.host?.name).toBe('retry-1');
          return 'applied';
        },
      },
      log,
    );
    await consumer.start();
    const e = hostEvent('retry-1');
    await publish()({ ...toWire(e), id: e.id });
    await eventually(async () => (seen.length >= 2 ? true : undefined), 10_000, 'redelivery');
    await new Promise((r) => setTimeout(r, 500));
    await consumer.stop();
    expect(seen).toEqual([
      { id: e.id, delivery: 1 },
      { id: e.id, delivery: 2 },
    ]);
  });

  it('terminates (no redelivery) on a non-retryable failure and on an undecodable message', async () => {
    const seen: number[] = [];
    const consumer = new EventConsumer(
      bus,
      {
        durable: 'test-on-registered-term',
        event: Events.HostRegistered,
        handle: async (env, ctx) => {
          if (env.entityId !== 'term-1') return 'ignored';
          seen.push(ctx.deliveryCount);
          throw new ValidationError('host', 'rejected by the domain');
        },
      },
      log,
    );
    await consumer.start();
    const e = hostEvent('term-1');
    await publish()({ ...toWire(e), id: e.id });
    // A message with no CloudEvents headers at all on a matching subject.
    const h = natsHeaders();
    h.set('ce-type', 'stackyard.inventory.v1.HostRegistered');
    await bus.js.publish('stackyard.dc1.inventory.host.garbage-1.registered', new Uint8Array([1, 2, 3]), { headers: h });
    await eventually(async () => (seen.length >= 1 ? true : undefined), 10_000, 'first delivery');
    await new Promise((r) => setTimeout(r, 1500));
    const info = await bus.jsm.consumers.info(streamFor('inventory').name, 'test-on-registered-term');
    await consumer.stop();
    expect(seen).toEqual([1]);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
  });

  it('carries correlation and causation from cause to effect', async () => {
    const cause = hostEvent('corr-1');
    const effect = newEvent({ type: Events.NodeEnrolled, site: 'dc1', entityId: 'corr-1', service: 'provisioning', data: { host: undefined, driver: 'lab' }, cause });
    const got: Envelope[] = [];
    const consumer = new EventConsumer(bus, { durable: 'test-on-enrolled', event: Events.NodeEnrolled, handle: async (env) => (got.push(env), 'applied') }, log);
    await consumer.start();
    await publish()({ ...toWire(effect), id: effect.id });
    await eventually(async () => (got.length ? true : undefined), 10_000, 'enrolled event');
    await consumer.stop();
    expect(got[0]?.causationId).toBe(cause.id);
    expect(got[0]?.correlationId).toBe(cause.id);
    expect(got[0]?.source).toBe('/stackyard/dc1/provisioning');
  });
});
