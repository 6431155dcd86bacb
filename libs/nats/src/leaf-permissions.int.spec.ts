import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Events, newEvent, toWire, type Context, type Envelope } from '@stackyard/events';
import { startHubAndLeaves, type HubAndLeaves } from '@stackyard/devinfra';
import { createLogger } from '@stackyard/telemetry';
import { eventually } from '@stackyard/testing';
import { connectBus, ensureTopologyStreams, type Bus } from './connection';
import { EventConsumer } from './consumer';
import { leafLinkUser, leafLinkUsersConfig, natsUsersConfig } from './permissions';
import { publisherFor } from './publisher';

// Per-service NATS users on a hub and two leaf sites (real nats-server 2.9 processes, each site its
// own JetStream domain; docs/scale-out.md "Sites with users"). Every server requires users: the
// services' own (natsUsersConfig with the topology) on each side, and at the hub one link user per
// site that the site's leaf remote authenticates with (leafLinkUsersConfig). An `ops` user with every
// permission stands for an operator at a site or at the hub: what its requests may not do across the
// link is the link users' doing.
const HUB = 'hub';
const A = 'sa';
const B = 'sb';
const pw = (who: string) => `pw-${who}-secret`;
const OPS = `    { user: "ops", password: ${JSON.stringify(pw('ops'))} }`;

