/**
 * Checks Kayobe does not make (reference/kayobe.md §3.9 "Not validated", §4.1, §10). Each issue names
 * the Kayobe variable at fault. Errors would make Kayobe allocate or configure something broken;
 * warnings flag configurations Kayobe accepts but that rarely mean what the user intended.
 */
import { formatIp, parseCidrLoose, parseIp } from '../ipv4';
import { VLAN_INTERFACE_NAME, type KayobeNetworkAttrs } from './attributes';
import { KayobeConfigError } from './errors';

export interface ValidationIssue {
  readonly severity: 'error' | 'warning';
  readonly field: string;
  readonly message: string;
}

const POOLS = [
  ['allocation_pool', 'host allocation pool'],
  ['inspection_allocation_pool', 'inspection DHCP pool'],
  ['neutron_allocation_pool', 'Neutron allocation pool'],
] as const;

/** Validates one network's attributes (global and, if given, one host's view of them). */
export function validateKayobeNetwork(name: string, a: KayobeNetworkAttrs): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const error = (attr: string, message: string) => issues.push({ severity: 'error', field: `${name}_${attr}`, message });
  const warning = (attr: string, message: string) => issues.push({ severity: 'warning', field: `${name}_${attr}`, message });

  const cidr = a.cidr ? parseCidrLoose(a.cidr) : undefined;
  if (a.cidr && !cidr) error('cidr', `"${a.cidr}" is not an IPv4 network in CIDR notation`);
  if (cidr && cidr.address !== cidr.network) warning('cidr', `${a.cidr} has host bits set; Kayobe uses ${formatIp(cidr.network)}/${cidr.prefix}`);

  const pools: { attr: string; label: string; first: number; last: number }[] = [];
  for (const [attr, label] of POOLS) {
    const s = a[`${attr}_start`];
    const e = a[`${attr}_end`];
    if (!s && !e) continue;
    if (!s || !e) {
      warning(s ? `${attr}_end` : `${attr}_start`, `only one end of the ${label} is set; Kayobe then ignores the pool${attr === 'allocation_pool' ? ' and allocates from the whole subnet' : ''}`);
      continue;
    }
    const first = parseIp(s);
    const last = parseIp(e);
    if (first === undefined) {
      error(`${attr}_start`, `"${s}" is not an IPv4 address`);
      continue;
    }
    if (last === undefined) {
      error(`${attr}_end`, `"${e}" is not an IPv4 address`);
      continue;
    }
    if (first > last) {
      error(`${attr}_end`, `${e} is below ${attr}_start ${s}`);
      continue;
    }
    if (cidr) {
      if (first <= cidr.network || first >= cidr.broadcast) error(`${attr}_start`, `${s} is not a host address of ${a.cidr}`);
      if (last <= cidr.network || last >= cidr.broadcast) error(`${attr}_end`, `${e} is not a host address of ${a.cidr}`);
    }
    for (const p of pools) {
      if (first <= p.last && p.first <= last) {
        error(`${attr}_start`, `the ${label} ${s}-${e} overlaps the ${p.label} ${formatIp(p.first)}-${formatIp(p.last)}`);
      }
    }
    pools.push({ attr, label, first, last });
  }

  const hostPool = pools.find((p) => p.attr === 'allocation_pool');
  const checkAddress = (attr: 'gateway' | 'vip_address', what: string) => {
    const v = a[attr];
    if (!v) return;
    const ip = parseIp(v);
    if (ip === undefined) {
      error(attr, `"${v}" is not an IPv4 address`);
      return;
    }
    if (cidr && (ip < cidr.network || ip > cidr.broadcast)) error(attr, `${v} is not inside ${a.cidr}`);
    const inHostRange = hostPool ? ip >= hostPool.first && ip <= hostPool.last : cidr !== undefined && ip > cidr.network && ip < cidr.broadcast;
    if (inHostRange) {
      error(attr, `${what} ${v} is inside the ${hostPool ? `host allocation pool ${formatIp(hostPool.first)}-${formatIp(hostPool.last)}` : `subnet ${a.cidr}, which is the host allocation pool when none is set`}; Kayobe could allocate it to a host`);
    }
  };
  checkAddress('gateway', 'the gateway');
  checkAddress('vip_address', 'the VIP');

  const seen = new Map<string, string>();
  for (const [host, ip] of Object.entries(a.ips ?? {})) {
    const n = parseIp(ip);
    if (n === undefined) {
      error('ips', `${host}: "${ip}" is not an IPv4 address`);
      continue;
    }
    if (cidr && (n < cidr.network || n > cidr.broadcast)) error('ips', `${host}: ${ip} is outside ${a.cidr}; Kayobe fails every later allocation on this network`);
    const other = seen.get(ip);
    if (other !== undefined) error('ips', `${other} and ${host} both have ${ip}`);
    seen.set(ip, host);
    if (a.vip_address === ip) error('ips', `${host} has the VIP address ${ip}`);
    if (a.gateway === ip) error('ips', `${host} has the gateway address ${ip}`);
  }

  if (a.vlan !== undefined && a.vlan !== null && a.interface && !a.parent && !VLAN_INTERFACE_NAME.test(a.interface) && a.bridge_ports == null && a.bond_slaves == null) {
    warning('vlan', `vlan ${a.vlan} is set but the interface "${a.interface}" is untagged and has no parent, so no VLAN device is created (systemd-networkd then gets VLAN=${a.interface} on itself)`);
  }
  return issues;
}

/**
 * Duplicate addresses across networks: the same host address in two `<net>_ips` maps whose cidrs are
 * the same subnet, or one address given to two hosts.
 */
export function validateAllocations(networks: Readonly<Record<string, KayobeNetworkAttrs>>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const owner = new Map<string, string>();
  for (const [name, a] of Object.entries(networks)) {
    for (const [host, ip] of Object.entries(a.ips ?? {})) {
      const key = ip;
      const prev = owner.get(key);
      if (prev !== undefined && !prev.startsWith(`${name}:`) && prev.split(':')[1] !== host) {
        issues.push({ severity: 'error', field: `${name}_ips`, message: `${host} has ${ip}, also given to ${prev.split(':')[1]} on ${prev.split(':')[0]}` });
      }
      owner.set(key, `${name}:${host}`);
    }
  }
  return issues;
}

/** Throws the first error as a KayobeConfigError naming its field; warnings are returned. */
export function assertNoErrors(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const e = issues.find((i) => i.severity === 'error');
  if (e) throw new KayobeConfigError(e.field, e.message);
  return issues.filter((i) => i.severity === 'warning');
}
