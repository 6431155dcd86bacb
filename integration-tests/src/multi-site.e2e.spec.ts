import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { call } from '@stackyard/grpc';
import { clientsFor, type Clients } from '@stackyard/cli';
import { startHubAndLeaves, type HubAndLeaves } from '@stackyard/devinfra';
import { startDeployment, configSchema as deploymentSchema } from '@stackyard/deployment';
import { startInventory, configSchema as inventorySchema } from '@stackyard/inventory';
import { startMonitoring, configSchema as monitoringSchema } from '@stackyard/monitoring';
import { startNetwork, configSchema as networkSchema } from '@stackyard/network';
import { startProvisioning, configSchema as provisioningSchema } from '@stackyard/provisioning';
import { connectBus, ensureTopologyStreams, leafLinkUser, leafLinkUsersConfig, natsUsersConfig, type Bus } from '@stackyard/nats';
import type { RunningService } from '@stackyard/service';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { eventually, mongoUrl, uniquePrefix } from '@stackyard/testing';
import { countBySubject, drained } from './streams';

// Two sites connected as NATS leaf nodes to a hub (real nats-server processes on loopback, each with
// its own JetStream domain; docs/scale-out.md). Inventory and monitoring run at the hub and see every
// site; provisioning, network and deployment run per site on the site's leaf server. Site A's link
// to the hub is cut while its nodes are in flight: site A finishes them on its own, site B carries
// on with the hub, and the hub catches up on every site A fact, once, when the link is back.
// Every server requires users (docs/scale-out.md, "Sites with users"): each service connects as its
// own NATS user with the permissions of its topology, and each leaf authenticates at the hub as its
// own link user; the test's observers connect as service users too.
const A = 'sa';
const B = 'sb';
const WARM = 3; // nodes per site before the cut
const M = 20; // site A nodes in flight when the link is cut
const LATE_B = 3; // site B nodes registered during the cut
const CUT_MS = 8000; // how long site A stays cut off, at least

const pw = (who: string) => `pw-${who}-ms`;

function config(natsUrl: string, dbPrefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return { NATS_URL: natsUrl, MONGO_URL: mongoUrl(), MONGO_DB_PREFIX: dbPrefix, GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'silent', ...extra };
}

/** The NATS user of a service: its name, password `pw(name)`. */
const user = (service: string) => ({ NATS_USER: service, NATS_PASSWORD: pw(service) });

interface Site {
  readonly id: string;
  readonly bus: Bus;
  readonly dbPrefix: string;
  readonly services: RunningService[];
  clients?: Clients;
}

