import { ValidationError } from '@stackyard/errors';
import { assertToken } from '@stackyard/events';
import { contains, formatIp, hostRange, parseCidr, parseCidrLoose, parseIp, type Cidr } from './ipv4';
import type { KayobeNetworkAttrs, KayobeQosMapEntry } from './kayobe/attributes';
import { VLAN_INTERFACE_NAME } from './kayobe/attributes';
import { ETHTOOL_FEATURE_ALIASES, ETHTOOL_FEATURES, ETHTOOL_RING_PARAMS } from './kayobe/nmstate';
import { validateKayobeNetwork, type ValidationIssue } from './kayobe/validate';

/** Kayobe's network roles (reference/kayobe.md §2.5), without the `_net_name` suffix. */
export const NETWORK_ROLES = [
  'admin_oc',
  'oob_oc',
  'provision_oc',
  'oob_wl',
  'provision_wl',
  'cleaning',
  'inspection',
  'internal',
  'public',
  'external',
  'tunnel',
  'storage',
  'storage_mgmt',
  'swift_storage',
  'swift_storage_replication',
] as const;
export type NetworkRole = (typeof NETWORK_ROLES)[number];

/** A route table of Kayobe's `network_route_tables`. */
export interface RouteTable {
  readonly id: number;
  readonly name: string;
}

/**
 * The Kayobe attributes of a network beyond the basics, under Kayobe's names (§2.4). Absent means
 * unset (Python None). `bridge_ports` present (even empty) makes the interface a bridge, `bond_slaves`
 * a bond. Interface-valued attributes (`parent`, ports, slaves) may be `{nicN}`.
 */
export interface NetworkKayobe
  extends Pick<
    KayobeNetworkAttrs,
    | 'physical_network'
    | 'vip_address'
    | 'fqdn'
    | 'no_ip'
    | 'bootproto'
    | 'defroute'
    | 'bridge_stp'
    | 'bond_mode'
    | 'bond_ad_select'
    | 'bond_miimon'
    | 'bond_updelay'
    | 'bond_downdelay'
    | 'bond_xmit_hash_policy'
    | 'bond_lacp_rate'
    | 'parent'
    | 'macaddress'
    | 'inspection_allocation_pool_start'
    | 'inspection_allocation_pool_end'
    | 'inspection_gateway'
    | 'inspection_dns_servers'
    | 'neutron_allocation_pool_start'
    | 'neutron_allocation_pool_end'
    | 'neutron_gateway'
    | 'neutron_dns_servers'
    | 'ethtool_opts'
    | 'zone'
    | 'libvirt_network_name'
    | 'type'
  > {
  readonly roles?: readonly string[];
  readonly routes?: readonly { cidr: string; gateway?: string; table?: string; options?: readonly string[]; metric?: number; src?: string; onlink?: boolean }[];
  readonly rules?: readonly { from?: string; to?: string; priority?: number; table?: string }[];
  readonly route_tables?: readonly RouteTable[];
  readonly bridge_ports?: readonly string[];
  readonly bond_slaves?: readonly string[];
  readonly ethtool_config?: { readonly ring?: Readonly<Record<string, number>>; readonly feature?: Readonly<Record<string, boolean>> };
  readonly ingress_qos_map?: readonly KayobeQosMapEntry[];
  readonly egress_qos_map?: readonly KayobeQosMapEntry[];
}

/** A Kayobe network of a site (reference/kayobe.md §2.4). */
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
  readonly kayobe?: NetworkKayobe;
}

const IFACE = /^(\{nic\d\}|[a-zA-Z0-9_.-]{1,15})$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const RING_KEYS: readonly string[] = ETHTOOL_RING_PARAMS;
/** nmstate's ethtool features and Kayobe's aliases (§2.4, §4.4). */
const ETHTOOL_FEATURE_NAMES: readonly string[] = [...ETHTOOL_FEATURES, ...Object.keys(ETHTOOL_FEATURE_ALIASES)];

export function networkId(siteId: string, name: string): string {
  return `${siteId}-${name}`;
}

