import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { call, FIELD_KEY, REASON_KEY } from '@stackyard/grpc';
import { connectBus, type Bus } from '@stackyard/nats';
import type { LocalServer } from '@stackyard/devinfra';
import { streamFor } from '@stackyard/events';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { NetworkConfigured } from '@stackyard/proto/network/v1/events';
import { Severity, type Network } from '@stackyard/proto/network/v1/network';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';

// The network service's Kayobe model over gRPC and in the saga, on real servers.
describe('network: Kayobe attributes, Kolla host variables and network-allocation.yml end to end', () => {
  let nats: LocalServer;
  let p: Platform;
  let bus: Bus;
  const site = 'nete2e';

  const network = (over: Partial<Network>): Network => ({
    siteId: site,
    name: 'x',
    cidr: '10.9.0.0/24',
    gateway: '',
    allocationPoolStart: '',
    allocationPoolEnd: '',
    vlan: 0,
    mtu: 0,
    groups: ['compute'],
    interface: '{nic0}',
    version: 0,
    ...over,
  });
  const kayobe = (over: Record<string, unknown>) =>
    ({
      roles: [],
      routes: [],
      rules: [],
      routeTables: [],
      physicalNetwork: '',
      vipAddress: '',
      fqdn: '',
      noIp: false,
      bootproto: '',
      parent: '',
      macaddress: '',
      inspectionAllocationPoolStart: '',
      inspectionAllocationPoolEnd: '',
      inspectionGateway: '',
      inspectionDnsServers: [],
      neutronAllocationPoolStart: '',
      neutronAllocationPoolEnd: '',
      neutronGateway: '',
      neutronDnsServers: [],
      ingressQosMap: [],
      egressQosMap: [],
      ethtoolOpts: '',
      zone: '',
      libvirtNetworkName: '',
      type: '',
      ...over,
    }) as Network['kayobe'];
  const define = (n: Network) => call(p.clients.network, p.clients.network.defineNetwork, { network: n });
  const ready = (hostId: string) =>
    eventually(async () => {
      const pr = (await call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId }).catch(() => undefined))?.progress;
      return pr?.state === NodeState.NODE_STATE_READY ? pr : undefined;
    }, 30_000, `${hostId} ready`);
  const rpcError = async (p0: Promise<unknown>) => (await p0.then(() => undefined, (e: unknown) => e)) as { code: number; details: string; metadata: { get(k: string): unknown[] } } | undefined;

  beforeAll(async () => {
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('nete2e'), { provisioning: { LAB_LATENCY_MS: '5' } });
    await p.startAll();
    await call(p.clients.inventory, p.clients.inventory.createSite, { id: site, displayName: site });
    bus = await connectBus(nats.url, 'network-e2e-observer');
  });
  afterAll(async () => {
    await bus?.close();
    await p?.stopAll();
    await nats?.stop();
  });

  it('rejects bad Kayobe attributes with INVALID_ARGUMENT naming the field, and stores nothing', async () => {
    const cases: [Network, string][] = [
      [network({ name: 'bad1', kayobe: kayobe({ vipAddress: '10.9.0.20' }) }), 'network.kayobe.vip_address'],
      [network({ name: 'bad2', kayobe: kayobe({ roles: ['mgmt'] }) }), 'network.kayobe.roles[0]'],
      [network({ name: 'bad3', kayobe: kayobe({ routes: [{ cidr: '10.8.0.0/16', gateway: '', table: 'nope', options: [], src: '' }] }) }), 'network.kayobe.routes[0].table'],
      [network({ name: 'bad4', kayobe: kayobe({ bridge: { ports: ['eth1'] }, bond: { slaves: ['eth2'], mode: '', xmitHashPolicy: '', lacpRate: '', adSelect: '' } }) }), 'network.kayobe.bond'],
      [network({ name: 'bad5', allocationPoolStart: '10.9.0.10', allocationPoolEnd: '10.9.0.100', kayobe: kayobe({ neutronAllocationPoolStart: '10.9.0.90', neutronAllocationPoolEnd: '10.9.0.120' }) }), 'network.kayobe.neutron_allocation_pool_start'],
    ];
    for (const [n, field] of cases) {
      const err = await rpcError(define(n));
      expect(err, `expected INVALID_ARGUMENT on ${field}`).toBeDefined();
      expect(err!.code).toBe(status.INVALID_ARGUMENT);
      expect(err!.metadata.get(FIELD_KEY)).toEqual([field]);
      expect(err!.metadata.get(REASON_KEY)).toEqual(['InvalidArgument']);
    }
    expect((await call(p.clients.network, p.clients.network.listNetworks, { siteId: site })).networks).toEqual([]);
  });

  it('defines the site with roles, a physnet and warnings, then rejects a second network on the same device', async () => {
    await define(network({ name: 'provision_oc', cidr: '10.0.0.0/24', gateway: '10.0.0.1', allocationPoolStart: '10.0.0.10', allocationPoolEnd: '10.0.0.200' }));
    await define(network({ name: 'internal', cidr: '10.1.0.0/24', allocationPoolStart: '10.1.0.10', allocationPoolEnd: '10.1.0.200', vlan: 101, interface: '{nic1}', kayobe: kayobe({ vipAddress: '10.1.0.2' }) }));
    const ext = await define(
      network({
        name: 'ext',
        cidr: '10.3.0.0/24',
        allocationPoolStart: '10.3.0.10',
        allocationPoolEnd: '10.3.0.100',
        vlan: 200,
        interface: '{nic1}',
        kayobe: kayobe({ roles: ['external', 'public'], physicalNetwork: 'physnet1', routes: [{ cidr: '10.30.0.0/16', gateway: '10.3.0.1', table: '', options: [], src: '', metric: 400 }] }),
      }),
    );
    expect(ext.network?.kayobe?.physicalNetwork).toBe('physnet1');
    expect(ext.warnings.map((w) => [w.severity, w.field, w.kayobeVariable])).toEqual([[Severity.SEVERITY_WARNING, 'network.kayobe.routes[0]', 'ext_routes']]);
    const got = (await call(p.clients.network, p.clients.network.getNetwork, { siteId: site, name: 'ext' })).network!;
    expect(got.kayobe?.roles).toEqual(['external', 'public']);
    expect(got.kayobe?.routes[0]?.metric).toBe(400);

    const dup = await rpcError(define(network({ name: 'storage', cidr: '10.2.0.0/24', vlan: 101, interface: '{nic1}' })));
    expect(dup?.code).toBe(status.INVALID_ARGUMENT);
    expect(dup?.metadata.get(FIELD_KEY)).toEqual(['network.interface']);
    expect((await call(p.clients.network, p.clients.network.listNetworks, { siteId: site })).networks.map((n) => n.name)).toEqual(['ext', 'internal', 'provision_oc']);
    expect((await call(p.clients.network, p.clients.network.validateSite, { siteId: site })).issues.filter((i) => i.severity === Severity.SEVERITY_ERROR)).toEqual([]);
  });

  /** Each host's address per network, from the test below (the export must agree with them). */
  let allocated: Record<string, Record<string, string>> = {};

  it('pre-seeds an address, and a host reaching ready has it and Kolla host variables in its config and event', async () => {
    const seeded = await call(p.clients.network, p.clients.network.importAllocations, { siteId: site, yaml: 'provision_oc_ips:\n  cmp-01: 10.0.0.50\n', requestId: 'seed-1' });
    expect([seeded.imported, seeded.unchanged]).toEqual([1, 0]);

    await p.registerHost(site, 'cmp-01');
    await p.registerHost(site, 'cmp-02');
    await ready(`${site}-cmp-01`);
    await ready(`${site}-cmp-02`);

    const cfg = (await call(p.clients.network, p.clients.network.getHostNetworkConfig, { hostId: `${site}-cmp-01` })).config!;
    const cfg2 = (await call(p.clients.network, p.clients.network.getHostNetworkConfig, { hostId: `${site}-cmp-02` })).config!;
    // The two hosts are configured concurrently: which one takes a pool's first address is not
    // fixed, but they take its first two, and cmp-01 keeps its pre-seeded provisioning address.
    const byNet = (c: typeof cfg) => Object.fromEntries(c.allocations.map((a) => [a.network, a.address]));
    allocated = { 'cmp-01': byNet(cfg), 'cmp-02': byNet(cfg2) };
    expect(cfg.allocations.map((a) => a.network)).toEqual(['ext', 'internal', 'provision_oc']);
    expect(allocated['cmp-01']!['provision_oc']).toBe('10.0.0.50');
    expect(allocated['cmp-02']!['provision_oc']).toBe('10.0.0.10');
    expect([allocated['cmp-01']!['ext'], allocated['cmp-02']!['ext']].sort()).toEqual(['10.3.0.10', '10.3.0.11']);
    expect([allocated['cmp-01']!['internal'], allocated['cmp-02']!['internal']].sort()).toEqual(['10.1.0.10', '10.1.0.11']);
    const kolla = {
      vars: {
        network_interface: 'eno2.101',
        api_interface: 'eno2.101',
        tunnel_interface: 'eno2.101',
        dns_interface: 'eno2.200',
        kolla_external_vip_interface: 'eno2.200',
        neutron_bridge_name: 'eno2-ovs',
        neutron_external_interface: 'eno2',
        neutron_physical_networks: 'physnet1',
      },
      problems: [],
    };
    expect(cfg.kolla).toEqual(kolla);
    expect(cfg.files.find((f) => f.path.endsWith('eno2.200.network'))?.content).toContain('[Route]\nDestination=10.30.0.0/16\nGateway=10.3.0.1\n');

    const m = await bus.jsm.streams.getMessage(streamFor('network').name, { last_by_subj: `stackyard.${site}.network.host.${site}-cmp-01.configured` });
    expect(NetworkConfigured.decode(m!.data).kolla).toEqual(kolla);
  });

  it("exports the two hosts' allocations as network-allocation.yml", async () => {
    const r = await call(p.clients.network, p.clients.network.exportAllocations, { siteId: site });
    const a = allocated;
    expect(r.yaml).toBe(
      [
        'ext_ips:',
        `  cmp-01: ${a['cmp-01']!['ext']}`,
        `  cmp-02: ${a['cmp-02']!['ext']}`,
        'internal_ips:',
        `  cmp-01: ${a['cmp-01']!['internal']}`,
        `  cmp-02: ${a['cmp-02']!['internal']}`,
        'provision_oc_ips:',
        '  cmp-01: 10.0.0.50',
        '  cmp-02: 10.0.0.10',
        '',
      ].join('\n'),
    );
  });

  it('rejects an import with one conflict and imports nothing of it', async () => {
    const before = (await call(p.clients.network, p.clients.network.exportAllocations, { siteId: site })).yaml;
    const err = await rpcError(
      call(p.clients.network, p.clients.network.importAllocations, { siteId: site, yaml: 'internal_ips:\n  ctl-01: 10.1.0.60\nprovision_oc_ips:\n  ctl-01: 10.0.0.10\n', requestId: 'seed-2' }),
    );
    expect(err?.code).toBe(status.ALREADY_EXISTS);
    expect(err?.details).toBe('allocation "provision_oc_ips: 10.0.0.10 for ctl-01 is held by cmp-02" already exists');
    expect((await call(p.clients.network, p.clients.network.exportAllocations, { siteId: site })).yaml).toBe(before);

    const bad = await rpcError(call(p.clients.network, p.clients.network.importAllocations, { siteId: site, yaml: 'internal_ips:\n  ctl-01: 10.1.0.2\n', requestId: 'seed-3' }));
    expect(bad?.code).toBe(status.INVALID_ARGUMENT);
    expect(bad?.metadata.get(FIELD_KEY)).toEqual(['yaml.internal_ips']);
    expect((await call(p.clients.network, p.clients.network.exportAllocations, { siteId: site })).yaml).toBe(before);
  });
});
