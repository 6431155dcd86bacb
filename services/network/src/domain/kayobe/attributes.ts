/**
 * Kayobe's network model and its attribute getters (reference/kayobe.md §2.4, §3.1-3.3), as pure
 * functions of one host's variables. A Kayobe network is a name `N` whose attributes are the host
 * variables `N_<attr>`; here they are `host.networks[N][attr]`, with Kayobe's attribute names kept
 * verbatim so that a kayobe-config maps 1:1. `undefined` and `null` both mean Python's `None`.
 */
import { formatIp, parseCidrLoose, prefixMask } from '../ipv4';
import { KayobeConfigError } from './errors';

/** A route (`N_routes[i]`). Kayobe's networkd engine ignores `options`; nmstate also reads metric/src/onlink. */
export interface KayobeRoute {
  readonly cidr: string;
  readonly gateway?: string | null;
  readonly table?: string | number | null;
  readonly options?: readonly string[] | null;
  readonly metric?: number | string | null;
  readonly src?: string | null;
  readonly onlink?: boolean | string | null;
}

/** A policy routing rule in dictionary form (`N_rules[i]`). */
export interface KayobeRule {
  readonly from?: string | null;
  readonly to?: string | null;
  readonly priority?: number | string | null;
  readonly table?: string | number | null;
}

/** A VLAN priority map entry (`N_ingress_qos_map` / `N_egress_qos_map`). */
export interface KayobeQosMapEntry {
  readonly from: number;
  readonly to: number;
}

/** Every attribute Kayobe reads for a network (§2.4), global and per host. */
export interface KayobeNetworkAttrs {
  // Global attributes (networks.yml).
  readonly cidr?: string | null;
  readonly allocation_pool_start?: string | null;
  readonly allocation_pool_end?: string | null;
  readonly inspection_allocation_pool_start?: string | null;
  readonly inspection_allocation_pool_end?: string | null;
  readonly inspection_gateway?: string | null;
  readonly inspection_dns_servers?: readonly string[] | null;
  readonly neutron_allocation_pool_start?: string | null;
  readonly neutron_allocation_pool_end?: string | null;
  readonly neutron_gateway?: string | null;
  readonly neutron_dns_servers?: readonly string[] | null;
  readonly gateway?: string | null;
  readonly vlan?: number | string | null;
  readonly mtu?: number | string | null;
  readonly vip_address?: string | null;
  readonly fqdn?: string | null;
  readonly routes?: readonly (KayobeRoute | string)[] | null;
  readonly rules?: readonly (KayobeRule | string)[] | null;
  readonly physical_network?: string | null;
  readonly libvirt_network_name?: string | null;
  readonly no_ip?: boolean | string | null;
  /** From network-allocation.yml: `N_ips`, host name to address. */
  readonly ips?: Readonly<Record<string, string>> | null;
  readonly ethtool_config?: Readonly<Record<string, unknown>> | null;
  readonly ingress_qos_map?: readonly KayobeQosMapEntry[] | null;
  readonly egress_qos_map?: readonly KayobeQosMapEntry[] | null;
  // Per-host attributes (inventory group_vars / host_vars).
  readonly interface?: string | null;
  readonly parent?: string | null;
  readonly bootproto?: string | null;
  readonly defroute?: boolean | string | null;
  /** Must be a list; a string is Kayobe's "should be a list" error. */
  readonly bridge_ports?: readonly string[] | string | null;
  readonly bridge_stp?: boolean | string | null;
  readonly bond_slaves?: readonly string[] | null;
  readonly bond_mode?: string | null;
  readonly bond_ad_select?: string | null;
  readonly bond_miimon?: number | string | null;
  readonly bond_updelay?: number | string | null;
  readonly bond_downdelay?: number | string | null;
  readonly bond_xmit_hash_policy?: string | null;
  readonly bond_lacp_rate?: string | number | null;
  readonly ethtool_opts?: string | null;
  readonly zone?: string | null;
  readonly macaddress?: string | null;
  /** nmstate explicit interface type (`N_type`), e.g. `dummy`. */
  readonly type?: string | null;
  /** nmstate type of a bridge port that is not a network itself (`N_port_type_<port>`), e.g. `ethernet`. */
  readonly [portType: `port_type_${string}`]: string | null | undefined;
  /** nmstate type of a bond slave that is not a network itself (`N_slave_type_<slave>`). */
  readonly [slaveType: `slave_type_${string}`]: string | null | undefined;
}