/** Whether Kayobe allocates this network an address per host: a cidr, not `no_ip`, not DHCP (§3.9). */
export function allocatesAddresses(n: NetworkData): boolean {
  return n.cidr !== '' && !n.kayobe?.no_ip && (n.kayobe?.bootproto ?? '').toLowerCase() !== 'dhcp';
}

/**
 * Validates a network definition; Kayobe checks none of this, Stackyard checks all of it (§9).
 * A network that allocates no address (`no_ip`, `bootproto: dhcp`) may leave `cidr` empty; `pool` is
 * then undefined.
 */
export function validateNetwork(n: NetworkData): { cidr: Cidr | undefined; pool: { first: number; last: number } | undefined } {
  assertToken('network.site_id', n.siteId);
  assertToken('network.name', n.name);
  const k = n.kayobe ?? {};
  if (k.bootproto && !['static', 'dhcp'].includes(k.bootproto.toLowerCase())) {
    throw new ValidationError('network.kayobe.bootproto', `"${k.bootproto}" is neither static nor dhcp`);
  }
  if (n.vlan !== 0 && (n.vlan < 1 || n.vlan > 4094)) throw new ValidationError('network.vlan', `${n.vlan} is not a VLAN id (1-4094)`);
  if (n.mtu !== 0 && (n.mtu < 576 || n.mtu > 9216)) throw new ValidationError('network.mtu', `${n.mtu} is outside 576-9216`);
  // No groups: hosts attach by Kayobe's per-group defaults (§2.6, roles.ts kayobeDefaultNetworks).
  n.groups.forEach((g, i) => assertToken(`network.groups[${i}]`, g));
  if (n.interface && !IFACE.test(n.interface)) {
    throw new ValidationError('network.interface', `"${n.interface}" is not an interface name (at most 15 characters) or {nicN}`);
  }
  if (n.cidr === '' && (k.no_ip || (k.bootproto ?? '').toLowerCase() === 'dhcp')) {
    for (const f of ['gateway', 'allocationPoolStart', 'allocationPoolEnd'] as const) {
      if (n[f]) throw new ValidationError(`network.${snake(f)}`, 'needs a cidr');
    }
    return { cidr: undefined, pool: undefined };
  }
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
  return { cidr, pool: { first, last } };
}

