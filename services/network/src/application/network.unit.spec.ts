import { beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, StepFailedError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import type { HostRef, Nic } from '@stackyard/proto/inventory/v1/inventory';
import type { AdminAddressAllocated, NetworkConfigured, NetworkFailed } from '@stackyard/proto/network/v1/events';
import type { RenderedFile } from '@stackyard/proto/network/v1/network';
import type { NodeInspected, NodeProvisioned } from '@stackyard/proto/provisioning/v1/events';
import { formatIp, parseIp } from '../domain/ipv4';
import { networkId, type NetworkData } from '../domain/network';
import { NetworkService } from './network';
import type {
  AllocationRecord,
  AllocationRepository,
  HostConfigData,
  HostConfigRepository,
  NetworkApplier,
  NetworkRepository,
  Write,
} from './ports';

class FakeNetworkRepository implements NetworkRepository {
  private readonly nets = new Map<string, { data: NetworkData; version: number }>();
  async get(siteId: string, name: string) {
    const n = this.nets.get(networkId(siteId, name));
    return n ? structuredClone(n) : null;
  }
  async put(n: NetworkData): Promise<number> {
    const id = networkId(n.siteId, n.name);
    const version = (this.nets.get(id)?.version ?? 0) + 1;
    this.nets.set(id, { data: structuredClone(n), version });
    return version;
  }
  async list(siteId: string): Promise<NetworkData[]> {
    return [...this.nets.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, n]) => structuredClone(n.data))
      .filter((n) => n.siteId === siteId);
  }
}

/**
 * Allocations with the two unique indexes of MongoAllocationRepository: (site, network, address) and
 * (site, network, host). `claim` checks and inserts in one synchronous step, as an insert against a
 * unique index does; the service's reads (`forHost`, `taken`) interleave freely with other callers.
 */
class FakeAllocationRepository implements AllocationRepository {
  readonly rows: AllocationRecord[] = [];
  readonly claims: ('claimed' | 'address-taken' | 'host-has-one')[] = [];
  async forHost(siteId: string, network: string, hostId: string) {
    const r = this.rows.find((a) => a.siteId === siteId && a.network === network && a.hostId === hostId);
    return r ? { ...r } : null;
  }
  async taken(siteId: string, network: string) {
    return new Set(this.rows.filter((a) => a.siteId === siteId && a.network === network).map((a) => a.address));
  }
  async claim(a: AllocationRecord) {
    const same = (r: AllocationRecord) => r.siteId === a.siteId && r.network === a.network;
    const duplicate = this.rows.some((r) => same(r) && (r.address === a.address || r.hostId === a.hostId));
    let result: 'claimed' | 'address-taken' | 'host-has-one';
    if (!duplicate) {
      this.rows.push({ ...a });
      result = 'claimed';
    } else {
      result = this.rows.some((r) => same(r) && r.hostId === a.hostId) ? 'host-has-one' : 'address-taken';
    }
    this.claims.push(result);
    return result;
  }
  async releaseHost(siteId: string, hostId: string) {
    const before = this.rows.length;
    for (let i = this.rows.length - 1; i >= 0; i--) {
      const r = this.rows[i]!;
      if (r.siteId === siteId && r.hostId === hostId) this.rows.splice(i, 1);
    }
    return before - this.rows.length;
  }
  async listHost(hostId: string) {
    return this.rows.filter((r) => r.hostId === hostId).map((r) => ({ ...r }));
  }
  async listSite(siteId: string) {
    return this.rows.filter((r) => r.siteId === siteId).map((r) => ({ ...r }));
  }
  async remove(a: AllocationRecord) {
    const i = this.rows.findIndex((r) => r.siteId === a.siteId && r.network === a.network && r.hostId === a.hostId && r.address === a.address);
    if (i >= 0) this.rows.splice(i, 1);
  }
}

class FakeHostConfigRepository implements HostConfigRepository {
  readonly store = new InMemoryAggregateStore<HostConfigData>('host network config');
  get(hostId: string) {
    return this.store.get(hostId);
  }
  async listSite(siteId: string) {
    return (await this.store.find((d) => d.host.siteId === siteId)).map((r) => r.data);
  }
  save(cfg: HostConfigData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return version === undefined
      ? this.store.create(cfg.host.hostId, cfg, { events, appliedKey })
      : this.store.update(cfg.host.hostId, version, cfg, { events, appliedKey });
  }
}