/**
 * The attribute names of {@link KayobeNetworkAttrs} (besides `port_type_<port>` and
 * `slave_type_<slave>`): what a `<net>_<attr>` variable of a Kayobe configuration can set.
 */
export const KAYOBE_NETWORK_ATTRIBUTES = [
  'cidr',
  'allocation_pool_start',
  'allocation_pool_end',
  'inspection_allocation_pool_start',
  'inspection_allocation_pool_end',
  'inspection_gateway',
  'inspection_dns_servers',
  'neutron_allocation_pool_start',
  'neutron_allocation_pool_end',
  'neutron_gateway',
  'neutron_dns_servers',
  'gateway',
  'vlan',
  'mtu',
  'vip_address',
  'fqdn',
  'routes',
  'rules',
  'physical_network',
  'libvirt_network_name',
  'no_ip',
  'ips',
  'ethtool_config',
  'ingress_qos_map',
  'egress_qos_map',
  'interface',
  'parent',
  'bootproto',
  'defroute',
  'bridge_ports',
  'bridge_stp',
  'bond_slaves',
  'bond_mode',
  'bond_ad_select',
  'bond_miimon',
  'bond_updelay',
  'bond_downdelay',
  'bond_xmit_hash_policy',
  'bond_lacp_rate',
  'ethtool_opts',
  'zone',
  'macaddress',
  'type',
] as const satisfies readonly (keyof KayobeNetworkAttrs)[];

/** Host-level knobs the network filters read, with Kayobe's defaults in {@link KAYOBE_NETWORK_DEFAULTS}. */
export interface KayobeNetworkVars {
  readonly provision_wl_net_name: string | null;
  readonly cleaning_net_name: string | null;
  readonly external_net_names: readonly string[];
  readonly network_patch_prefix: string;
  readonly network_patch_suffix_phy: string;
  readonly network_patch_suffix_ovs: string;
  readonly network_bridge_suffix_ovs: string;
  readonly networkd_prefix: string;
  readonly network_route_tables: readonly { readonly id: number | string; readonly name: string }[];
}

/**
 * Kayobe's defaults (KB `ansible/inventory/group_vars/all/network`, Ironic disabled: no
 * provision_wl/cleaning networks).
 */
export const KAYOBE_NETWORK_DEFAULTS: KayobeNetworkVars = {
  provision_wl_net_name: null,
  cleaning_net_name: null,
  external_net_names: ['external_net'],
  network_patch_prefix: 'p-',
  network_patch_suffix_phy: '-phy',
  network_patch_suffix_ovs: '-ovs',
  network_bridge_suffix_ovs: '-ovs',
  networkd_prefix: '50-kayobe-',
  network_route_tables: [],
};

/** One host's view: its inventory name, OS family and the effective `N_<attr>` variables. */
export interface KayobeHost {
  readonly inventoryHostname: string;
  readonly osFamily: 'Debian' | 'RedHat';
  readonly networks: Readonly<Record<string, KayobeNetworkAttrs>>;
  readonly vars: KayobeNetworkVars;
}

export function kayobeHost(
  inventoryHostname: string,
  networks: Readonly<Record<string, KayobeNetworkAttrs>>,
  opts: { osFamily?: 'Debian' | 'RedHat'; vars?: Partial<KayobeNetworkVars> } = {},
): KayobeHost {
  return { inventoryHostname, osFamily: opts.osFamily ?? 'Debian', networks, vars: { ...KAYOBE_NETWORK_DEFAULTS, ...opts.vars } };
}

type AttrName = keyof KayobeNetworkAttrs;

/** `net_attr(name, attr)`: the raw value of `<name>_<attr>`, or undefined (Python None). */
export function netAttr<A extends AttrName>(host: KayobeHost, name: string, attr: A): NonNullable<KayobeNetworkAttrs[A]> | undefined {
  const v = host.networks[name]?.[attr];
  return v === null || v === undefined ? undefined : (v as NonNullable<KayobeNetworkAttrs[A]>);
}

/** Ansible's `bool` filter: true for true, 1, and the strings yes/on/1/true (any case). */
export function ansibleBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1;
  if (typeof v === 'string') return ['yes', 'on', '1', 'true'].includes(v.trim().toLowerCase());
  return false;
}

