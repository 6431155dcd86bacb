import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { call, FIELD_KEY } from '@stackyard/grpc';
import { connectBus, type Bus } from '@stackyard/nats';
import type { LocalServer } from '@stackyard/devinfra';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { HostState } from '@stackyard/proto/inventory/v1/inventory';
import type { ImportKayobeConfigRequest } from '@stackyard/proto/inventory/v1/inventory_service';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';
import { countBySubject, drained } from './streams';

const DEV = '/work/shared/reference/kayobe-configs/openstack+kayobe-config-dev/etc/kayobe';
const BROKEN = join(__dirname, '../../services/inventory/test/fixtures/broken');
const HOSTS = ['ansible0', 'controller0', 'infra-vm-1', 'seed', 'seed-hypervisor'];

// ImportKayobeConfig over gRPC against the five services on a private NATS and the run's FerretDB.
describe('Kayobe configuration import end to end', () => {
  let nats: LocalServer;
  let p: Platform;
  let bus: Bus;

  const req = (r: Partial<ImportKayobeConfigRequest>): ImportKayobeConfigRequest => ({
    configPath: DEV,
    environment: '',
    siteId: '',
    dryRun: false,
    requestId: '',
    registerHosts: false,
    registerGroups: [],
    bmcDriver: 'lab',
    ...r,
  });
  const importConfig = (r: Partial<ImportKayobeConfigRequest>) => call(p.clients.inventory, p.clients.inventory.importKayobeConfig, req(r), { deadlineMs: 60_000 });
  const list = (siteId: string) => call(p.clients.inventory, p.clients.inventory.listHosts, { siteId, group: '', pageSize: 0, pageToken: '' }).then((r) => r.hosts);
  // Waits for the outbox relay (it publishes at once from memory; 700 ms is ample) before counting.
  const registeredEvents = async (site: string) =>
    (await new Promise((r) => setTimeout(r, 700))) ??
    Object.values(await countBySubject(bus.jsm, `stackyard.${site}.inventory.host.*.registered`)).reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('import'), { provisioning: { LAB_LATENCY_MS: '10' } });
    await p.startAll();
    bus = await connectBus(nats.url, 'import-observer');
  });
  afterAll(async () => {
    await bus?.close();
    await p?.stopAll();
    await nats?.stop();
  });

  it('a dry run returns the hosts, networks and warnings and writes nothing', async () => {
    const r = await importConfig({ siteId: 'dry', dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.complete).toBe(false);
    expect(r.hosts.map((h) => h.name).sort()).toEqual(HOSTS);
    expect(r.networks.map((n) => [n.name, n.cidr])).toEqual([['aio', '192.168.33.0/24']]);
    expect(r.warnings.length).toBeGreaterThan(0);
    expect(await list('dry')).toEqual([]);
    await expect(call(p.clients.inventory, p.clients.inventory.getSite, { id: 'dry' })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('imports kayobe-config-dev: hosts listed with their groups and the import label, no saga started', async () => {
    const r = await importConfig({ siteId: 'dev', requestId: 'first' });
    expect(r.importId).toBe('dev-first');
    expect(r.complete).toBe(true);
    const hosts = await list('dev');
    expect(hosts.map((h) => h.name)).toEqual(HOSTS);
    const ctl = hosts.find((h) => h.name === 'controller0')!;
    expect(ctl.groups).toEqual(['compute', 'container-engine', 'controllers', 'monitoring', 'network', 'ntp', 'overcloud']);
    expect(ctl.labels).toEqual({ 'stackyard.io/imported-from': 'dev-first' });
    expect(ctl.bmc).toEqual({ address: 'bmc-controller0', driver: 'lab', credentialRef: 'kayobe:ipmi/controller0' });
    expect(r.hosts.every((h) => !h.registered)).toBe(true);
    const got = await call(p.clients.inventory, p.clients.inventory.getHost, { id: 'dev-seed' });
    expect(got.host?.groups).toContain('seed');
    // Recording is not registering: no HostRegistered, so no saga.
    expect(await registeredEvents('dev')).toBe(0);
  });

  it('re-running the same import is idempotent: same host versions, no new events', async () => {
    const before = await list('dev');
    const again = await importConfig({ siteId: 'dev', requestId: 'first' });
    expect(again.importId).toBe('dev-first');
    expect(again.complete).toBe(true);
    expect((await list('dev')).map((h) => [h.id, h.version])).toEqual(before.map((h) => [h.id, h.version]));
    // Same content without a request id: another import id, the same hosts untouched.
    await importConfig({ siteId: 'dev' });
    expect((await list('dev')).map((h) => [h.id, h.version, h.labels])).toEqual(before.map((h) => [h.id, h.version, h.labels]));
    expect(await registeredEvents('dev')).toBe(0);
  });

  it('a request id reused with other content is rejected', async () => {
    const e = (await importConfig({ siteId: 'dev', requestId: 'first', registerGroups: ['all'] }).catch((x: unknown) => x)) as { code: number; details: string; metadata: { get(k: string): unknown[] } };
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.metadata.get(FIELD_KEY)[0]).toBe('request_id');
    expect(e.details).toMatch(/was used by import dev-first with other content/);
  });

  it('a broken configuration imports nothing and names file, line and variable', async () => {
    const e = (await importConfig({ siteId: 'broken', configPath: BROKEN, registerHosts: true }).catch((x: unknown) => x)) as {
      code: number;
      details: string;
      metadata: { get(k: string): unknown[] };
    };
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.metadata.get(FIELD_KEY)[0]).toBe('inventory/hosts:5');
    expect(e.details).toContain('inventory/hosts:5: host "cmp1" is listed twice in [compute]');
    expect(e.details).toContain('inventory/group_vars/compute/network-interfaces:2');
    expect(await list('broken')).toEqual([]);
    expect(await registeredEvents('broken')).toBe(0);
  });

  it('a missing directory is INVALID_ARGUMENT on config_path, read on the server', async () => {
    const e = await importConfig({ siteId: 'x', configPath: '/nonexistent/etc/kayobe' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect((e as { metadata: { get(k: string): unknown[] } }).metadata.get(FIELD_KEY)[0]).toBe('config_path');
  });

  it('with register_hosts, the overcloud host is registered once and reaches ready; the others stay recorded', async () => {
    const site = 'reg';
    const plan = await importConfig({ siteId: site, dryRun: true, registerHosts: true });
    // The network service needs the imported network (it has a cidr) before the network step.
    await call(p.clients.inventory, p.clients.inventory.createSite, { id: site, displayName: site });
    for (const n of plan.networks) {
      await call(p.clients.network, p.clients.network.defineNetwork, {
        network: { siteId: site, name: n.name, cidr: n.cidr, gateway: n.gateway, allocationPoolStart: n.allocationPoolStart, allocationPoolEnd: n.allocationPoolEnd, vlan: n.vlan, mtu: n.mtu, groups: n.groups, interface: n.interface, version: 0 },
      } as never);
    }
    const r = await importConfig({ siteId: site, requestId: 'reg1', registerHosts: true });
    expect(r.hosts.filter((h) => h.registered).map((h) => h.name)).toEqual(['controller0']);
    const pr = await eventually(async () => {
      const x = (await call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId: 'reg-controller0' })).progress!;
      return x.state === NodeState.NODE_STATE_READY ? x : undefined;
    }, 30_000, 'reg-controller0 ready');
    expect(pr.host?.groups).toContain('controllers');
    await eventually(() => drained(bus.jsm), 15_000, 'consumers drained');
    // Re-running the import after the saga: no new HostRegistered.
    await importConfig({ siteId: site, requestId: 'reg1', registerHosts: true });
    expect(await registeredEvents(site)).toBe(1);
  });

  it('registering an already recorded host promotes it once (one HostRegistered, next version)', async () => {
    const site = 'promote';
    await importConfig({ siteId: site, requestId: 'rec' });
    const before = (await list(site)).find((h) => h.name === 'controller0')!;
    const [a, b] = await Promise.all([
      importConfig({ siteId: site, requestId: 'r1', registerHosts: true, registerGroups: ['controllers'] }),
      importConfig({ siteId: site, requestId: 'r2', registerHosts: true, registerGroups: ['controllers'] }),
    ]);
    expect(a.hosts.find((h) => h.name === 'controller0')?.registered).toBe(true);
    expect(b.hosts.find((h) => h.name === 'controller0')?.registered).toBe(true);
    const after = (await list(site)).find((h) => h.name === 'controller0')!;
    // One new version for the promotion; the saga it starts may already have recorded the
    // inspected hardware and its end (ready), one more each.
    expect(after.version).toBe(before.version + 1 + (after.hardware ? 1 : 0) + (after.state === HostState.HOST_STATE_READY ? 1 : 0));
    expect(after.labels).toEqual({ 'stackyard.io/imported-from': 'promote-rec' });
    await eventually(async () => ((await registeredEvents(site)) === 1 ? true : undefined), 10_000, 'one HostRegistered');
  });

  it('re-importing a changed configuration updates changed hosts (HostUpdated) and warns about hosts it no longer has', async () => {
    const site = 'chg';
    const dir = await mkdtemp(join(tmpdir(), 'stackyard-reimport-'));
    try {
      await cp(DEV, dir, { recursive: true });
      const first = await importConfig({ siteId: site, configPath: dir });
      expect(first.hosts.every((h) => h.change === 'added')).toBe(true);
      // controller0's BMC moves; seed leaves the inventory.
      const hostsFile = join(dir, 'inventory/hosts');
      const text = await readFile(hostsFile, 'utf8');
      await writeFile(hostsFile, text.replace(/^controller0.*$/m, (l) => `${l} ipmi_address=10.9.9.9`).replace(/^seed$/m, ''));
      const second = await importConfig({ siteId: site, configPath: dir });
      const byName = Object.fromEntries(second.hosts.map((h) => [h.name, h.change]));
      expect(byName['controller0']).toBe('changed');
      expect(byName['seed-hypervisor']).toBe('unchanged');
      expect(second.warnings.filter((w) => w.code === 'HostNoLongerConfigured').map((w) => w.hosts)).toEqual([['seed']]);
      expect((await call(p.clients.inventory, p.clients.inventory.getHost, { id: 'chg-controller0' })).host?.bmc?.address).toBe('10.9.9.9');
      expect((await call(p.clients.inventory, p.clients.inventory.getHost, { id: 'chg-seed' })).host?.name).toBe('seed');
      await eventually(async () => (Object.keys(await countBySubject(bus.jsm, 'stackyard.chg.inventory.host.chg-controller0.updated')).length ? true : undefined), 10_000, 'HostUpdated');
      const got = await call(p.clients.inventory, p.clients.inventory.getImport, { importId: second.importId });
      expect(got.import).toMatchObject({ hostsChanged: 1, hostsMissing: ['chg-seed'], state: 'materialized' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
