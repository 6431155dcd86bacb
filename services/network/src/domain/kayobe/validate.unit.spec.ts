import { describe, expect, it } from 'vitest';
import { KayobeConfigError } from './errors';
import { assertNoErrors, validateAllocations, validateKayobeNetwork } from './validate';

// stackhpc/a-universe-from-nothing networks.yml, aio network.
const AIO = {
  cidr: '192.168.33.0/24',
  allocation_pool_start: '192.168.33.3',
  allocation_pool_end: '192.168.33.30',
  neutron_allocation_pool_start: '192.168.33.31',
  neutron_allocation_pool_end: '192.168.33.127',
  inspection_allocation_pool_start: '192.168.33.128',
  inspection_allocation_pool_end: '192.168.33.254',
  mtu: 1442,
  gateway: '192.168.33.4',
  ips: { compute0: '192.168.33.6', controller0: '192.168.33.3', seed: '192.168.33.5', 'seed-hypervisor': '192.168.33.4' },
};

describe('validateKayobeNetwork', () => {
  it('accepts the aio network of a-universe-from-nothing except its gateway, which is the seed-hypervisor\'s address inside the host pool', () => {
    expect(validateKayobeNetwork('aio', AIO)).toEqual([
      { severity: 'error', field: 'aio_gateway', message: 'the gateway 192.168.33.4 is inside the host allocation pool 192.168.33.3-192.168.33.30; Kayobe could allocate it to a host' },
      { severity: 'error', field: 'aio_ips', message: 'seed-hypervisor has the gateway address 192.168.33.4' },
    ]);
    expect(validateKayobeNetwork('aio', { ...AIO, gateway: null })).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['a pool outside the cidr', { allocation_pool_end: '192.168.34.10' }, 'aio_allocation_pool_end', '192.168.34.10 is not a host address of 192.168.33.0/24'],
    ['a pool on the network address', { allocation_pool_start: '192.168.33.0' }, 'aio_allocation_pool_start', '192.168.33.0 is not a host address of 192.168.33.0/24'],
    ['a pool end below its start', { allocation_pool_end: '192.168.33.2' }, 'aio_allocation_pool_end', '192.168.33.2 is below allocation_pool_start 192.168.33.3'],
    [
      'overlapping host and Neutron pools',
      { neutron_allocation_pool_start: '192.168.33.20' },
      'aio_neutron_allocation_pool_start',
      'the Neutron allocation pool 192.168.33.20-192.168.33.127 overlaps the host allocation pool 192.168.33.3-192.168.33.30',
    ],
    ['a VIP inside the host pool', { gateway: null, vip_address: '192.168.33.10' }, 'aio_vip_address', 'the VIP 192.168.33.10 is inside the host allocation pool 192.168.33.3-192.168.33.30; Kayobe could allocate it to a host'],
    ['a gateway outside the cidr', { gateway: '10.0.0.1' }, 'aio_gateway', '10.0.0.1 is not inside 192.168.33.0/24'],
    ['two hosts with one address', { gateway: null, ips: { a: '192.168.33.3', b: '192.168.33.3' } }, 'aio_ips', 'a and b both have 192.168.33.3'],
    ['an address outside the cidr', { gateway: null, ips: { a: '10.0.1.5' } }, 'aio_ips', 'a: 10.0.1.5 is outside 192.168.33.0/24; Kayobe fails every later allocation on this network'],
  ])('rejects %s, naming the field', (_what, patch, field, message) => {
    const issues = validateKayobeNetwork('aio', { ...AIO, ips: {}, ...patch });
    expect(issues).toContainEqual({ severity: 'error', field, message });
    let err: unknown;
    try {
      assertNoErrors(issues);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KayobeConfigError);
  });

  it('Given no pool, then a gateway inside the subnet could be allocated to a host', () => {
    expect(validateKayobeNetwork('n', { cidr: '10.0.0.0/24', gateway: '10.0.0.1' })).toEqual([
      { severity: 'error', field: 'n_gateway', message: 'the gateway 10.0.0.1 is inside the subnet 10.0.0.0/24, which is the host allocation pool when none is set; Kayobe could allocate it to a host' },
    ]);
  });

  it('warns (without failing) on one pool end only, host bits in the cidr and a vlan on an untagged interface', () => {
    const issues = validateKayobeNetwork('n', { cidr: '10.0.0.5/24', allocation_pool_start: '10.0.0.10', interface: 'eth0', vlan: 42 });
    expect(issues).toEqual([
      { severity: 'warning', field: 'n_cidr', message: '10.0.0.5/24 has host bits set; Kayobe uses 10.0.0.0/24' },
      { severity: 'warning', field: 'n_allocation_pool_end', message: 'only one end of the host allocation pool is set; Kayobe then ignores the pool and allocates from the whole subnet' },
      { severity: 'warning', field: 'n_vlan', message: 'vlan 42 is set but the interface "eth0" is untagged and has no parent, so no VLAN device is created (systemd-networkd then gets VLAN=eth0 on itself)' },
    ]);
    expect(assertNoErrors(issues)).toHaveLength(3);
  });
});

describe('validateAllocations', () => {
  it('flags one address given to two hosts on different networks', () => {
    expect(validateAllocations({ a: { ips: { h1: '10.0.0.5' } }, b: { ips: { h2: '10.0.0.5', h1: '10.0.0.6' } } })).toEqual([
      { severity: 'error', field: 'b_ips', message: 'h2 has 10.0.0.5, also given to h1 on a' },
    ]);
  });
});