function snake(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A validation finding with the request field at fault and, where there is one, the Kayobe variable. */
export interface NetworkIssue extends ValidationIssue {
  readonly network: string;
  readonly kayobeVariable: string;
}

const BASE_ATTRS = new Set(['cidr', 'gateway', 'allocation_pool_start', 'allocation_pool_end', 'vlan', 'mtu', 'interface']);

/** The request field of a Kayobe variable `<net>_<attr>`: `network.<attr>` or `network.kayobe.<attr>`. */
export function fieldOf(net: string, kayobeVariable: string): string {
  const attr = kayobeVariable.startsWith(`${net}_`) ? kayobeVariable.slice(net.length + 1) : kayobeVariable;
  if (attr === 'ips') return 'allocations';
  return BASE_ATTRS.has(attr) ? `network.${attr}` : `network.kayobe.${attr}`;
}

/** The Kayobe attribute map of a network definition (`ips` optional: from allocations). */
export function kayobeAttrsOf(n: NetworkData, ips?: Readonly<Record<string, string>>): KayobeNetworkAttrs {
  const { roles: _roles, route_tables: _tables, ...k } = n.kayobe ?? {};
  return {
    ...k,
    routes: k.routes?.map((r) => ({ ...r })),
    rules: k.rules?.map((r) => ({ ...r })),
    ethtool_config: k.ethtool_config ? { ...k.ethtool_config } : undefined,
    cidr: n.cidr || undefined,
    gateway: n.gateway || undefined,
    allocation_pool_start: n.allocationPoolStart || undefined,
    allocation_pool_end: n.allocationPoolEnd || undefined,
    vlan: n.vlan || undefined,
    mtu: n.mtu || undefined,
    ips,
  };
}

/**
 * Every finding on one network's Kayobe attributes: Kayobe's own checks (validate.ts: pools inside the
 * cidr and apart, gateway and VIP outside the host pool, duplicate addresses) and the syntax of the
 * attributes Stackyard adds over the basics (roles, routes, rules, tables, bridge/bond members, MAC,
 * QoS maps, ethtool). `ips` (host name → address) adds the allocation checks.
 */
export function networkIssues(n: NetworkData, ips?: Readonly<Record<string, string>>): NetworkIssue[] {
  const out: NetworkIssue[] = [];
  const add = (severity: 'error' | 'warning', field: string, attr: string, message: string) =>
    out.push({ severity, field, message, network: n.name, kayobeVariable: attr ? `${n.name}_${attr}` : '' });
  // The vlan-on-an-untagged-interface warning does not apply: Stackyard names the device <dev>.<vlan> itself.
  const attrs = { ...kayobeAttrsOf(n, ips), interface: undefined };
  for (const i of validateKayobeNetwork(n.name, attrs)) {
    out.push({ ...i, field: fieldOf(n.name, i.field), network: n.name, kayobeVariable: i.field });
  }
  const k = n.kayobe ?? {};
  (k.roles ?? []).forEach((r, i) => {
    if (!(NETWORK_ROLES as readonly string[]).includes(r)) add('error', `network.kayobe.roles[${i}]`, '', `"${r}" is not a Kayobe network role (${NETWORK_ROLES.join(', ')})`);
  });
  if (k.bridge_ports && k.bond_slaves) {
    add('error', 'network.kayobe.bond', 'bond_slaves', `Network ${n.name} has both bridge ports and bond slaves defined`);
  }
  const ifaceList = (attr: 'bridge_ports' | 'bond_slaves', field: string) =>
    (k[attr] ?? []).forEach((p, i) => {
      if (!IFACE.test(p)) add('error', `${field}[${i}]`, attr, `"${p}" is not an interface name (at most 15 characters) or {nicN}`);
    });
  ifaceList('bridge_ports', 'network.kayobe.bridge.ports');
  ifaceList('bond_slaves', 'network.kayobe.bond.slaves');
  if (k.parent && !IFACE.test(k.parent)) add('error', 'network.kayobe.parent', 'parent', `"${k.parent}" is not an interface name (at most 15 characters) or {nicN}`);
  if (k.parent && !n.vlan) add('warning', 'network.kayobe.parent', 'parent', 'a parent without a vlan is ignored');
  if (k.macaddress && !MAC.test(k.macaddress)) add('error', 'network.kayobe.macaddress', 'macaddress', `"${k.macaddress}" is not a MAC address`);
  if (k.macaddress && (k.bridge_ports || k.bond_slaves)) add('warning', 'network.kayobe.macaddress', 'macaddress', 'Kayobe renames only ethernet devices by MAC; ignored on a bridge or bond');

  const tableNames = new Set<string>();
  const tableIds = new Set<number>();
  (k.route_tables ?? []).forEach((t, i) => {
    if (!/^[A-Za-z0-9_-]{1,63}$/.test(t.name)) add('error', `network.kayobe.route_tables[${i}].name`, '', `"${t.name}" is not a route table name`);
    if (!Number.isInteger(t.id) || t.id < 1 || t.id > 252) add('error', `network.kayobe.route_tables[${i}].id`, '', `${t.id} is not a user route table id (1-252)`);
    if (tableNames.has(t.name) || tableIds.has(t.id)) add('error', `network.kayobe.route_tables[${i}]`, '', `route table ${t.id} ${t.name} is listed twice`);
    tableNames.add(t.name);
    tableIds.add(t.id);
  });
  const checkTable = (field: string, attr: string, table: string | undefined) => {
    if (!table || /^\d+$/.test(table) || tableNames.has(table)) return;
    add('error', field, attr, `Routing table '${table}' is not defined in network_route_tables (list it in route_tables or use its number)`);
  };
  (k.routes ?? []).forEach((r, i) => {
    const f = `network.kayobe.routes[${i}]`;
    if (!parseCidrLoose(r.cidr)) add('error', `${f}.cidr`, 'routes', `"${r.cidr}" is not an IPv4 network in CIDR notation`);
    if (r.gateway && parseIp(r.gateway) === undefined) add('error', `${f}.gateway`, 'routes', `"${r.gateway}" is not an IPv4 address`);
    if (r.src && parseIp(r.src) === undefined) add('error', `${f}.src`, 'routes', `"${r.src}" is not an IPv4 address`);
    checkTable(`${f}.table`, 'routes', r.table);
    if ((r.options?.length ?? 0) > 0 || r.metric !== undefined || r.src || r.onlink !== undefined) {
      add('warning', f, 'routes', 'options, metric, src and onlink are ignored by systemd-networkd (Kayobe writes only Destination, Gateway and Table)');
    }
  });
  (k.rules ?? []).forEach((r, i) => {
    const f = `network.kayobe.rules[${i}]`;
    if (!r.from && !r.to) add('error', f, 'rules', 'a rule needs from or to');
    if (r.from && !parseCidrLoose(r.from.includes('/') ? r.from : `${r.from}/32`)) add('error', `${f}.from`, 'rules', `"${r.from}" is not an IPv4 address or network`);
    if (r.to && !parseCidrLoose(r.to.includes('/') ? r.to : `${r.to}/32`)) add('error', `${f}.to`, 'rules', `"${r.to}" is not an IPv4 address or network`);
    checkTable(`${f}.table`, 'rules', r.table);
  });
  const qos = (attr: 'ingress_qos_map' | 'egress_qos_map') =>
    (k[attr] ?? []).forEach((e, i) => {
      const f = `network.kayobe.${attr}[${i}]`;
      // A VLAN header's PCP is 3 bits: ingress maps from it, egress maps to it.
      if (attr === 'ingress_qos_map' && e.from > 7) add('error', `${f}.from`, attr, `ingress priority ${e.from} is above 7`);
      if (attr === 'egress_qos_map' && e.to > 7) add('error', `${f}.to`, attr, `egress priority ${e.to} is above 7`);
    });
  qos('ingress_qos_map');
  qos('egress_qos_map');
  if ((k.ingress_qos_map?.length || k.egress_qos_map?.length) && !n.vlan) add('warning', 'network.kayobe.ingress_qos_map', 'ingress_qos_map', 'QoS maps apply to VLAN devices only');
  const ring = Object.keys(k.ethtool_config?.ring ?? {}).filter((r) => !RING_KEYS.includes(r));
  if (ring.length > 0) add('error', 'network.kayobe.ethtool_config.ring', 'ethtool_config', `Unsupported ring parameters: ${ring.join(', ')}`);
  const features = Object.keys(k.ethtool_config?.feature ?? {}).filter((f) => !ETHTOOL_FEATURE_NAMES.includes(f));
  if (features.length > 0) add('error', 'network.kayobe.ethtool_config.feature', 'ethtool_config', `Unsupported ethtool features: ${features.join(', ')}`);
  if (k.ethtool_config && (Object.keys(k.ethtool_config.ring ?? {}).length || Object.keys(k.ethtool_config.feature ?? {}).length)) {
    add('warning', 'network.kayobe.ethtool_config', 'ethtool_config', 'ethtool_config is applied by the nmstate engine only; systemd-networkd ignores it');
  }
  if (k.no_ip && (n.allocationPoolStart || n.allocationPoolEnd)) add('warning', 'network.allocation_pool_start', 'allocation_pool_start', 'no_ip is set, so the host allocation pool is never used');
  return out;
}

/** The device a network configures when its interface spec is resolved (Stackyard's VLAN naming). */
export function deviceSpec(n: NetworkData): string {
  const base = n.interface || '{nic0}';
  const k = n.kayobe ?? {};
  return n.vlan && !k.parent && !k.bridge_ports && !k.bond_slaves && !VLAN_INTERFACE_NAME.test(base) ? `${base}.${n.vlan}` : base;
}

function hostPool(n: NetworkData): { first: number; last: number } | undefined {
  if (!allocatesAddresses(n)) return undefined;
  try {
    return validateNetwork(n).pool;
  } catch {
    return undefined;
  }
}

/**
 * Findings of `n` against the site's other networks (`others` excludes `n` itself):
 * - two networks of overlapping groups configuring the same device (error; Kayobe's networkd engine
 *   fails with "duplicate interface configuration"),
 * - host allocation pools sharing addresses (error: two networks could give one address to two hosts),
 *   otherwise overlapping cidrs (warning),
 * - a VIP inside another network's host pool (error),
 * - route tables disagreeing on a name or id (error; Kayobe has one `network_route_tables`),
 * - a single-network role (everything but `external`) claimed by two networks (error).
 */
export function siteIssues(n: NetworkData, others: readonly NetworkData[]): NetworkIssue[] {
  const out: NetworkIssue[] = [];
  const add = (severity: 'error' | 'warning', field: string, kayobeVariable: string, message: string) => out.push({ severity, field, message, network: n.name, kayobeVariable });
  const mine = hostPool(n);
  const cidr = n.cidr ? parseCidr(n.cidr) : undefined;
  const roles = explicitRoles(n);
  for (const o of others) {
    if (o.name === n.name || o.siteId !== n.siteId) continue;
    const shared = n.groups.filter((g) => o.groups.includes(g));
    if (shared.length > 0 && deviceSpec(n) === deviceSpec(o)) {
      add('error', 'network.interface', `${n.name}_interface`, `networks ${o.name} and ${n.name} both configure ${deviceSpec(n)} on hosts of ${shared.join(', ')}; systemd-networkd (like Kayobe) configures one network per device`);
    }
    const theirs = hostPool(o);
    const ocidr = o.cidr ? parseCidr(o.cidr) : undefined;
    if (mine && theirs && mine.first <= theirs.last && theirs.first <= mine.last) {
      add('error', 'network.allocation_pool_start', `${n.name}_allocation_pool_start`, `the host allocation pool ${formatIp(mine.first)}-${formatIp(mine.last)} shares addresses with network ${o.name}'s ${formatIp(theirs.first)}-${formatIp(theirs.last)}; one address could be given to two hosts`);
    } else if (cidr && ocidr && cidr.network <= ocidr.broadcast && ocidr.network <= cidr.broadcast) {
      add('warning', 'network.cidr', `${n.name}_cidr`, `${n.cidr} overlaps network ${o.name}'s ${o.cidr}`);
    }
    const vip = n.kayobe?.vip_address ? parseIp(n.kayobe.vip_address) : undefined;
    if (vip !== undefined && theirs && vip >= theirs.first && vip <= theirs.last) {
      add('error', 'network.kayobe.vip_address', `${n.name}_vip_address`, `the VIP ${n.kayobe!.vip_address} is inside network ${o.name}'s host allocation pool`);
    }
    for (const t of n.kayobe?.route_tables ?? []) {
      for (const u of o.kayobe?.route_tables ?? []) {
        if ((t.name === u.name) !== (t.id === u.id)) {
          add('error', 'network.kayobe.route_tables', 'network_route_tables', `route table ${t.id} ${t.name} disagrees with network ${o.name}'s ${u.id} ${u.name}; a site has one network_route_tables`);
        }
      }
    }
    for (const r of explicitRoles(o)) {
      if (r !== 'external' && roles.includes(r)) add('error', 'network.kayobe.roles', `${r}_net_name`, `network ${o.name} already plays the ${r} role`);
    }
  }
  return out;
}

function explicitRoles(n: NetworkData): readonly string[] {
  return n.kayobe?.roles ?? [];
}

/** Lowest free address of the pool (Kayobe's ip_allocation, reference/kayobe.md §3.9). */
export function lowestFree(pool: { first: number; last: number }, taken: ReadonlySet<number>, skip: ReadonlySet<number> = new Set()): number | undefined {
  for (let ip = pool.first; ip <= pool.last; ip++) if (!taken.has(ip) && !skip.has(ip)) return ip;
  return undefined;
}
