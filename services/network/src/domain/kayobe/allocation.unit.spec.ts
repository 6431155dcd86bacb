/** Facts from reference/kayobe.md §3.9, and the network-allocation.yml files of the reference configs. */
import { describe, expect, it } from 'vitest';
import { exportAllocationFile, ipAllocation, parseAllocationFile, type AllocationFile } from './allocation';
import { KayobeConfigError } from './errors';

function kayobeError(fn: () => unknown): KayobeConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KayobeConfigError);
    return e as KayobeConfigError;
  }
  throw new Error('expected a KayobeConfigError');
}

const POOL = { net: 'net', cidr: '10.0.0.0/24', allocationPoolStart: '10.0.0.3', allocationPoolEnd: '10.0.0.5' };

describe('ipAllocation (§3.9)', () => {
  it('cidr 192.168.34.0/24, no pool, empty file -> the first host gets 192.168.34.1 (CI test_network_ethernet)', () => {
    const r = ipAllocation({}, { net: 'test_net_eth', hostname: 'h', cidr: '192.168.34.0/24' });
    expect(r).toEqual({ changed: true, ip: '192.168.34.1', allocations: { test_net_eth_ips: { h: '192.168.34.1' } } });
  });

  it('pool .3-.5 with {a: .3} -> b gets .4; with {a: .4} -> b gets .3 (gaps are reused)', () => {
    expect(ipAllocation({ net_ips: { a: '10.0.0.3' } }, { ...POOL, hostname: 'b' }).ip).toBe('10.0.0.4');
    expect(ipAllocation({ net_ips: { a: '10.0.0.4' } }, { ...POOL, hostname: 'b' }).ip).toBe('10.0.0.3');
  });

  it('pool .3-.4 with {a: .3, b: .4} -> c fails "No unallocated IP addresses for c in net"', () => {
    const e = kayobeError(() => ipAllocation({ net_ips: { a: '10.0.0.3', b: '10.0.0.4' } }, { ...POOL, allocationPoolEnd: '10.0.0.4', hostname: 'c' }));
    expect(e.kayobeMessage).toBe('No unallocated IP addresses for c in net');
    expect(e.field).toBe('net_ips');
  });

  it('only one of start/end set -> the whole subnet is used', () => {
    expect(ipAllocation({}, { ...POOL, allocationPoolEnd: null, hostname: 'a' }).ip).toBe('10.0.0.1');
    expect(ipAllocation({}, { ...POOL, allocationPoolStart: '', hostname: 'a' }).ip).toBe('10.0.0.1');
  });

  it('existing {a: 10.0.1.5} with cidr 10.0.0.0/24 -> any call fails "Found invalid existing allocations..."', () => {
    const e = kayobeError(() => ipAllocation({ net_ips: { a: '10.0.1.5' } }, { ...POOL, hostname: 'b' }));
    expect(e.kayobeMessage).toBe('Found invalid existing allocations in network 10.0.0.0/24: a: 10.0.1.5');
    expect(() => ipAllocation({ net_ips: { a: '10.0.1.5' } }, { ...POOL, hostname: 'a' })).toThrow(KayobeConfigError);
  });

  it('/32 cidr, no pool -> the single address is allocatable', () => {
    expect(ipAllocation({}, { net: 'lo', hostname: 'h', cidr: '10.9.9.9/32' }).ip).toBe('10.9.9.9');
  });

  it('never hands out the network or broadcast address without a pool (restrict-ip-allocation)', () => {
    let file: AllocationFile = {};
    const got: string[] = [];
    for (const h of ['a', 'b']) {
      const r = ipAllocation(file, { net: 'n', hostname: h, cidr: '10.0.0.0/30' });
      file = r.allocations;
      got.push(r.ip);
    }
    expect(got).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(kayobeError(() => ipAllocation(file, { net: 'n', hostname: 'c', cidr: '10.0.0.0/30' })).kayobeMessage).toBe('No unallocated IP addresses for c in n');
  });

  it('keeps an existing allocation (changed false), even outside the pool, and does not touch the file', () => {
    const file = { net_ips: { a: '10.0.0.200' } };
    expect(ipAllocation(file, { ...POOL, hostname: 'a' })).toEqual({ changed: false, ip: '10.0.0.200', allocations: file });
  });

  it('a pool start above its end fails like netaddr', () => {
    expect(kayobeError(() => ipAllocation({}, { ...POOL, allocationPoolStart: '10.0.0.9', hostname: 'a' })).kayobeMessage).toBe(
      'Failed to allocate IP address: lower bound IP greater than upper bound!',
    );
  });

  it('pre-seeded a-universe-from-nothing: the next host on aio (pool .3-.30) gets 192.168.33.7', () => {
    const file = parseAllocationFile(UNIVERSE);
    expect(ipAllocation(file, { net: 'aio', hostname: 'compute1', cidr: '192.168.33.0/24', allocationPoolStart: '192.168.33.3', allocationPoolEnd: '192.168.33.30' }).ip).toBe('192.168.33.7');
  });

  it('pre-seeded kayobe-config-dev: .3-.7 are taken, the next host gets 192.168.33.8; a listed host keeps its address', () => {
    const file = parseAllocationFile(CONFIG_DEV);
    const req = { net: 'aio', cidr: '192.168.33.0/24', allocationPoolStart: '192.168.33.3', allocationPoolEnd: '192.168.33.30' };
    expect(ipAllocation(file, { ...req, hostname: 'compute0' }).ip).toBe('192.168.33.8');
    expect(ipAllocation(file, { ...req, hostname: 'infra-vm-1' })).toMatchObject({ changed: false, ip: '192.168.33.6' });
  });
});

