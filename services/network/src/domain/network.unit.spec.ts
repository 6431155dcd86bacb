import { describe, expect, it } from 'vitest';
import { ValidationError } from '@stackyard/errors';
import { formatIp, parseIp } from './ipv4';
import { lowestFree, networkId, validateNetwork, type NetworkData } from './network';

const base: NetworkData = {
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

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

const ip = (s: string) => parseIp(s)!;

describe('validateNetwork', () => {
  it('Given a valid network with a pool, then it returns the parsed cidr and the pool', () => {
    const r = validateNetwork(base);
    expect(r.cidr).toEqual({ network: ip('10.0.0.0'), prefix: 24, broadcast: ip('10.0.0.255') });
    expect(r.pool).toEqual({ first: ip('10.0.0.10'), last: ip('10.0.0.200') });
  });

  it('Given no pool and no gateway, then the pool is the whole subnet minus network and broadcast', () => {
    const r = validateNetwork({ ...base, gateway: '', allocationPoolStart: '', allocationPoolEnd: '' });
    expect(r.pool).toEqual({ first: ip('10.0.0.1'), last: ip('10.0.0.254') });
  });

  it.each<[string, Partial<NetworkData>]>([
    ['a one-address pool', { allocationPoolStart: '10.0.0.10', allocationPoolEnd: '10.0.0.10' }],
    ['a gateway above the pool', { gateway: '10.0.0.254' }],
    ['VLAN 1', { vlan: 1 }],
    ['VLAN 4094', { vlan: 4094 }],
    ['MTU 576', { mtu: 576 }],
    ['MTU 9216', { mtu: 9216 }],
    ['MTU 0 (unset)', { mtu: 0 }],
    ['a 15-character interface', { interface: 'enp129s0f1np1ab' }],
    ['a VLAN interface name', { interface: 'bond0.101' }],
    ['{nic9}', { interface: '{nic9}' }],
    ['no interface', { interface: '' }],
    ['custom groups', { groups: ['my_group', 'compute-gpu'] }],
  ])('accepts %s', (_what, patch) => {
    expect(() => validateNetwork({ ...base, ...patch })).not.toThrow();
  });

  it.each<[string, Partial<NetworkData>, string, RegExp?]>([
    ['an uppercase site id', { siteId: 'DC1' }, 'network.site_id'],
    ['a name with a space', { name: 'provision oc' }, 'network.name'],
    ['an empty name', { name: '' }, 'network.name'],
    ['a cidr with host bits set', { cidr: '10.0.0.1/24' }, 'network.cidr', /CIDR notation/],
    ['a cidr with prefix 33', { cidr: '10.0.0.0/33' }, 'network.cidr'],
    ['a cidr without prefix', { cidr: '10.0.0.0' }, 'network.cidr'],
    ['a pool start that is not an address', { allocationPoolStart: '10.0.0.x' }, 'network.allocation_pool_start'],
    ['a pool end that is not an address', { allocationPoolEnd: 'ten' }, 'network.allocation_pool_end'],
    ['a pool end without a start', { allocationPoolStart: '' }, 'network.allocation_pool_start'],
    ['a pool start without an end', { allocationPoolEnd: '' }, 'network.allocation_pool_end'],
    ['a pool start outside the cidr', { allocationPoolStart: '10.0.1.10' }, 'network.allocation_pool_start', /not a host address of 10\.0\.0\.0\/24/],
    ['a pool start below the cidr', { allocationPoolStart: '9.255.255.250' }, 'network.allocation_pool_start'],
    ['a pool start on the network address', { allocationPoolStart: '10.0.0.0' }, 'network.allocation_pool_start'],
    ['a pool end outside the cidr', { allocationPoolEnd: '10.0.1.5' }, 'network.allocation_pool_end', /not a host address/],
    ['a pool end on the broadcast address', { allocationPoolEnd: '10.0.0.255' }, 'network.allocation_pool_end'],
    ['a pool end below its start', { allocationPoolStart: '10.0.0.100', allocationPoolEnd: '10.0.0.50' }, 'network.allocation_pool_end', /below allocation_pool_start/],
    ['a gateway inside the pool', { gateway: '10.0.0.50' }, 'network.gateway', /inside the host allocation pool/],
    ['a gateway on the first pool address', { gateway: '10.0.0.10' }, 'network.gateway', /inside the host allocation pool/],
    ['a gateway on the last pool address', { gateway: '10.0.0.200' }, 'network.gateway', /inside the host allocation pool/],
    ['a gateway outside the cidr', { gateway: '10.0.1.1' }, 'network.gateway', /not an address in 10\.0\.0\.0\/24/],
    ['a gateway that is not an address', { gateway: 'router' }, 'network.gateway'],
    ['VLAN 4095', { vlan: 4095 }, 'network.vlan', /1-4094/],
    ['a negative VLAN', { vlan: -1 }, 'network.vlan'],
    ['MTU 575', { mtu: 575 }, 'network.mtu', /576-9216/],
    ['MTU 9217', { mtu: 9217 }, 'network.mtu'],
    ['a bad first group', { groups: ['Controllers'] }, 'network.groups[0]'],
    ['a bad second group', { groups: ['compute', 'bad group'] }, 'network.groups[1]'],
    ['a 16-character interface', { interface: 'enp129s0f1np1abc' }, 'network.interface', /at most 15 characters/],
    ['an interface with a space', { interface: 'eth 0' }, 'network.interface'],
    ['a two-digit {nicNN}', { interface: '{nic10}' }, 'network.interface'],
  ])('rejects %s, naming the field', (_what, patch, field, message) => {
    const e = validationError(() => validateNetwork({ ...base, ...patch }));
    expect(e.field).toBe(field);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
    if (message) expect(e.message).toMatch(message);
  });
});

describe('lowestFree', () => {
  const pool = { first: ip('10.0.0.10'), last: ip('10.0.0.14') };

  it('Given nothing taken, then it is the first pool address', () => {
    expect(formatIp(lowestFree(pool, new Set())!)).toBe('10.0.0.10');
  });

  it('Given some addresses taken, then it is the lowest one not taken', () => {
    expect(formatIp(lowestFree(pool, new Set([ip('10.0.0.10'), ip('10.0.0.11'), ip('10.0.0.13')]))!)).toBe('10.0.0.12');
  });

  it('skips addresses in the skip set as well', () => {
    expect(formatIp(lowestFree(pool, new Set([ip('10.0.0.10')]), new Set([ip('10.0.0.11')]))!)).toBe('10.0.0.12');
  });

  it('ignores taken addresses outside the pool', () => {
    expect(formatIp(lowestFree(pool, new Set([ip('10.0.0.9'), ip('10.0.0.200')]))!)).toBe('10.0.0.10');
  });

  it('Given every address taken, then there is none', () => {
    const all = new Set([10, 11, 12, 13, 14].map((n) => ip(`10.0.0.${n}`)));
    expect(lowestFree(pool, all)).toBeUndefined();
  });

  it('Given a /30 without a pool, then it only ever hands out .1 and .2, never the network or broadcast address', () => {
    const { pool: p } = validateNetwork({ ...base, cidr: '10.0.0.0/30', gateway: '', allocationPoolStart: '', allocationPoolEnd: '' });
    if (!p) throw new Error('no pool');
    const taken = new Set<number>();
    const got: string[] = [];
    for (let a = lowestFree(p, taken); a !== undefined; a = lowestFree(p, taken)) {
      taken.add(a);
      got.push(formatIp(a));
    }
    expect(got).toEqual(['10.0.0.1', '10.0.0.2']);
  });
});

describe('networkId', () => {
  it('is <site>-<name>', () => {
    expect(networkId('dc1', 'provision_oc')).toBe('dc1-provision_oc');
  });
});