class FakeApplier implements NetworkApplier {
  readonly name = 'fake';
  readonly applied: { hostId: string; files: readonly RenderedFile[]; addresses: readonly string[] }[] = [];
  readonly failures: unknown[] = [];
  async apply(host: HostRef, files: readonly RenderedFile[], addresses: readonly string[]): Promise<void> {
    const e = this.failures.shift();
    if (e !== undefined) throw e;
    this.applied.push({ hostId: host.hostId, files, addresses });
  }
}

const PROVISION: NetworkData = {
  siteId: 'dc1',
  name: 'provision_oc',
  cidr: '10.0.0.0/24',
  gateway: '10.0.0.1',
  allocationPoolStart: '10.0.0.10',
  allocationPoolEnd: '10.0.0.200',
  vlan: 0,
  mtu: 1500,
  groups: ['controllers', 'compute'],
  interface: '{nic0}',
};
const INTERNAL: NetworkData = {
  siteId: 'dc1',
  name: 'internal',
  cidr: '10.1.0.0/24',
  gateway: '',
  allocationPoolStart: '10.1.0.10',
  allocationPoolEnd: '10.1.0.200',
  vlan: 101,
  mtu: 9000,
  groups: ['controllers'],
  interface: '{nic1}',
};
const nic = (name: string): Nic => ({ name, macAddress: '52:54:00:00:00:01', speedMbps: 25_000, lldpSwitch: '', lldpPort: '' });
const NICS = [nic('eno1'), nic('eno2')];
const CTL: HostRef = { hostId: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', groups: ['controllers', 'network'] };
const ORIGIN = { id: 'origin-event', correlationId: 'corr-dc1' };

function provisioned(host: HostRef = CTL, nics: Nic[] = NICS): Envelope<NodeProvisioned> {
  return newEvent({ type: Events.NodeProvisioned, site: 'dc1', entityId: host.hostId, service: 'provisioning', data: { host, image: 'img', nics }, cause: ORIGIN });
}

function ctx(env: Envelope, lastAttempt = false) {
  return { appliedKey: `network-on-node-provisioned~${env.id}`, lastAttempt };
}

let networks: FakeNetworkRepository;
let allocations: FakeAllocationRepository;
let configs: FakeHostConfigRepository;
let applier: FakeApplier;
let svc: NetworkService;

beforeEach(() => {
  networks = new FakeNetworkRepository();
  allocations = new FakeAllocationRepository();
  configs = new FakeHostConfigRepository();
  applier = new FakeApplier();
  svc = new NetworkService(networks, allocations, configs, applier, '50-kayobe-');
});

describe('NetworkService.allocate', () => {
  it('Given an empty pool, then the first host gets the first pool address', async () => {
    expect(await svc.allocate(PROVISION, 'h1')).toBe('10.0.0.10');
    expect(allocations.rows).toEqual([{ siteId: 'dc1', network: 'provision_oc', hostId: 'h1', address: parseIp('10.0.0.10') }]);
  });

  it('Given addresses held by other hosts, then it takes the lowest free one (filling gaps)', async () => {
    await allocations.claim({ siteId: 'dc1', network: 'provision_oc', hostId: 'a', address: parseIp('10.0.0.10')! });
    await allocations.claim({ siteId: 'dc1', network: 'provision_oc', hostId: 'b', address: parseIp('10.0.0.12')! });
    // Another network or site does not count.
    await allocations.claim({ siteId: 'dc1', network: 'internal', hostId: 'c', address: parseIp('10.0.0.11')! });
    await allocations.claim({ siteId: 'dc2', network: 'provision_oc', hostId: 'd', address: parseIp('10.0.0.11')! });
    expect(await svc.allocate(PROVISION, 'h1')).toBe('10.0.0.11');
    expect(await svc.allocate(PROVISION, 'h2')).toBe('10.0.0.13');
  });

  it('is idempotent for the same host: the same address, one allocation', async () => {
    const first = await svc.allocate(PROVISION, 'h1');
    await svc.allocate(PROVISION, 'h2');
    expect(await svc.allocate(PROVISION, 'h1')).toBe(first);
    expect((await allocations.listHost('h1')).map((a) => formatIp(a.address))).toEqual([first]);
  });

  it('Given 50 hosts allocating concurrently, then no two share an address and they get the 50 lowest addresses', async () => {
    const hosts = Array.from({ length: 50 }, (_, i) => `dc1-cmp-${String(i).padStart(2, '0')}`);

    const got = await Promise.all(hosts.map((h) => svc.allocate(PROVISION, h)));

    expect(new Set(got).size).toBe(50);
    const expected = Array.from({ length: 50 }, (_, i) => `10.0.0.${10 + i}`);
    expect([...got].sort((a, b) => parseIp(a)! - parseIp(b)!)).toEqual(expected);
    expect(allocations.rows).toHaveLength(50);
    for (const [i, h] of hosts.entries()) expect(formatIp((await allocations.forHost('dc1', 'provision_oc', h))!.address)).toBe(got[i]);
    // The race really happened: callers collided on addresses and moved on.
    expect(allocations.claims.filter((c) => c === 'address-taken').length).toBeGreaterThan(0);
  });

  it('Given the same host allocating twice at once, then both calls return one address', async () => {
    const [a, b] = await Promise.all([svc.allocate(PROVISION, 'h1'), svc.allocate(PROVISION, 'h1')]);
    expect(a).toBe('10.0.0.10');
    expect(b).toBe(a);
    expect(allocations.rows).toHaveLength(1);
    expect(allocations.claims).toContain('host-has-one');
  });

  it('Given a two-address pool, then the third host gets StepFailedError AddressPoolExhausted (not retryable)', async () => {
    const tiny = { ...PROVISION, allocationPoolStart: '10.0.0.10', allocationPoolEnd: '10.0.0.11' };
    expect(await svc.allocate(tiny, 'h1')).toBe('10.0.0.10');
    expect(await svc.allocate(tiny, 'h2')).toBe('10.0.0.11');

    const e = await svc.allocate(tiny, 'h3').catch((x: unknown) => x);

    expect(e).toBeInstanceOf(StepFailedError);
    expect((e as StepFailedError).reason).toBe('AddressPoolExhausted');
    expect((e as StepFailedError).retryable).toBe(false);
    expect((e as StepFailedError).message).toContain('provision_oc');
    expect(allocations.rows).toHaveLength(2);
  });

  it('Given more concurrent hosts than addresses, then exactly the pool size succeed and the rest are exhausted', async () => {
    const tiny = { ...PROVISION, allocationPoolStart: '10.0.0.10', allocationPoolEnd: '10.0.0.14' };
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => svc.allocate(tiny, `h${i}`)));
    const ok = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<string>).value);
    expect(ok.sort()).toEqual(['10.0.0.10', '10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14']);
    for (const r of results.filter((x) => x.status === 'rejected')) expect((r as PromiseRejectedResult).reason).toMatchObject({ reason: 'AddressPoolExhausted' });
  });

  it('rejects an invalid network before touching allocations', async () => {
    const e = await svc.allocate({ ...PROVISION, cidr: '10.0.0.1/24' }, 'h1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('network.cidr');
    expect(allocations.claims).toEqual([]);
  });
});