export const netInterface = (h: KayobeHost, n: string) => netAttr(h, n, 'interface');
export const netParent = (h: KayobeHost, n: string) => netAttr(h, n, 'parent');
export const netCidr = (h: KayobeHost, n: string) => netAttr(h, n, 'cidr');
export const netGateway = (h: KayobeHost, n: string) => netAttr(h, n, 'gateway');
export const netVlan = (h: KayobeHost, n: string) => netAttr(h, n, 'vlan');
export const netRoutes = (h: KayobeHost, n: string) => netAttr(h, n, 'routes');
export const netRules = (h: KayobeHost, n: string) => netAttr(h, n, 'rules');
export const netBootproto = (h: KayobeHost, n: string) => netAttr(h, n, 'bootproto');
export const netDefroute = (h: KayobeHost, n: string) => netAttr(h, n, 'defroute');
export const netPhysicalNetwork = (h: KayobeHost, n: string) => netAttr(h, n, 'physical_network');
export const netMacaddress = (h: KayobeHost, n: string) => netAttr(h, n, 'macaddress');
export const netVipAddress = (h: KayobeHost, n: string) => netAttr(h, n, 'vip_address');
export const netFqdn = (h: KayobeHost, n: string) => netAttr(h, n, 'fqdn');
export const netNoIp = (h: KayobeHost, n: string) => netAttr(h, n, 'no_ip');
export const netBondSlaves = (h: KayobeHost, n: string) => netAttr(h, n, 'bond_slaves');

/** `net_ip(name[, host])`: `<name>_ips[host]`, the current host by default. */
export function netIp(host: KayobeHost, name: string, hostname = host.inventoryHostname): string | undefined {
  const ips = netAttr(host, name, 'ips');
  return ips ? ips[hostname] ?? undefined : undefined;
}

/** `net_mask`: dotted netmask of the cidr. */
export function netMask(host: KayobeHost, name: string): string | undefined {
  const c = cidrOf(host, name);
  return c ? formatIp(prefixMask(c.prefix)) : undefined;
}

/** `net_prefix`: prefix length as a string, as Kayobe returns it. */
export function netPrefix(host: KayobeHost, name: string): string | undefined {
  const c = cidrOf(host, name);
  return c ? String(c.prefix) : undefined;
}

function cidrOf(host: KayobeHost, name: string) {
  const cidr = netCidr(host, name);
  if (cidr === undefined) return undefined;
  const c = parseCidrLoose(cidr);
  if (!c) throw new KayobeConfigError(`${name}_cidr`, `"${cidr}" is not an IPv4 network in CIDR notation`);
  return c;
}

/** `net_mtu`: `int(mtu)` or undefined. */
export function netMtu(host: KayobeHost, name: string): number | undefined {
  const v = netAttr(host, name, 'mtu');
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n)) throw new KayobeConfigError(`${name}_mtu`, `invalid literal for int() with base 10: '${String(v)}'`);
  return n;
}

/**
 * `net_bridge_ports`: a list, or undefined. A non-empty non-list is an error. (Kayobe passes the name as a
 * second argument instead of formatting it, so its text shows a literal `'%s'`; Stackyard names the network.)
 */
export function netBridgePorts(host: KayobeHost, name: string): readonly string[] | undefined {
  const v = netAttr(host, name, 'bridge_ports');
  if (v === undefined) return undefined;
  if (typeof v === 'string') {
    if (v === '') return undefined;
    throw new KayobeConfigError(`${name}_bridge_ports`, `Bridge ports for network '${name}' should be a list`);
  }
  return v;
}

/** `net_bridge_stp`: unset is `"false"` on RedHat and undefined elsewhere; set is `"true"`/`"false"`. */
export function netBridgeStp(host: KayobeHost, name: string): 'true' | 'false' | undefined {
  const v = netAttr(host, name, 'bridge_stp');
  if (v === undefined) return host.osFamily === 'RedHat' ? 'false' : undefined;
  return ansibleBool(v) ? 'true' : 'false';
}

/** `net_libvirt_network_name`: the configured name or the network's own name. */
export function netLibvirtNetworkName(host: KayobeHost, name: string): string {
  return netAttr(host, name, 'libvirt_network_name') || name;
}

export function netLibvirtNetwork(host: KayobeHost, name: string) {
  return { name: netLibvirtNetworkName(host, name), mode: 'bridge', bridge: netInterface(host, name) };
}