describe('NATS users in a hub with leaf sites', () => {
  let topo: HubAndLeaves;
  const buses: Bus[] = [];
  const raw: NatsConnection[] = [];
  const log = createLogger('t', { level: 'silent' });

  const bus = async (url: string, user: Context | 'ops') => {
    const b = await connectBus(url, user, { user, pass: pw(user) });
    buses.push(b);
    return b;
  };
  /** A JetStream manager of another domain, reached through the link (`$JS.<domain>.API`). */
  const jsmIn = async (url: string, user: Context | 'ops', domain: string): Promise<JetStreamManager> => {
    const nc = await connect({ servers: url, user, pass: pw(user), name: `${user}-to-${domain}` });
    raw.push(nc);
    return jetstreamManager(nc, { domain, timeout: 3000 });
  };

  beforeAll(async () => {
    topo = await startHubAndLeaves([A, B], {
      hubDomain: HUB,
      auth: {
        hubUsers: [natsUsersConfig(pw, { kind: 'hub', sites: [A, B] }), leafLinkUsersConfig([A, B], HUB, (s) => pw(leafLinkUser(s))), OPS].join('\n'),
        siteUsers: (site) => [natsUsersConfig(pw, { kind: 'site', site, hubDomain: HUB }), OPS].join('\n'),
        leafCredentials: (site) => ({ user: leafLinkUser(site), password: pw(leafLinkUser(site)) }),
      },
    });
    // The stream layout, laid out by the services' own users (what startService does).
    for (const s of [A, B]) await ensureTopologyStreams((await bus(topo.site(s).server.url, 'provisioning')).jsm, { kind: 'site', site: s, hubDomain: HUB });
    await ensureTopologyStreams((await bus(topo.hub.url, 'inventory')).jsm, { kind: 'hub', sites: [A, B] });
  }, 60_000);

  afterAll(async () => {
    for (const nc of raw) await nc.close().catch(() => undefined);
    for (const b of buses) await b.close().catch(() => undefined);
    await topo?.stop();
  });

  const registered = (site: string, id: string): Envelope =>
    newEvent({ type: Events.HostRegistered, site, entityId: id, service: 'inventory', data: { host: undefined } });
  const enrolled = (site: string, id: string): Envelope =>
    newEvent({ type: Events.NodeEnrolled, site, entityId: id, service: 'provisioning', data: { host: undefined, driver: 'lab' } });
  const held = async (jsm: JetStreamManager, stream: string, subject: string) =>
    (await jsm.streams.info(stream, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;

  it("carries a site service's events to the hub and the hub's events for a site to that site only, through the link users", async () => {
    const hubInv = await bus(topo.hub.url, 'inventory');
    const hubMon = await bus(topo.hub.url, 'monitoring');
    const aProv = await bus(topo.site(A).server.url, 'provisioning');
    const bProv = await bus(topo.site(B).server.url, 'provisioning');
    // The hub registers a host at site A: sourced into A's inventory stream (not B's), where A's
    // provisioning consumes it under its own user (pull, acks).
    const got: string[] = [];
    const consumer = new EventConsumer(aProv, { durable: 'provisioning-on-host-registered', event: Events.HostRegistered, handle: async (e) => (got.push(e.entityId), 'applied') }, log);
    await consumer.start();
    const r = registered(A, 'h1');
    await publisherFor(hubInv.js)({ ...toWire(r), id: r.id });
    await eventually(async () => (got.includes('h1') ? true : undefined), 20_000, 'HostRegistered sourced into site A and consumed there');
    await consumer.stop();
    expect(await held(bProv.jsm, 'STACKYARD_INVENTORY', r.subject)).toBe(0);
    // Site A's provisioning publishes its fact at its leaf: the hub's sourced stream gets it.
    const e = enrolled(A, 'h1');
    await publisherFor(aProv.js)({ ...toWire(e), id: e.id });
    await eventually(async () => ((await held(hubMon.jsm, 'STACKYARD_PROVISIONING', e.subject)) === 1 ? true : undefined), 20_000, 'NodeEnrolled sourced into the hub');
  }, 60_000);

  it("refuses a site service publishing another context's events, or its own context's for another site", async () => {
    const aProv = await bus(topo.site(A).server.url, 'provisioning');
    const hubMon = await bus(topo.hub.url, 'monitoring');
    const forged = registered(A, 'forged');
    await expect(publisherFor(aProv.js)({ ...toWire(forged), id: forged.id })).rejects.toThrow(/unavailable/);
    const otherSite = enrolled(B, 'forged');
    await expect(publisherFor(aProv.js)({ ...toWire(otherSite), id: otherSite.id })).rejects.toThrow(/unavailable/);
    expect(await held(aProv.jsm, 'STACKYARD_INVENTORY', forged.subject)).toBe(0);
    expect(await held(aProv.jsm, 'STACKYARD_PROVISIONING', otherSite.subject)).toBe(0);
    expect(await held(hubMon.jsm, 'STACKYARD_INVENTORY', forged.subject)).toBe(0);
  });

  it("lets a site service read the hub's domain but not delete, purge or change its streams, or delete a consumer there or at home", async () => {
    const toHub = await jsmIn(topo.site(A).server.url, 'provisioning', HUB);
    const info = await toHub.streams.info('STACKYARD_INVENTORY');
    expect(info.state.messages).toBeGreaterThan(0);
    await expect(toHub.streams.delete('STACKYARD_INVENTORY')).rejects.toThrow(/permission/i);
    await expect(toHub.streams.purge('STACKYARD_INVENTORY')).rejects.toThrow(/permission/i);
    await expect(toHub.streams.update('STACKYARD_INVENTORY', { max_msgs: 1 })).rejects.toThrow(/permission/i);
    await expect(toHub.consumers.delete('STACKYARD_INVENTORY', 'monitoring-on-anything')).rejects.toThrow(/permission/i);
    const home = (await bus(topo.site(A).server.url, 'network')).jsm;
    await expect(home.streams.delete('STACKYARD_PROVISIONING')).rejects.toThrow(/permission/i);
    await expect(home.consumers.delete('STACKYARD_INVENTORY', 'provisioning-on-host-registered')).rejects.toThrow(/permission/i);
    expect((await home.consumers.info('STACKYARD_INVENTORY', 'provisioning-on-host-registered')).name).toBe('provisioning-on-host-registered');
    expect((await toHub.streams.info('STACKYARD_INVENTORY')).state.messages).toBe(info.state.messages);
  });

  it("stops destructive requests at the link: a site operator cannot delete the hub's streams or reach another site, nor a hub operator change a site's", async () => {
    // `ops` may do anything on its own server; the request crosses the link as the link user.
    const siteOpsToHub = await jsmIn(topo.site(A).server.url, 'ops', HUB);
    expect((await siteOpsToHub.streams.info('STACKYARD_INVENTORY')).config.name).toBe('STACKYARD_INVENTORY');
    // The hub does not forward the link's interest in (or messages on) the denied subjects, so the
    // request finds no responder: a 503, which nats.js reports as "jetstream is not enabled" (the
    // control below shows the same requests succeed through links without permissions).
    await expect(siteOpsToHub.streams.delete('STACKYARD_INVENTORY')).rejects.toThrow(/jetstream is not enabled/);
    await expect(siteOpsToHub.streams.purge('STACKYARD_MONITORING')).rejects.toThrow(/jetstream is not enabled/);
    await expect(siteOpsToHub.streams.update('STACKYARD_INVENTORY', { max_msgs: 1 })).rejects.toThrow(/jetstream is not enabled/);
    const hubOpsToSite = await jsmIn(topo.hub.url, 'ops', A);
    expect((await hubOpsToSite.streams.info('STACKYARD_PROVISIONING')).config.name).toBe('STACKYARD_PROVISIONING');
    await expect(hubOpsToSite.streams.delete('STACKYARD_PROVISIONING')).rejects.toThrow(/jetstream is not enabled/);
    await expect(hubOpsToSite.streams.update('STACKYARD_PROVISIONING', { max_msgs: 1 })).rejects.toThrow(/jetstream is not enabled/);
    // Site B's domain is reachable from the hub, not from site A through the hub.
    expect((await (await jsmIn(topo.hub.url, 'ops', B)).streams.info('STACKYARD_PROVISIONING')).config.name).toBe('STACKYARD_PROVISIONING');
    // (the JetStream manager's first request, `$JS.sb.API.INFO`, already finds no responder)
    await expect(jsmIn(topo.site(A).server.url, 'ops', B)).rejects.toThrow(/jetstream is not enabled/);
    const hubInv = await bus(topo.hub.url, 'inventory');
    const aProv = await bus(topo.site(A).server.url, 'provisioning');
    expect((await hubInv.jsm.streams.info('STACKYARD_INVENTORY')).state.messages).toBeGreaterThan(0);
    expect((await hubInv.jsm.streams.info('STACKYARD_MONITORING')).config.name).toBe('STACKYARD_MONITORING');
    expect((await aProv.jsm.streams.info('STACKYARD_PROVISIONING')).state.messages).toBeGreaterThan(0);
  });

  it('(control) lets the same operator requests through links whose users have no permissions', async () => {
    // What the test above refuses is the link users' permissions' doing: with plain link users a
    // site reaches another site's domain, and the same requests change and delete the hub's stream
    // from a site and the site's stream from the hub.
    const open = await startHubAndLeaves(['sc', 'sd'], {
      hubDomain: HUB,
      auth: { hubUsers: [OPS, `    { user: "leaf", password: "l" }`].join('\n'), siteUsers: () => OPS, leafCredentials: () => ({ user: 'leaf', password: 'l' }) },
    });
    try {
      await ensureTopologyStreams(await jsmIn(open.hub.url, 'ops', HUB), { kind: 'hub', sites: ['sc', 'sd'] });
      for (const s of ['sc', 'sd']) await ensureTopologyStreams(await jsmIn(open.site(s).server.url, 'ops', s), { kind: 'site', site: s, hubDomain: HUB });
      expect((await (await jsmIn(open.site('sc').server.url, 'ops', 'sd')).streams.info('STACKYARD_PROVISIONING')).config.name).toBe('STACKYARD_PROVISIONING');
      const scToHub = await jsmIn(open.site('sc').server.url, 'ops', HUB);
      expect((await scToHub.streams.update('STACKYARD_INVENTORY', { max_msgs: 1000 })).config.max_msgs).toBe(1000);
      expect(await scToHub.streams.purge('STACKYARD_MONITORING')).toMatchObject({ success: true });
      expect(await scToHub.streams.delete('STACKYARD_INVENTORY')).toBe(true);
      expect((await (await jsmIn(open.hub.url, 'ops', 'sc')).streams.update('STACKYARD_PROVISIONING', { max_msgs: 1000 })).config.max_msgs).toBe(1000);
      expect(await (await jsmIn(open.hub.url, 'ops', 'sc')).streams.delete('STACKYARD_PROVISIONING')).toBe(true);
    } finally {
      await open.stop();
    }
  }, 60_000);

  it('catches up after a cut with users on: the site carries on, the hub gets every fact once after reconnect', async () => {
    const aProv = await bus(topo.site(A).server.url, 'provisioning');
    const hubMon = await bus(topo.hub.url, 'monitoring');
    topo.site(A).cut();
    const during = Array.from({ length: 5 }, (_, i) => enrolled(A, `cut-${i}`));
    for (const e of during) await publisherFor(aProv.js)({ ...toWire(e), id: e.id });
    for (const e of during) expect(await held(aProv.jsm, 'STACKYARD_PROVISIONING', e.subject)).toBe(1);
    expect(await held(hubMon.jsm, 'STACKYARD_PROVISIONING', during[0]!.subject)).toBe(0);
    topo.site(A).reconnect();
    await eventually(
      async () => ((await Promise.all(during.map((e) => held(hubMon.jsm, 'STACKYARD_PROVISIONING', e.subject)))).every((n) => n === 1) ? true : undefined),
      60_000,
      'hub caught up with site A',
    );
    // Site B's stream has none of them.
    const bProv = await bus(topo.site(B).server.url, 'provisioning');
    expect(await held(bProv.jsm, 'STACKYARD_PROVISIONING', during[0]!.subject)).toBe(0);
  }, 90_000);
});
