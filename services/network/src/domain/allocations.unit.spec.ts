import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, ValidationError } from '@stackyard/errors';
import { parseIp } from './ipv4';
import { exportAllocations, hostNameOf, planImport, type SiteAllocation } from './allocations';
import type { NetworkData } from './network';

const net = (name: string, patch: Partial<NetworkData> = {}): NetworkData => ({
  siteId: 'dc1',
  name,
  cidr: '10.1.0.0/24',
  gateway: '10.1.0.1',
  allocationPoolStart: '10.1.0.10',
  allocationPoolEnd: '10.1.0.200',
  vlan: 0,
  mtu: 0,
  groups: ['compute'],
  interface: '',
  ...patch,
});
const NETS = [net('internal', { kayobe: { vip_address: '10.1.0.2', neutron_allocation_pool_start: '10.1.0.220', neutron_allocation_pool_end: '10.1.0.230' } }), net('provision_oc', { cidr: '10.0.0.0/24', gateway: '10.0.0.1', allocationPoolStart: '10.0.0.10', allocationPoolEnd: '10.0.0.200' })];
const held = (network: string, hostName: string, ip: string): SiteAllocation => ({ network, hostName, hostId: `dc1-${hostName}`, address: parseIp(ip)! });

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('exportAllocations', () => {
  it("writes Kayobe's network-allocation.yml: <net>_ips maps, networks and hosts sorted, block style", () => {
    const yaml = exportAllocations([held('provision_oc', 'cmp-02', '10.0.0.11'), held('internal', 'cmp-01', '10.1.0.10'), held('provision_oc', 'cmp-01', '10.0.0.10')]);
    expect(yaml).toBe('internal_ips:\n  cmp-01: 10.1.0.10\nprovision_oc_ips:\n  cmp-01: 10.0.0.10\n  cmp-02: 10.0.0.11\n');
    expect(exportAllocations([])).toBe('{}\n');
  });

  it('names a host by its stored name, else by its id without the site prefix', () => {
    expect(hostNameOf('dc1', { hostId: 'dc1-cmp-01' })).toBe('cmp-01');
    expect(hostNameOf('dc1', { hostId: 'dc1-cmp-01', hostName: 'x' })).toBe('x');
  });
});

describe('planImport', () => {
  it('Given a file with new, held and outside-the-pool static entries, then it plans the new ones and counts the held ones', () => {
    const plan = planImport('dc1', 'internal_ips:\n  ctl-01: 10.1.0.3\n  cmp-01: 10.1.0.10\nprovision_oc_ips: {ctl-01: 10.0.0.50}\n', NETS, [held('internal', 'cmp-01', '10.1.0.10')]);
    expect(plan.insert).toEqual([
      { network: 'internal', hostName: 'ctl-01', hostId: 'dc1-ctl-01', address: parseIp('10.1.0.3') },
      { network: 'provision_oc', hostName: 'ctl-01', hostId: 'dc1-ctl-01', address: parseIp('10.0.0.50') },
    ]);
    expect(plan.unchanged).toEqual([{ network: 'internal', hostName: 'cmp-01', hostId: 'dc1-cmp-01', address: parseIp('10.1.0.10') }]);
  });

  it('rejects conflicts with current allocations, listing every one, as AlreadyExists', () => {
    const e = thrown(() => planImport('dc1', 'internal_ips:\n  ctl-01: 10.1.0.10\n  cmp-01: 10.1.0.11\n', NETS, [held('internal', 'cmp-01', '10.1.0.10')]));
    expect(e).toBeInstanceOf(AlreadyExistsError);
    expect(e.message).toBe('allocation "internal_ips: 10.1.0.10 for ctl-01 is held by cmp-01; internal_ips: cmp-01 already holds 10.1.0.10, not 10.1.0.11" already exists');
  });

  it.each([
    ['nope', 'internal_ips: [1]\n', 'yaml'],
    ['unknown network', 'storage_ips: {a: 10.1.0.5}\n', 'yaml.storage_ips'],
    ['not <net>_ips', 'internal: {a: 10.1.0.5}\n', 'yaml.internal'],
    ['outside the cidr', 'internal_ips: {a: 10.9.0.5}\n', 'yaml.internal_ips.a'],
    ['the broadcast address', 'internal_ips: {a: 10.1.0.255}\n', 'yaml.internal_ips.a'],
    ['inside the Neutron pool', 'internal_ips: {a: 10.1.0.225}\n', 'yaml.internal_ips.a'],
    ['the gateway', 'internal_ips: {a: 10.1.0.1}\n', 'yaml.internal_ips'],
    ['the VIP', 'internal_ips: {a: 10.1.0.2}\n', 'yaml.internal_ips'],
    ['one address twice', 'internal_ips: {a: 10.1.0.5, b: 10.1.0.5}\n', 'yaml.internal_ips'],
    ['a host name that is no token', 'internal_ips: {"A.B": 10.1.0.5}\n', 'yaml.internal_ips.A.B'],
  ])('rejects %s, naming the field', (_what, text, field) => {
    const e = thrown(() => planImport('dc1', text, NETS, []));
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe(field);
  });

  it('rejects entries for a network that allocates no address', () => {
    const e = thrown(() => planImport('dc1', 'ext_ips: {a: 10.1.0.5}\n', [net('ext', { kayobe: { no_ip: true } })], []));
    expect(e.message).toBe('yaml.ext_ips: network ext allocates no addresses (no cidr, no_ip or DHCP)');
  });
});