function inspected(host: HostRef = CTL, nics: Nic[] = NICS): Envelope<NodeInspected> {
  return newEvent({ type: Events.NodeInspected, site: 'dc1', entityId: host.hostId, service: 'provisioning', data: { host, hardware: { cpuCount: 8, cpuModel: 'x', memoryMib: 1024, disks: [], nics } }, cause: ORIGIN });
}

describe('NetworkService.onNodeInspected (admin address before deploy, Kayobe §6.5)', () => {
  beforeEach(async () => {
    await networks.put(PROVISION);
    await networks.put(INTERNAL);
  });

  it('allocates the admin address (admin_oc = provision_oc by default) and publishes it with its prefix, gateway and MTU', async () => {
    const env = inspected();
    expect(await svc.onNodeInspected(env, ctx(env))).toBe('applied');
    const [event, ...more] = configs.store.outbox as Envelope<AdminAddressAllocated>[];
    expect(more).toEqual([]);
    expect(event?.subject).toBe('stackyard.dc1.network.host.dc1-ctl-01.admin-address-allocated');
    expect(event?.causationId).toBe(env.id);
    expect(event?.data).toEqual({ host: CTL, network: 'provision_oc', address: '10.0.0.10', prefixLength: 24, gateway: '10.0.0.1', mtu: 1500, vlan: 0, nameservers: [], nics: NICS });
    expect((await svc.getHostConfig('dc1-ctl-01')).data).toMatchObject({ state: 'reserved', allocations: [{ network: 'provision_oc', address: '10.0.0.10' }] });
    expect(await svc.onNodeInspected(env, ctx(env))).toBe('duplicate');
  });

  it('then NodeProvisioned keeps the same admin address and allocates the others', async () => {
    const first = inspected();
    await svc.onNodeInspected(first, ctx(first));
    const env = provisioned();
    expect(await svc.onNodeProvisioned(env, ctx(env))).toBe('applied');
    expect((await svc.getHostConfig('dc1-ctl-01')).data.allocations).toEqual([
      { network: 'internal', address: '10.1.0.10' },
      { network: 'provision_oc', address: '10.0.0.10' },
    ]);
  });

  it('publishes an empty address when no admin network gives this host one', async () => {
    const cmp: HostRef = { hostId: 'dc1-stor-01', siteId: 'dc1', name: 'stor-01', groups: ['storage'] };
    const env = inspected(cmp);
    expect(await svc.onNodeInspected(env, ctx(env))).toBe('applied');
    expect((configs.store.outbox[0] as Envelope<AdminAddressAllocated>).data).toMatchObject({ network: '', address: '', prefixLength: 0 });
    expect(allocations.claims).toEqual([]);
  });

  it('an exhausted admin pool fails the network step for good, holding no address', async () => {
    await networks.put({ ...PROVISION, allocationPoolStart: '10.0.0.10', allocationPoolEnd: '10.0.0.10' });
    await svc.allocate({ ...PROVISION, allocationPoolStart: '10.0.0.10', allocationPoolEnd: '10.0.0.10' }, 'someone-else');
    const env = inspected();
    expect(await svc.onNodeInspected(env, ctx(env))).toBe('applied');
    const failed = configs.store.outbox.at(-1) as Envelope<NetworkFailed>;
    expect(failed.type).toBe(Events.NetworkFailed.type);
    expect(failed.data.failure).toMatchObject({ step: 'network', reason: 'AddressPoolExhausted', retryable: false });
    expect((await svc.getHostConfig('dc1-ctl-01')).data.state).toBe('failed');
  });
});