describe('multi-site: leaf sites keep working while cut off and the hub catches up, with NATS users on every server', () => {
  let topo: HubAndLeaves;
  let hubBus: Bus;
  const hubServices: RunningService[] = [];
  const sites = new Map<string, Site>();
  const prefix = uniquePrefix('ms');
  const site = (id: string) => sites.get(id)!;

  beforeAll(async () => {
    topo = await startHubAndLeaves([A, B], {
      auth: {
        hubUsers: [natsUsersConfig(pw, { kind: 'hub', sites: [A, B] }), leafLinkUsersConfig([A, B], 'hub', (s) => pw(leafLinkUser(s)))].join('\n'),
        siteUsers: (id) => natsUsersConfig(pw, { kind: 'site', site: id, hubDomain: 'hub' }),
        leafCredentials: (id) => ({ user: leafLinkUser(id), password: pw(leafLinkUser(id)) }),
      },
    });
    hubBus = await connectBus(topo.hub.url, 'hub-observer', { user: 'monitoring', pass: pw('monitoring') });
    // The stream layout first (what NATS_STREAM_TOPOLOGY does once startService reads it): each site
    // captures its own contexts and sources the hub's inventory and monitoring facts for itself; the
    // hub sources the site contexts of every site.
    for (const id of [A, B]) {
      const bus = await connectBus(topo.site(id).server.url, `${id}-observer`, { user: 'provisioning', pass: pw('provisioning') });
      await ensureTopologyStreams(bus.jsm, { kind: 'site', site: id, hubDomain: topo.hubDomain });
      sites.set(id, { id, bus, dbPrefix: `${prefix}_${id}`, services: [] });
    }
    await ensureTopologyStreams(hubBus.jsm, { kind: 'hub', sites: [A, B] });

    const hubCfg = (extra: Record<string, string> = {}) => config(topo.hub.url, `${prefix}_hub`, { NATS_STREAM_TOPOLOGY: 'hub', NATS_HUB_SITES: `${A},${B}`, ...extra });
    hubServices.push(await startInventory(inventorySchema.parse(hubCfg(user('inventory'))) as never));
    hubServices.push(await startMonitoring(monitoringSchema.parse(hubCfg(user('monitoring'))) as never));
    for (const s of sites.values()) {
      const cfg = (extra: Record<string, string> = {}) =>
        config(topo.site(s.id).server.url, s.dbPrefix, { NATS_STREAM_TOPOLOGY: 'site', NATS_SITE: s.id, NATS_HUB_DOMAIN: topo.hubDomain, ...extra });
      s.services.push(await startProvisioning(provisioningSchema.parse(cfg({ LAB_LATENCY_MS: '60', ...user('provisioning') })) as never));
      const network = await startNetwork(networkSchema.parse(cfg(user('network'))) as never);
      s.services.push(network);
      s.services.push(await startDeployment(deploymentSchema.parse(cfg({ LAB_LATENCY_MS: '60', ...user('deployment') })) as never));
      s.clients = clientsFor({ inventory: hubServices[0]!.grpcPort, network: network.grpcPort, monitoring: hubServices[1]!.grpcPort });
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of sites.values()) {
      s.clients?.close();
      for (const svc of [...s.services].reverse()) await svc.stop();
      await s.bus.close();
    }
    for (const svc of [...hubServices].reverse()) await svc.stop();
    await hubBus?.close();
    await topo?.stop();
  });

  async function defineSite(id: string): Promise<void> {
    const c = site(id).clients!;
    await call(c.inventory, c.inventory.createSite, { id, displayName: id });
    const net = (name: string, cidr: string, start: string, end: string, vlan: number, iface: string) =>
      call(c.network, c.network.defineNetwork, {
        network: { siteId: id, name, cidr, gateway: '', allocationPoolStart: start, allocationPoolEnd: end, vlan, mtu: vlan ? 9000 : 1500, groups: ['compute'], interface: iface, version: 0 },
      });
    await net('provision_oc', '10.0.0.0/24', '10.0.0.10', '10.0.0.250', 0, '{nic0}');
    await net('internal', '10.1.0.0/24', '10.1.0.10', '10.1.0.250', 101, '{nic1}');
  }

  async function register(id: string, names: string[]): Promise<void> {
    const c = site(id).clients!;
    await Promise.all(
      names.map((name) =>
        call(c.inventory, c.inventory.registerHost, {
          siteId: id, name, groups: ['compute'], bmc: { address: `bmc-${id}-${name}`, driver: 'lab', credentialRef: '' }, labels: {}, hardwareProfile: 'compute-std', requestId: `${id}-${name}`,
        }),
      ),
    );
  }

  /** Nodes of a site that the hub's monitoring reports ready. */
  async function hubReady(id: string): Promise<number> {
    const c = site(id).clients!;
    return (await call(c.monitoring, c.monitoring.listNodeProgress, { siteId: id })).nodes.filter((n) => n.state === NodeState.NODE_STATE_READY).length;
  }

  /** How many messages on `filter` a JetStream (hub or leaf) holds. */
  async function held(bus: Bus, filter: string): Promise<number> {
    return Object.values(await countBySubject(bus.jsm, filter)).reduce((a, b) => a + b, 0);
  }

  it('site A finishes its nodes while cut off; the hub sees every site A fact once after reconnect', async () => {
    const t0 = Date.now();
    await defineSite(A);
    await defineSite(B);
    const names = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}`);

    // Warm-up with the links up: the whole saga crosses hub and leaves.
    await register(A, names('w', WARM));
    await register(B, names('w', WARM));
    await eventually(async () => ((await hubReady(A)) === WARM && (await hubReady(B)) === WARM ? true : undefined), 60_000, 'warm-up nodes ready at the hub');
    const warmMs = Date.now() - t0;

    // Site A's next nodes: cut the link as soon as their HostRegistered facts have reached site A.
    await register(A, names('n', M));
    await eventually(async () => ((await held(site(A).bus, `stackyard.${A}.inventory.host.*.registered`)) === WARM + M ? true : undefined), 30_000, 'registrations sourced into site A');
    topo.site(A).cut();
    const cutAt = Date.now();

    // Cut off, site A carries on: every node deployed, in site A's own streams.
    await register(B, names('late', LATE_B));
    await eventually(async () => ((await held(site(A).bus, `stackyard.${A}.deployment.node.*.deployed`)) === WARM + M ? true : undefined), 60_000, 'site A deploys its nodes while cut off');
    const siteDoneMs = Date.now() - cutAt;
    // ...and site B with the hub, meanwhile.
    await eventually(async () => ((await hubReady(B)) === WARM + LATE_B ? true : undefined), 60_000, 'site B ready during the cut');
    // The hub has not seen site A's work done during the cut.
    const hubDeployedDuringCut = await held(hubBus, `stackyard.${A}.deployment.node.*.deployed`);
    const hubReadyDuringCut = await hubReady(A);
    expect(hubDeployedDuringCut).toBeLessThan(WARM + M);
    expect(hubReadyDuringCut).toBe(hubDeployedDuringCut);
    // Hold the cut for a while (a WAN outage, not a blip): the hub's source consumers notice it.
    await new Promise((r) => setTimeout(r, Math.max(0, CUT_MS - (Date.now() - cutAt))));
    expect(await held(hubBus, `stackyard.${A}.deployment.node.*.deployed`)).toBe(hubDeployedDuringCut);
    const siteLocal = await countBySubject(site(A).bus.jsm, `stackyard.${A}.>`);

    // Reconnect: the hub's sourced streams catch up and monitoring marks every site A node ready.
    topo.site(A).reconnect();
    const reconnectAt = Date.now();
    // Two deployment facts per node: host-prepared and deployed.
    await eventually(async () => ((await held(hubBus, `stackyard.${A}.deployment.>`)) === 2 * (WARM + M) ? true : undefined), 60_000, 'hub streams caught up with site A');
    const streamsCaughtUpMs = Date.now() - reconnectAt;
    await eventually(async () => ((await hubReady(A)) === WARM + M ? true : undefined), 60_000, 'hub monitoring caught up with site A');
    const readyCaughtUpMs = Date.now() - reconnectAt;
    // ...and the hub's NodeReady facts flow back into site A's sourced monitoring stream.
    await eventually(async () => ((await held(site(A).bus, `stackyard.${A}.monitoring.node.*.ready`)) === WARM + M ? true : undefined), 30_000, 'NodeReady sourced back into site A');

    // Exactly once, on both sides: one message per subject, the hub holds each of site A's facts the
    // site holds, every consumer (hub and sites) drained.
    const hubCounts = await eventually(async () => {
      const cs = await countBySubject(hubBus.jsm, 'stackyard.>');
      return Object.keys(cs).filter((s) => s.endsWith('.ready')).length === 2 * WARM + M + LATE_B && (await drained(hubBus.jsm)) ? cs : undefined;
    }, 30_000, 'hub drained');
    expect(Object.entries(hubCounts).filter(([, n]) => n !== 1)).toEqual([]);
    for (const s of sites.values()) {
      await eventually(() => drained(s.bus.jsm), 30_000, `site ${s.id} drained`);
      const local = await countBySubject(s.bus.jsm, 'stackyard.>');
      expect(Object.entries(local).filter(([, n]) => n !== 1)).toEqual([]);
      // Site streams hold only their own site's facts.
      expect(Object.keys(local).filter((subj) => !subj.startsWith(`stackyard.${s.id}.`))).toEqual([]);
      for (const ctx of ['provisioning', 'network', 'deployment']) {
        const mine = Object.keys(local).filter((subj) => subj.split('.')[2] === ctx).sort();
        expect(Object.keys(hubCounts).filter((subj) => subj.startsWith(`stackyard.${s.id}.${ctx}.`)).sort()).toEqual(mine);
      }
    }
    for (const [subj, n] of Object.entries(siteLocal)) if (subj.split('.')[2] !== 'inventory' && subj.split('.')[2] !== 'monitoring') expect([subj, hubCounts[subj]]).toEqual([subj, n]);

    // No address twice within a site; one per host and network.
    const m = new MongoClient(mongoUrl());
    await m.connect();
    try {
      for (const [id, hosts] of [[A, WARM + M], [B, WARM + LATE_B]] as const) {
        const allocs = await m.db(`${site(id).dbPrefix}_network`).collection('allocations').find({ siteId: id }).toArray();
        const byNet = new Map<string, string[]>();
        for (const a of allocs) byNet.set(String(a['network']), [...(byNet.get(String(a['network'])) ?? []), String(a['address'])]);
        expect(byNet.size).toBe(2);
        for (const addrs of byNet.values()) {
          expect(new Set(addrs).size).toBe(addrs.length);
          expect(addrs.length).toBe(hosts);
        }
      }
    } finally {
      await m.close();
    }

    // eslint-disable-next-line no-console
    console.log(
      `multi-site: warm-up ${(warmMs / 1000).toFixed(1)} s; site ${A} deployed ${M} nodes in ${(siteDoneMs / 1000).toFixed(1)} s while cut off for ${(CUT_MS / 1000).toFixed(0)} s ` +
        `(hub saw ${hubDeployedDuringCut}/${WARM + M} deployed); after reconnect the hub's streams caught up in ${(streamsCaughtUpMs / 1000).toFixed(1)} s ` +
        `and monitoring had every node ready in ${(readyCaughtUpMs / 1000).toFixed(1)} s; total ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }, 240_000);
});