// Copies of reference/kayobe-configs/*/network-allocation.yml.
const UNIVERSE = `aio_ips:
  compute0: 192.168.33.6
  controller0: 192.168.33.3
  seed: 192.168.33.5
  seed-hypervisor: 192.168.33.4
`;
const CONFIG_DEV = `aio_ips:
  ansible0: 192.168.33.7
  controller0: 192.168.33.3
  infra-vm-1: 192.168.33.6
  seed: 192.168.33.5
  seed-hypervisor: 192.168.33.4
`;
const DEV_VAGRANT = `---
aio_ips:
  controller1: 192.168.33.3
`;

describe('network-allocation.yml', () => {
  it('parses the reference files', () => {
    expect(parseAllocationFile(UNIVERSE)).toEqual({ aio_ips: { compute0: '192.168.33.6', controller0: '192.168.33.3', seed: '192.168.33.5', 'seed-hypervisor': '192.168.33.4' } });
    expect(parseAllocationFile(DEV_VAGRANT)).toEqual({ aio_ips: { controller1: '192.168.33.3' } });
  });

  it('writes them back byte for byte (block style, sorted keys, as PyYAML dumps)', () => {
    expect(exportAllocationFile(parseAllocationFile(UNIVERSE))).toBe(UNIVERSE);
    expect(exportAllocationFile(parseAllocationFile(CONFIG_DEV))).toBe(CONFIG_DEV);
  });

  it('sorts networks and hosts on export, so an allocation lands where Kayobe would write it', () => {
    const r = ipAllocation(parseAllocationFile(UNIVERSE), { net: 'aio', hostname: 'compute1', cidr: '192.168.33.0/24', allocationPoolStart: '192.168.33.3', allocationPoolEnd: '192.168.33.30' });
    expect(exportAllocationFile({ z_ips: { b: '10.0.0.2', a: '10.0.0.1' }, ...r.allocations })).toBe(`aio_ips:
  compute0: 192.168.33.6
  compute1: 192.168.33.7
  controller0: 192.168.33.3
  seed: 192.168.33.5
  seed-hypervisor: 192.168.33.4
z_ips:
  a: 10.0.0.1
  b: 10.0.0.2
`);
  });

  it('an empty file is {}; bad YAML is Kayobe\'s parse error', () => {
    expect(parseAllocationFile('')).toEqual({});
    expect(exportAllocationFile({})).toBe('{}\n');
    expect(kayobeError(() => parseAllocationFile('aio_ips: [', '/etc/kayobe/network-allocation.yml')).kayobeMessage).toBe(
      'Failed to parse allocation file /etc/kayobe/network-allocation.yml as YAML',
    );
  });
});
