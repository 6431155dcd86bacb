import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { recordsCommand } from '@stackyard/cli';
import { call, FIELD_KEY } from '@stackyard/grpc';
import { connectBus, type Bus } from '@stackyard/nats';
import type { LocalServer } from '@stackyard/devinfra';
import { NodeDeploymentState } from '@stackyard/proto/deployment/v1/deployment';
import { HostState } from '@stackyard/proto/inventory/v1/inventory';
import type { CreateDeploymentRequest, CreateGroupRequest, UpdateGroupRequest } from '@stackyard/proto/inventory/v1/inventory_service';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';
import { countBySubject, drained, replay } from './streams';

const DEV = '/work/shared/reference/kayobe-configs/openstack+kayobe-config-dev/etc/kayobe';

type GrpcError = { code: number; details: string; metadata: { get(k: string): unknown[] } };
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a gRPC error'); }, (e: unknown) => e as GrpcError);
const fieldOf = (e: GrpcError) => e.metadata.get(FIELD_KEY)[0];

// Groups and deployments as inventory records, the Kayobe import creating them, and the other
// services' reactions to HostDeleted, over gRPC on the five services (private NATS, the run's FerretDB).
describe('inventory groups, deployments and HostDeleted reactions end to end', () => {
  let nats: LocalServer;
  let p: Platform;
  let bus: Bus;

  const inv = () => p.clients.inventory;
  const createGroup = (r: Partial<CreateGroupRequest>) => call(inv(), inv().createGroup, { siteId: 'gr', name: '', description: '', children: [], vars: {}, ...r }, { attempts: 1 });
  const updateGroup = (r: Partial<UpdateGroupRequest>) =>
    call(inv(), inv().updateGroup, { id: '', version: 0, updateMask: [], description: '', children: [], vars: {}, ...r }, { attempts: 1 });
  const createDeployment = (r: Partial<CreateDeploymentRequest>) =>
    call(inv(), inv().createDeployment, { siteId: 'gr', name: 'prod', description: '', hostIds: [], groups: [], roles: [], services: {}, ...r }, { attempts: 1 });
  const published = (subject: string) => eventually(async () => ((await countBySubject(bus.jsm, subject))[subject] ? true : undefined), 10_000, subject);

  beforeAll(async () => {
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('invrec'));
    await p.startAll();
    bus = await connectBus(nats.url, 'invrec-observer');
  });
  afterAll(async () => {
    await bus?.close();
    await p?.stopAll();
    await nats?.stop();
  });

  it('groups: create with children and vars, cycles and secrets refused naming the field, ListHosts by a parent, delete needs force', async () => {
    await call(inv(), inv().createSite, { id: 'gr', displayName: '' });
    await createGroup({ name: 'compute' });
    await createGroup({ name: 'controllers' });
    const oc = (await createGroup({ name: 'overcloud', children: ['controllers', 'compute'], vars: { kolla_admin_password: 'vault:kolla/admin' } })).group!;
    expect(oc).toMatchObject({ id: 'gr-overcloud', version: 1, children: ['controllers', 'compute'] });
    await published('stackyard.gr.inventory.group.gr-overcloud.created');

    const cycle = await failure(updateGroup({ id: 'gr-compute', version: 1, updateMask: ['children'], children: ['overcloud'] }));
    expect([cycle.code, fieldOf(cycle), cycle.details]).toEqual([status.INVALID_ARGUMENT, 'children[0]', 'children[0]: would make a cycle: compute -> overcloud -> compute']);
    const secret = await failure(createGroup({ name: 'storage', vars: { ceph_secret: 'plaintext-value' } }));
    expect([secret.code, fieldOf(secret)]).toEqual([status.INVALID_ARGUMENT, 'vars.ceph_secret']);
    expect(secret.details).not.toContain('plaintext-value');
    expect((await failure(createGroup({ name: 'x', children: ['nope'] }))).metadata.get(FIELD_KEY)[0]).toBe('children[0]');
    expect((await failure(call(inv(), inv().getGroup, { id: 'gr-storage' }, { attempts: 1 }))).code).toBe(status.NOT_FOUND);

    await p.registerHost('gr', 'ctl-01', ['controllers']);
    await p.registerHost('gr', 'cmp-01', ['compute']);
    const listed = await call(inv(), inv().listHosts, { siteId: 'gr', group: 'overcloud', pageSize: 0, pageToken: '' });
    expect(listed.hosts.map((h) => h.name)).toEqual(['cmp-01', 'ctl-01']);
    expect((await call(inv(), inv().getGroup, { id: 'gr-compute' })).group?.hosts).toEqual(['gr-cmp-01']);
    expect((await call(inv(), inv().listGroups, { siteId: 'gr', pageSize: 0, pageToken: '' })).groups.map((g) => g.name)).toEqual(['compute', 'controllers', 'overcloud']);

    const inUse = await failure(call(inv(), inv().deleteGroup, { id: 'gr-overcloud', version: 0, force: false }, { attempts: 1 }));
    expect(inUse.code).toBe(status.FAILED_PRECONDITION);
    const child = await failure(call(inv(), inv().deleteGroup, { id: 'gr-compute', version: 0, force: true }, { attempts: 1 }));
    expect(child.code).toBe(status.FAILED_PRECONDITION);
    expect((await call(inv(), inv().deleteGroup, { id: 'gr-overcloud', version: 1, force: true }, { attempts: 1 })).group?.id).toBe('gr-overcloud');
    await published('stackyard.gr.inventory.group.gr-overcloud.deleted');
    expect((await failure(call(inv(), inv().getGroup, { id: 'gr-overcloud' }, { attempts: 1 }))).code).toBe(status.NOT_FOUND);
  });

  it('deployments: unknown hosts and groups refused naming the field; create, update and delete with their events', async () => {
    for (const [req, field] of [
      [{ hostIds: ['gr-nope'] }, 'host_ids[0]'],
      [{ groups: ['storage'] }, 'groups[0]'],
      [{ groups: ['compute'], roles: [{ role: 'control', groups: ['nope'] }] }, 'roles[0].groups[0]'],
      [{ groups: ['compute'], services: { 'nova.api': true } }, 'services'],
      [{ groups: ['compute'], name: 'Prod' }, 'name'],
      [{}, 'host_ids'],
    ] as const) {
      const e = await failure(createDeployment(req as Partial<CreateDeploymentRequest>));
      expect([e.code, fieldOf(e)], JSON.stringify(req)).toEqual([status.INVALID_ARGUMENT, field]);
    }
    const d = (await createDeployment({ hostIds: ['gr-ctl-01'], groups: ['compute'], roles: [{ role: 'control', groups: ['controllers'] }], services: { nova: true, ironic: false } })).deployment!;
    expect(d).toMatchObject({ id: 'gr-prod', version: 1, services: { nova: true, ironic: false } });
    const u = await call(inv(), inv().updateDeployment, { id: d.id, version: 1, updateMask: ['services'], description: '', hostIds: [], groups: [], roles: [], services: { nova: true, ironic: true } }, { attempts: 1 });
    expect(u.deployment).toMatchObject({ version: 2, hostIds: ['gr-ctl-01'], services: { ironic: true } });
    await call(inv(), inv().deleteDeployment, { id: d.id, version: 2 }, { attempts: 1 });
    for (const e of ['created', 'updated', 'deleted']) await published(`stackyard.gr.inventory.deployment.gr-prod.${e}`);
  });

  it('a Kayobe import records the configuration groups and its deployment', async () => {
    await call(inv(), inv().importKayobeConfig, { configPath: DEV, environment: '', siteId: 'kdev', dryRun: false, requestId: '', registerHosts: false, registerGroups: [], bmcDriver: 'lab' }, { attempts: 1, deadlineMs: 60_000 });
    const groups = (await call(inv(), inv().listGroups, { siteId: 'kdev', pageSize: 500, pageToken: '' })).groups;
    expect(groups.map((g) => g.name)).toEqual(expect.arrayContaining(['controllers', 'compute', 'network', 'monitoring', 'storage', 'seed', 'overcloud']));
    expect(groups.find((g) => g.name === 'overcloud')?.children).toEqual(expect.arrayContaining(['controllers', 'compute']));
    const d = (await call(inv(), inv().getDeployment, { id: 'kdev-kayobe' })).deployment!;
    expect(d.groups).toEqual(['overcloud']);
    expect(d.roles.map((r) => r.role)).toEqual(['control', 'network', 'compute', 'monitoring', 'storage']);
    expect(Object.keys(d.services).length).toBeGreaterThan(0);

    // The CLI verbs over the same records.
    const lines: string[] = [];
    const errs: string[] = [];
    const o = { inventory: `127.0.0.1:${p.services.get('inventory')!.grpcPort}`, json: false, out: (l: string) => lines.push(l), err: (l: string) => errs.push(l) };
    expect(await recordsCommand('deployment', 'show', 'kdev-kayobe', o)).toBe(0);
    expect(lines[0]).toMatch(/^deployment kayobe \(site kdev, id kdev-kayobe, version 1, from import kdev-/);
    expect(lines).toContain('  groups:   overcloud');
    expect(await recordsCommand('group', 'list', 'kdev', o)).toBe(0);
    expect(lines.some((l) => /^overcloud\s/.test(l))).toBe(true);
    expect(await recordsCommand('group', 'show', 'kdev-controllers', o)).toBe(0);
    expect(lines.filter((l) => l.startsWith('  hosts:')).at(-1)).toMatch(/kdev-/);
    expect(await recordsCommand('group', 'show', 'kdev-nope', o)).toBe(1);
    expect(errs).toEqual(['stackyard group show: group "kdev-nope" not found']);
  });

  it('HostDeleted: network releases the host addresses, monitoring drops the node, provisioning and deployment stop tracking it', async () => {
    await p.defineSite('hd');
    const h = (await p.registerHost('hd', 'cmp-01')).host!;
    await p.registerHost('hd', 'cmp-02');
    const ready = await eventually(async () => {
      const x = (await call(inv(), inv().getHost, { id: h.id })).host!;
      return x.state === HostState.HOST_STATE_READY ? x : undefined;
    }, 60_000, 'cmp-01 ready');
    await eventually(async () => ((await call(inv(), inv().getHost, { id: 'hd-cmp-02' })).host!.state === HostState.HOST_STATE_READY ? true : undefined), 60_000, 'cmp-02 ready');
    // HostUpdated with new groups: monitoring's projection shows them.
    const moved = await call(inv(), inv().updateHost, { id: 'hd-cmp-02', version: (await call(inv(), inv().getHost, { id: 'hd-cmp-02' })).host!.version, updateMask: ['groups'], groups: ['compute', 'monitoring'], bmc: undefined, labels: {}, hardwareProfile: '' }, { attempts: 1 });
    expect(moved.host?.groups).toEqual(['compute', 'monitoring']);
    const monitor = p.clients.monitoring;
    await eventually(async () => ((await call(monitor, monitor.getNodeProgress, { hostId: 'hd-cmp-02' })).progress?.host?.groups.includes('monitoring') ? true : undefined), 20_000, 'groups refreshed in monitoring');
    const net = p.clients.network;
    const before = (await call(net, net.exportAllocations, { siteId: 'hd' })).yaml;
    expect(before).toContain('cmp-01:');
    expect(before).toContain('cmp-02:');

    await call(inv(), inv().deleteHost, { id: h.id, version: ready.version }, { attempts: 1 });

    const after = await eventually(async () => {
      const y = (await call(net, net.exportAllocations, { siteId: 'hd' })).yaml;
      return y.includes('cmp-01:') ? undefined : y;
    }, 20_000, 'cmp-01 addresses released');
    expect(after).toContain('cmp-02:');
    const mon = p.clients.monitoring;
    await eventually(async () => (await failure(call(mon, mon.getNodeProgress, { hostId: h.id }, { attempts: 1 }))).code === status.NOT_FOUND || undefined, 20_000, 'node progress dropped');
    expect((await call(mon, mon.listNodeProgress, { siteId: 'hd' })).nodes.map((n) => n.host?.hostId)).toEqual(['hd-cmp-02']);
    const prov = p.clients.provisioning;
    await eventually(async () => (await failure(call(prov, prov.getNode, { hostId: h.id }, { attempts: 1 }))).code === status.NOT_FOUND || undefined, 20_000, 'node untracked');
    const dep = p.clients.deployment;
    await eventually(async () => ((await call(dep, dep.getNodeDeployment, { hostId: h.id })).deployment?.state === NodeDeploymentState.NODE_DEPLOYMENT_STATE_REMOVED ? true : undefined), 20_000, 'node deployment removed');
    // The other host is untouched; the machine was not deprovisioned (no AddressesReleased, no NodeDeprovisioned).
    expect((await call(prov, prov.getNode, { hostId: 'hd-cmp-02' })).node?.host?.hostId).toBe('hd-cmp-02');
    // HostDeleted delivered again (past the dedup window): no further effect anywhere.
    const versions = async () => ({
      net: (await call(net, net.getHostNetworkConfig, { hostId: h.id })).config!.version,
      dep: (await call(dep, dep.getNodeDeployment, { hostId: h.id })).deployment!.version,
      other: (await call(mon, mon.getNodeProgress, { hostId: 'hd-cmp-02' })).progress!.version,
      yaml: (await call(net, net.exportAllocations, { siteId: 'hd' })).yaml,
    });
    await eventually(() => drained(bus.jsm), 15_000, 'deletion consumed');
    const once = await versions();
    await replay(bus.jsm, bus.js, `stackyard.hd.inventory.host.${h.id}.deleted`);
    await eventually(() => drained(bus.jsm), 15_000, 'replay consumed');
    expect(await versions()).toEqual(once);
    const counts = await countBySubject(bus.jsm, 'stackyard.hd.>');
    expect(counts[`stackyard.hd.inventory.host.${h.id}.deleted`]).toBe(2);
    expect(counts[`stackyard.hd.provisioning.node.${h.id}.action-finished`]).toBeUndefined();
    expect(counts[`stackyard.hd.network.host.${h.id}.addresses-released`]).toBeUndefined();
    expect(counts[`stackyard.hd.provisioning.node.${h.id}.deprovisioned`]).toBeUndefined();

    // Registered again: every service starts it afresh and it reaches ready again.
    await p.registerHost('hd', 'cmp-01');
    await eventually(async () => ((await call(inv(), inv().getHost, { id: h.id })).host!.state === HostState.HOST_STATE_READY ? true : undefined), 60_000, 'cmp-01 ready again');
    expect((await call(dep, dep.getNodeDeployment, { hostId: h.id })).deployment?.state).toBe(NodeDeploymentState.NODE_DEPLOYMENT_STATE_DEPLOYED);
    expect((await call(net, net.exportAllocations, { siteId: 'hd' })).yaml).toContain('cmp-01:');
  });
});
