import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Events, newEvent, toWire, CONTEXTS } from '@stackyard/events';
import { freePort, startNatsNode, type NatsNode } from '@stackyard/devinfra';
import { eventually } from '@stackyard/testing';
import { connectBus, ensureTopologyStreams, type Bus } from './connection';
import { leafLinkUser } from './permissions';
import { publisherFor } from './publisher';
import { HUB_LEAF_URL_ENV, natsPasswordEnv, natsServerConfig } from './server-config';

// The nats-server configuration natsServerConfig renders for a hub and a site (docs/scale-out.md,
// "Sites with users"), on real nats-server processes: passwords and the leaf remote's URL are
// environment references, given to the servers as environment variables (what a Secret does in a pod).
describe('rendered nats-server configuration for a hub and a site', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stackyard-nats-conf-'));
  const pw = (who: string) => `pw-${who}-conf`;
  const env = Object.fromEntries([...CONTEXTS, leafLinkUser('sa')].map((u) => [natsPasswordEnv(u), pw(u)]));
  const nodes: NatsNode[] = [];
  const buses: Bus[] = [];
  let hubPort = 0;
  let leafPort = 0;
  let logs = '';

  const siteConfig = (port: number, store: string) =>
    [`server_name: "leaf-sa"`, `listen: "127.0.0.1:${port}"`, `jetstream { store_dir: ${JSON.stringify(store)}, domain: "sa" }`, natsServerConfig({ kind: 'site', site: 'sa', hubDomain: 'hub' })].join('\n');

  beforeAll(async () => {
    hubPort = await freePort();
    leafPort = await freePort();
    const hubConfig = [
      `server_name: "hub"`,
      `listen: "127.0.0.1:${hubPort}"`,
      `jetstream { store_dir: ${JSON.stringify(join(dir, 'hub'))}, domain: "hub" }`,
      `leafnodes { listen: "127.0.0.1:${leafPort}" }`,
      natsServerConfig({ kind: 'hub', hubDomain: 'hub', sites: ['sa'] }),
    ].join('\n');
    nodes.push(await startNatsNode('hub', hubPort, join(dir, 'hub'), hubConfig, { env }));
    const sitePort = await freePort();
    nodes.push(
      await startNatsNode('leaf-sa', sitePort, join(dir, 'sa'), siteConfig(sitePort, join(dir, 'sa')), {
        env: { ...env, [HUB_LEAF_URL_ENV]: `nats-leaf://${leafLinkUser('sa')}:${pw(leafLinkUser('sa'))}@127.0.0.1:${leafPort}` },
      }),
    );
  }, 30_000);

  afterAll(async () => {
    for (const b of buses) await b.close().catch(() => undefined);
    for (const n of nodes) await n.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("takes the services' and the link's passwords from the environment; a site fact reaches the hub", async () => {
    const [hub, site] = nodes as [NatsNode, NatsNode];
    const prov = await connectBus(site.url, 'provisioning', { user: 'provisioning', pass: pw('provisioning') });
    buses.push(prov);
    const mon = await connectBus(hub.url, 'monitoring', { user: 'monitoring', pass: pw('monitoring') });
    buses.push(mon);
    await ensureTopologyStreams(mon.jsm, { kind: 'hub', sites: ['sa'] });
    await ensureTopologyStreams(prov.jsm, { kind: 'site', site: 'sa', hubDomain: 'hub' });
    const e = newEvent({ type: Events.NodeEnrolled, site: 'sa', entityId: 'h1', service: 'provisioning', data: { host: undefined, driver: 'lab' } });
    await publisherFor(prov.js)({ ...toWire(e), id: e.id });
    await eventually(
      async () => (((await mon.jsm.streams.info('STACKYARD_PROVISIONING', { subjects_filter: e.subject })).state.subjects?.[e.subject] ?? 0) === 1 ? true : undefined),
      20_000,
      'site fact sourced into the hub through the rendered leaf remote',
    );
    await expect(connectBus(site.url, 'x', { user: 'provisioning', pass: 'wrong' })).rejects.toThrow(/unavailable/);
  }, 60_000);

  it('refuses to start a server whose configuration references a variable that is not set, naming it', async () => {
    const port = await freePort();
    await expect(
      // Every password is set, the leaf remote's URL is not.
      startNatsNode('leaf-sa-bad', port, join(dir, 'bad'), siteConfig(port, join(dir, 'bad')), { env, log: (l) => (logs += l) }),
    ).rejects.toThrow(/exited/);
    expect(logs).toMatch(new RegExp(`${HUB_LEAF_URL_ENV}`));
  });
});