export function netLibvirtVmNetwork(host: KayobeHost, name: string) {
  return { network: netLibvirtNetworkName(host, name), net_name: name };
}

/** `get_and_validate_interface`: the interface, or Kayobe's "not found" error. */
export function getAndValidateInterface(host: KayobeHost, name: string): string {
  const device = netInterface(host, name);
  if (!device) {
    throw new KayobeConfigError(`${name}_interface`, `Network interface for network '${name}' on host '${host.inventoryHostname}' not found`);
  }
  return device;
}

export type InterfaceType = 'ether' | 'bridge' | 'bond';

/** `_net_interface_type` (§3.2): "defined" means not None, so `bridge_ports: []` is still a bridge. */
export function netInterfaceType(host: KayobeHost, name: string): InterfaceType {
  const ports = netBridgePorts(host, name) ?? (netAttr(host, name, 'bridge_ports') === '' ? '' : undefined);
  const slaves = netBondSlaves(host, name);
  if (ports !== undefined && slaves !== undefined) {
    throw new KayobeConfigError(`${name}_bond_slaves`, `Network ${name} on host ${host.inventoryHostname} has both bridge ports and bond slaves defined`);
  }
  if (ports !== undefined) return 'bridge';
  if (slaves !== undefined) return 'bond';
  return 'ether';
}

export const netIsEther = (h: KayobeHost, n: string) => netInterfaceType(h, n) === 'ether';
export const netIsBridge = (h: KayobeHost, n: string) => netInterfaceType(h, n) === 'bridge';
export const netIsBond = (h: KayobeHost, n: string) => netInterfaceType(h, n) === 'bond';
export const netSelectEthers = (h: KayobeHost, names: readonly string[]) => names.filter((n) => netIsEther(h, n));
export const netSelectBridges = (h: KayobeHost, names: readonly string[]) => names.filter((n) => netIsBridge(h, n));
export const netSelectBonds = (h: KayobeHost, names: readonly string[]) => names.filter((n) => netIsBond(h, n));

/** `net_is_vlan`: the `vlan` attribute is set (whatever the interface name). */
export const netIsVlan = (h: KayobeHost, n: string) => netVlan(h, n) !== undefined;
export const netSelectVlans = (h: KayobeHost, names: readonly string[]) => names.filter((n) => netIsVlan(h, n));
export const netRejectVlans = (h: KayobeHost, names: readonly string[]) => names.filter((n) => !netIsVlan(h, n));

/** Kayobe's heuristic for conventional VLAN device names: `<name>.<1-9999 without leading zero>`. */
export const VLAN_INTERFACE_NAME = /^[a-zA-Z0-9_-]+\.[1-9]\d{0,3}$/;

/**
 * `net_is_vlan_interface` (§3.2): a VLAN *device* must be created. True when both `parent` and `vlan`
 * are set, or when the interface name looks like `<parent>.<vid>`. A missing interface is an error.
 */
export function netIsVlanInterface(host: KayobeHost, name: string): boolean {
  if (netParent(host, name) && netVlan(host, name)) return true;
  return VLAN_INTERFACE_NAME.test(getAndValidateInterface(host, name));
}

export const netSelectVlanInterfaces = (h: KayobeHost, names: readonly string[]) => names.filter((n) => netIsVlanInterface(h, n));

/** `get_vlan_parent` (§3.3): `parent` if set, else the device with a trailing `.<vlan>` removed. */
export function getVlanParent(host: KayobeHost, name: string, device: string, vlan: number | string): string {
  const parent = netParent(host, name);
  if (parent) return parent;
  const suffix = `.${vlan}`;
  return device.endsWith(suffix) ? device.slice(0, -suffix.length) : device;
}

/**
 * `network_route_tables` as a lookup from table name to id. A name that is not listed is returned as
 * it is by the callers (networkd passes it through; nmstate accepts only numbers).
 */
export function routeTableIds(host: KayobeHost): Map<string | number, string | number> {
  return new Map(host.vars.network_route_tables.map((t) => [t.name, t.id]));
}

/** `net_physical_interface`: bridge ports, bond slaves, or `[interface]`. */
export function netPhysicalInterface(host: KayobeHost, name: string): readonly (string | undefined)[] {
  switch (netInterfaceType(host, name)) {
    case 'bridge':
      return netBridgePorts(host, name) ?? [];
    case 'bond':
      return netBondSlaves(host, name) ?? [];
    default:
      return [netInterface(host, name)];
  }
}
