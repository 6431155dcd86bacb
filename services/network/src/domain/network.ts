import { ValidationError } from '@stackyard/errors';
import { assertToken } from '@stackyard/events';
import { contains, hostRange, parseCidr, parseIp, type Cidr } from './ipv4';

/** A Kayobe network of a site (reference/kayobe.md §2.4), the attributes the saga uses today. */
export interface NetworkData {
  readonly siteId: string;
  readonly name: string;
  readonly cidr: string;
  readonly gateway: string;
  readonly allocationPoolStart: string;
  readonly allocationPoolEnd: string;
  readonly vlan: number;
  readonly mtu: number;
  readonly groups: readonly string[];
  readonly interface: string;
}

const IFACE = /^(\{nic\d\}|[a-zA-Z0-9_.-]{1,15})$/;

export function networkId(siteId: string, name: string): string {
  return `${siteId}-${name}`;
}

/** Validates a network definition; Kayobe checks none of this, Stackyard checks all of it (§9). */
export function validateNetwork(n: NetworkData): { cidr: Cidr; pool: { first: number; last: number } } {
  assertToken('network.site_id', n.siteId);
  assertToken('network.name', n.name);
  const cidr = parseCidr(n.cidr);
  if (!cidr) throw new ValidationError('network.cidr', `"${n.cidr}" is not an IPv4 network in CIDR notation (e.g. 10.0.0.0/24)`);
  const range = hostRange(cidr);
  let first = range.first;
  let last = range.last;
  if (n.allocationPoolStart || n.allocationPoolEnd) {
    const s = parseIp(n.allocationPoolStart);
    const e = parseIp(n.allocationPoolEnd);
    if (s === undefined) throw new ValidationError('network.allocation_pool_start', `"${n.allocationPoolStart}" is not an IPv4 address`);
    if (e === undefined) throw new ValidationError('network.allocation_pool_end', `"${n.allocationPoolEnd}" is not an IPv4 address`);
    if (!contains(cidr, s) || s < range.first || s > range.last) {
      throw new ValidationError('network.allocation_pool_start', `${n.allocationPoolStart} is not a host address of ${n.cidr}`);
    }
    if (!contains(cidr, e) || e < range.first || e > range.last) {
      throw new ValidationError('network.allocation_pool_end', `${n.allocationPoolEnd} is not a host address of ${n.cidr}`);
    }
    if (e < s) throw new ValidationError('network.allocation_pool_end', 'must not be below allocation_pool_start');
    first = s;
    last = e;
  }
  if (n.gateway) {
    const g = parseIp(n.gateway);
    if (g === undefined || !contains(cidr, g)) throw new ValidationError('network.gateway', `"${n.gateway}" is not an address in ${n.cidr}`);
    if (g >= first && g <= last) {
      throw new ValidationError('network.gateway', `${n.gateway} is inside the host allocation pool; move it out so it is never given to a host`);
    }
  }
  if (n.vlan !== 0 && (n.vlan < 1 || n.vlan > 4094)) throw new ValidationError('network.vlan', `${n.vlan} is not a VLAN id (1-4094)`);
  if (n.mtu !== 0 && (n.mtu < 576 || n.mtu > 9216)) throw new ValidationError('network.mtu', `${n.mtu} is outside 576-9216`);
  if (n.groups.length === 0) throw new ValidationError('network.groups', 'attach the network to at least one group');
  n.groups.forEach((g, i) => assertToken(`network.groups[${i}]`, g));
  if (n.interface && !IFACE.test(n.interface)) {
    throw new ValidationError('network.interface', `"${n.interface}" is not an interface name (at most 15 characters) or {nicN}`);
  }
  return { cidr, pool: { first, last } };
}

/** Lowest free address of the pool (Kayobe's ip_allocation, reference/kayobe.md §3.9). */
export function lowestFree(pool: { first: number; last: number }, taken: ReadonlySet<number>, skip: ReadonlySet<number> = new Set()): number | undefined {
  for (let ip = pool.first; ip <= pool.last; ip++) if (!taken.has(ip) && !skip.has(ip)) return ip;
  return undefined;
}