describe('NetworkService.onNodeProvisioned', () => {
  beforeEach(async () => {
    await networks.put(PROVISION);
    await networks.put(INTERNAL);
  });

  // The internal network (by its name) gives the interface variables; a host of the network group has no
  // external network on this site, which Kayobe would refuse: published as a problem, not fatal.
  const KOLLA = {
    vars: { network_interface: 'eno2.101', api_interface: 'eno2.101', tunnel_interface: 'eno2.101' },
    problems: ["Required network 'None' (External network) is not mapped to this host"],
  };

  it('Given a controller, then it allocates on every attached network, applies the rendered files and emits NetworkConfigured', async () => {
    const env = provisioned();

    expect(await svc.onNodeProvisioned(env, ctx(env))).toBe('applied');

    // networks list sorted by id: dc1-internal, dc1-provision_oc
    const expectedFiles = [
      { path: '/etc/systemd/network/50-kayobe-eno1.network', content: '[Match]\nName=eno1\n\n[Network]\nAddress=10.0.0.10/24\nGateway=10.0.0.1\n\n[Link]\nMTUBytes=1500\n' },
      { path: '/etc/systemd/network/50-kayobe-eno2.network', content: '[Match]\nName=eno2\n\n[Network]\nVLAN=eno2.101\n\n[Link]\nMTUBytes=9000\n' },
      { path: '/etc/systemd/network/50-kayobe-eno2.101.netdev', content: '[NetDev]\nName=eno2.101\nKind=vlan\nMTUBytes=9000\n\n[VLAN]\nId=101\n' },
      { path: '/etc/systemd/network/50-kayobe-eno2.101.network', content: '[Match]\nName=eno2.101\n\n[Network]\nAddress=10.1.0.10/24\n\n[Link]\nMTUBytes=9000\n' },
    ];
    expect(applier.applied).toEqual([{ hostId: 'dc1-ctl-01', files: expectedFiles, addresses: ['10.1.0.10', '10.0.0.10'] }]);

    const [event, ...more] = configs.store.outbox as Envelope<NetworkConfigured>[];
    expect(more).toEqual([]);
    expect(event?.type).toBe('stackyard.network.v1.NetworkConfigured');
    expect(event?.subject).toBe('stackyard.dc1.network.host.dc1-ctl-01.configured');
    expect(event?.source).toBe('/stackyard/dc1/network');
    expect(event?.causationId).toBe(env.id);
    expect(event?.correlationId).toBe('corr-dc1');
    expect(event?.data).toEqual({
      host: CTL,
      allocations: [
        { siteId: 'dc1', hostId: 'dc1-ctl-01', network: 'internal', address: '10.1.0.10' },
        { siteId: 'dc1', hostId: 'dc1-ctl-01', network: 'provision_oc', address: '10.0.0.10' },
      ],
      files: expectedFiles,
      kolla: KOLLA,
    });

    const cfg = await svc.getHostConfig('dc1-ctl-01');
    expect(cfg.data).toEqual({
      host: CTL,
      state: 'configured',
      allocations: [
        { network: 'internal', address: '10.1.0.10' },
        { network: 'provision_oc', address: '10.0.0.10' },
      ],
      files: expectedFiles,
      kolla: KOLLA,
      // Kept for `physical network configure` (LLDP neighbours of inspection).
      nics: [nic('eno1'), nic('eno2')],
    });
  });

  it('attaches only the networks of the host groups', async () => {
    const cmp: HostRef = { hostId: 'dc1-cmp-01', siteId: 'dc1', name: 'cmp-01', groups: ['compute'] };
    const env = provisioned(cmp);
    await svc.onNodeProvisioned(env, ctx(env));
    const event = configs.store.outbox[0] as Envelope<NetworkConfigured>;
    expect(event.data.allocations.map((a) => a.network)).toEqual(['provision_oc']);
    expect(event.data.files.map((f) => f.path)).toEqual(['/etc/systemd/network/50-kayobe-eno1.network']);
  });

  it('Given a configured host, when NodeProvisioned is delivered again, then it is a duplicate: nothing applied or emitted', async () => {
    const env = provisioned();
    await svc.onNodeProvisioned(env, ctx(env));

    expect(await svc.onNodeProvisioned(env, ctx(env))).toBe('duplicate');

    expect(applier.applied).toHaveLength(1);
    expect(configs.store.outbox).toHaveLength(1);
    expect(allocations.rows).toHaveLength(2);
  });

  it('Given no network attached to the host groups, then it releases the host addresses and emits NetworkFailed NoNetworkForHost', async () => {
    const stor: HostRef = { hostId: 'dc1-stor-01', siteId: 'dc1', name: 'stor-01', groups: ['storage'] };
    // Left over from an earlier attempt, plus another host's address that must stay.
    await allocations.claim({ siteId: 'dc1', network: 'provision_oc', hostId: 'dc1-stor-01', address: parseIp('10.0.0.10')! });
    await allocations.claim({ siteId: 'dc1', network: 'provision_oc', hostId: 'dc1-other', address: parseIp('10.0.0.11')! });
    const env = provisioned(stor);

    expect(await svc.onNodeProvisioned(env, ctx(env))).toBe('applied');

    expect(await allocations.listHost('dc1-stor-01')).toEqual([]);
    expect(await allocations.listHost('dc1-other')).toHaveLength(1);
    expect(applier.applied).toEqual([]);
    const [event] = configs.store.outbox as Envelope<NetworkFailed>[];
    expect(event?.type).toBe('stackyard.network.v1.NetworkFailed');
    expect(event?.subject).toBe('stackyard.dc1.network.host.dc1-stor-01.network-failed');
    expect(event?.causationId).toBe(env.id);
    expect(event?.correlationId).toBe('corr-dc1');
    expect(event?.data.host).toEqual(stor);
    expect(event?.data.failure).toMatchObject({ step: 'network', reason: 'NoNetworkForHost', retryable: false });
    expect(event?.data.failure?.message).toContain('storage');
    expect((await configs.get('dc1-stor-01'))?.data).toMatchObject({ state: 'failed', allocations: [], files: [] });
  });

  it('Given the applier fails for good, then the addresses it allocated are released and NetworkFailed carries its reason', async () => {
    applier.failures.push(new StepFailedError('AddressVerificationFailed', 'ctl-01 did not come up', false));
    const env = provisioned();

    expect(await svc.onNodeProvisioned(env, ctx(env))).toBe('applied');

    expect(allocations.rows).toEqual([]);
    const event = configs.store.outbox[0] as Envelope<NetworkFailed>;
    expect(event.data.failure).toEqual({ step: 'network', reason: 'AddressVerificationFailed', message: 'ctl-01 did not come up', retryable: false });
    // The released addresses go to the next host.
    expect(await svc.allocate(PROVISION, 'dc1-ctl-02')).toBe('10.0.0.10');
  });

  it('Given a retryable applier error with deliveries left, then it throws and keeps the addresses for the retry', async () => {
    const flaky = new StepFailedError('SshUnavailable', 'connection refused', true);
    applier.failures.push(flaky);
    const env = provisioned();

    await expect(svc.onNodeProvisioned(env, ctx(env))).rejects.toBe(flaky);
    expect(configs.store.outbox).toEqual([]);
    expect(allocations.rows).toHaveLength(2);

    expect(await svc.onNodeProvisioned(env, ctx(env))).toBe('applied');
    expect(allocations.rows).toHaveLength(2);
    expect((configs.store.outbox[0] as Envelope<NetworkConfigured>).data.allocations.map((a) => a.address)).toEqual(['10.1.0.10', '10.0.0.10']);
  });

  it('Given a retryable error on the last delivery, then it records NetworkFailed and releases the addresses', async () => {
    applier.failures.push(new Error('ssh: broken pipe'));
    const env = provisioned();

    expect(await svc.onNodeProvisioned(env, ctx(env, true))).toBe('applied');

    expect(allocations.rows).toEqual([]);
    const event = configs.store.outbox[0] as Envelope<NetworkFailed>;
    expect(event.data.failure).toEqual({ step: 'network', reason: 'NetworkApplyError', message: 'ssh: broken pipe', retryable: true });
  });

  it('Given a host without the NIC a network refers to, then NetworkFailed has reason InvalidNetworkConfig', async () => {
    const env = provisioned(CTL, [nic('eno1')]);
    expect(await svc.onNodeProvisioned(env, ctx(env))).toBe('applied');
    const event = configs.store.outbox[0] as Envelope<NetworkFailed>;
    expect(event.data.failure).toMatchObject({ reason: 'InvalidNetworkConfig', retryable: false });
    expect(event.data.failure?.message).toMatch(/^network\.interface: \{nic1\}/);
    expect(allocations.rows).toEqual([]);
  });

  it('Given an exhausted pool, then NetworkFailed has reason AddressPoolExhausted and the host holds nothing', async () => {
    await networks.put({ ...INTERNAL, allocationPoolStart: '10.1.0.10', allocationPoolEnd: '10.1.0.10' });
    await allocations.claim({ siteId: 'dc1', network: 'internal', hostId: 'dc1-ctl-09', address: parseIp('10.1.0.10')! });
    const env = provisioned();

    expect(await svc.onNodeProvisioned(env, ctx(env))).toBe('applied');

    expect((configs.store.outbox[0] as Envelope<NetworkFailed>).data.failure).toMatchObject({ reason: 'AddressPoolExhausted', retryable: false });
    expect(await allocations.listHost('dc1-ctl-01')).toEqual([]);
  });

  it('rejects NodeProvisioned without a host, naming host', async () => {
    const env = newEvent({ type: Events.NodeProvisioned, site: 'dc1', entityId: 'dc1-x', service: 'provisioning', data: { host: undefined, image: 'img', nics: NICS } });
    const e = await svc.onNodeProvisioned(env, ctx(env)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('host');
    expect(configs.store.writes).toBe(0);
  });
});

describe('NetworkService definitions and queries', () => {
  it('validates before storing a definition, and versions each put', async () => {
    const e = await svc.defineNetwork({ ...PROVISION, vlan: 5000 }).catch((x: unknown) => x);
    expect((e as ValidationError).field).toBe('network.vlan');
    expect(await networks.list('dc1')).toEqual([]);
    expect((await svc.defineNetwork(PROVISION)).version).toBe(1);
    expect((await svc.defineNetwork({ ...PROVISION, mtu: 9000 })).version).toBe(2);
    expect((await svc.getNetwork('dc1', 'provision_oc')).data.mtu).toBe(9000);
  });

  it('names the missing field or reports NotFound', async () => {
    await expect(svc.getNetwork('dc1', 'nope')).rejects.toBeInstanceOf(NotFoundError);
    expect(() => svc.listNetworks('')).toThrow(ValidationError);
    expect(() => svc.listNetworks('')).toThrow(/^site_id: /);
    await expect(svc.getHostConfig('')).rejects.toThrow(/^host_id: /);
    await expect(svc.getHostConfig('dc1-nope')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('NetworkService Kayobe validation of definitions', () => {
  it('rejects a Kayobe attribute error naming the request field, and stores nothing', async () => {
    const e = await svc.defineNetwork({ ...INTERNAL, kayobe: { vip_address: '10.1.0.50' } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('network.kayobe.vip_address');
    expect((e as ValidationError).message).toMatch(/\(Kayobe: internal_vip_address\)$/);
    expect(await networks.list('dc1')).toEqual([]);
  });

  it.each([
    [{ inspection_allocation_pool_start: '10.1.0.100', inspection_allocation_pool_end: '10.1.0.120' }, 'network.kayobe.inspection_allocation_pool_start'],
    [{ roles: ['internal', 'mgmt'] }, 'network.kayobe.roles[1]'],
    [{ bridge_ports: ['eth1'], bond_slaves: ['eth2'] }, 'network.kayobe.bond'],
    [{ routes: [{ cidr: '10.9.0.0/16', table: 'nope' }] }, 'network.kayobe.routes[0].table'],
    [{ rules: [{ table: '100' }] }, 'network.kayobe.rules[0]'],
    [{ egress_qos_map: [{ from: 1, to: 8 }] }, 'network.kayobe.egress_qos_map[0].to'],
    [{ macaddress: 'nope' }, 'network.kayobe.macaddress'],
    [{ bootproto: 'bootp' }, 'network.kayobe.bootproto'],
    [{ ethtool_config: { feature: { 'unsupported-feature': true } } }, 'network.kayobe.ethtool_config.feature'],
  ])('rejects %j naming %s', async (kayobe, field) => {
    const e = await svc.defineNetwork({ ...INTERNAL, kayobe }).catch((x: unknown) => x);
    expect((e as ValidationError).field).toBe(field);
  });

  it('returns warnings with the stored definition', async () => {
    const r = await svc.defineNetwork({ ...INTERNAL, kayobe: { routes: [{ cidr: '10.9.0.0/16', gateway: '10.1.0.1', metric: 400 }] } });
    expect(r.version).toBe(1);
    expect(r.warnings.map((w) => [w.field, w.kayobeVariable])).toEqual([['network.kayobe.routes[0]', 'internal_routes']]);
  });

  it('rejects, against the other networks of the site, a shared device, shared pool addresses, a duplicate role and disagreeing route tables', async () => {
    await svc.defineNetwork({ ...INTERNAL, kayobe: { roles: ['internal'], route_tables: [{ id: 100, name: 'a' }] } });
    const field = async (n: NetworkData) => ((await svc.defineNetwork(n).catch((x: unknown) => x)) as ValidationError).field;
    expect(await field({ ...INTERNAL, name: 'storage', cidr: '10.2.0.0/24', allocationPoolStart: '', allocationPoolEnd: '' })).toBe('network.interface');
    expect(await field({ ...INTERNAL, name: 'copy', vlan: 102 })).toBe('network.allocation_pool_start');
    expect(await field({ ...INTERNAL, name: 'api', cidr: '10.5.0.0/24', allocationPoolStart: '', allocationPoolEnd: '', vlan: 105, kayobe: { roles: ['internal'] } })).toBe('network.kayobe.roles');
    expect(await field({ ...INTERNAL, name: 'rt', cidr: '10.6.0.0/24', allocationPoolStart: '', allocationPoolEnd: '', vlan: 106, kayobe: { route_tables: [{ id: 101, name: 'a' }] } })).toBe('network.kayobe.route_tables');
    // Redefining a network is not a conflict with itself; overlapping cidrs with apart pools only warn.
    expect((await svc.defineNetwork({ ...INTERNAL, mtu: 1500 })).version).toBe(2);
    const w = await svc.defineNetwork({ ...INTERNAL, name: 'half', vlan: 103, cidr: '10.1.0.0/23', allocationPoolStart: '10.1.1.10', allocationPoolEnd: '10.1.1.20' });
    expect(w.warnings.map((x) => x.field)).toEqual(['network.cidr']);
  });

  it('ValidateSite reports every problem, including allocations held twice across networks', async () => {
    // Stored before the checks existed: the same device as provision_oc and the same subnet.
    await networks.put(PROVISION);
    await networks.put({ ...INTERNAL, cidr: '10.0.0.0/24', gateway: '', vlan: 0, interface: '{nic0}', allocationPoolStart: '10.0.0.201', allocationPoolEnd: '10.0.0.250' });
    await allocations.claim({ siteId: 'dc1', network: 'provision_oc', hostId: 'dc1-a', hostName: 'a', address: parseIp('10.0.0.10')! });
    await allocations.claim({ siteId: 'dc1', network: 'internal', hostId: 'dc1-b', hostName: 'b', address: parseIp('10.0.0.10')! });
    const issues = await svc.validateSite('dc1');
    expect(issues.filter((i) => i.severity === 'error').map((i) => [i.network, i.field])).toEqual([
      ['internal', 'network.interface'],
      ['provision_oc', 'network.interface'],
      ['provision_oc', 'allocations'],
    ]);
    expect(issues.some((i) => i.field === 'allocations' && i.message === 'a has 10.0.0.10, also given to b on internal')).toBe(true);
    expect(issues.some((i) => i.field === 'network.cidr' && i.severity === 'warning')).toBe(true);
  });
});

describe('NetworkService allocation file import and export', () => {
  beforeEach(async () => {
    await networks.put(PROVISION);
    await networks.put(INTERNAL);
  });

  it('Given two configured hosts, then the export is their network-allocation.yml', async () => {
    await svc.allocate(PROVISION, 'dc1-cmp-01', 'cmp-01');
    await svc.allocate(PROVISION, 'dc1-cmp-02', 'cmp-02');
    await svc.allocate(INTERNAL, 'dc1-cmp-01', 'cmp-01');
    expect(await svc.exportAllocations('dc1')).toBe('internal_ips:\n  cmp-01: 10.1.0.10\nprovision_oc_ips:\n  cmp-01: 10.0.0.10\n  cmp-02: 10.0.0.11\n');
  });

  it('pre-seeds addresses that the saga then keeps, and the pool skips', async () => {
    const r = await svc.importAllocations('dc1', 'provision_oc_ips:\n  ctl-01: 10.0.0.5\n  cmp-01: 10.0.0.10\n');
    expect(r.imported.map((a) => [a.hostId, a.hostName, formatIp(a.address)])).toEqual([
      ['dc1-ctl-01', 'ctl-01', '10.0.0.5'],
      ['dc1-cmp-01', 'cmp-01', '10.0.0.10'],
    ]);
    expect(await svc.allocate(PROVISION, 'dc1-ctl-01', 'ctl-01')).toBe('10.0.0.5');
    expect(await svc.allocate(PROVISION, 'dc1-cmp-02', 'cmp-02')).toBe('10.0.0.11');
    // Importing the same file again changes nothing.
    const again = await svc.importAllocations('dc1', 'provision_oc_ips:\n  ctl-01: 10.0.0.5\n  cmp-01: 10.0.0.10\n');
    expect([again.imported.length, again.unchanged.length]).toEqual([0, 2]);
  });

  it('Given one conflicting entry, then nothing of the file is imported', async () => {
    await svc.allocate(PROVISION, 'dc1-cmp-01', 'cmp-01');
    const before = structuredClone(allocations.rows);
    const e = await svc.importAllocations('dc1', 'internal_ips: {ctl-01: 10.1.0.50}\nprovision_oc_ips: {ctl-01: 10.0.0.10}\n').catch((x: unknown) => x);
    expect((e as Error).message).toBe('allocation "provision_oc_ips: 10.0.0.10 for ctl-01 is held by cmp-01" already exists');
    expect(allocations.rows).toEqual(before);
  });

  it('Given a claim lost to a race after validation, then the entries already written are removed again', async () => {
    const real = allocations.claim.bind(allocations);
    let n = 0;
    allocations.claim = async (a) => (++n === 2 ? 'address-taken' : real(a));
    const e = await svc.importAllocations('dc1', 'provision_oc_ips: {ctl-01: 10.0.0.5, ctl-02: 10.0.0.6}\n').catch((x: unknown) => x);
    expect((e as ValidationError).field).toBe('yaml.provision_oc_ips.ctl-02');
    expect((e as Error).message).toMatch(/nothing was imported$/);
    expect(allocations.rows).toEqual([]);
  });
});

describe('NetworkService with another network engine (NETWORK_ENGINE)', () => {
  it.each<['nmstate' | 'nm-keyfile', RegExp]>([
    ['nmstate', /^\/etc\/nmstate\/.*\.yml$/],
    ['nm-keyfile', /^\/etc\/NetworkManager\/system-connections\/.*\.nmconnection$/],
  ])('renders the host with %s and applies those files', async (engine, path) => {
    svc = new NetworkService(networks, allocations, configs, applier, { filePrefix: '50-kayobe-', engine });
    await networks.put(PROVISION);
    await networks.put(INTERNAL);
    const env = provisioned();
    expect(await svc.onNodeProvisioned(env, ctx(env))).toBe('applied');
    const files = applier.applied[0]!.files;
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(f.path).toMatch(path);
    expect(files.map((f) => f.content).join('\n')).toContain('10.0.0.10');
  });
});
