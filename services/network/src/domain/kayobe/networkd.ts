/**
 * systemd-networkd configuration exactly as Kayobe's `networkd_netdevs`, `networkd_links` and
 * `networkd_networks` filters compute it (reference/kayobe.md §3.7, tests §4.3), plus the text
 * rendering of the resulting `.netdev`/`.link`/`.network` files.
 *
 * The data format is Kayobe's (that of the stackhpc systemd_networkd role): a unit is a list of
 * sections `{Section: [{Option: value}, ...]}`; options whose value is None are dropped, then empty
 * sections. A result maps `<networkd_prefix><device>` to a unit.
 */
import { parseCidrLoose } from '../ipv4';
import {
  ansibleBool,
  getAndValidateInterface,
  getVlanParent,
  netBondSlaves,
  netBootproto,
  netBridgePorts,
  netBridgeStp,
  netCidr,
  netDefroute,
  netGateway,
  netInterface,
  netIp,
  netMacaddress,
  netMtu,
  netRoutes,
  netRules,
  netSelectBonds,
  netSelectBridges,
  netSelectEthers,
  netSelectVlanInterfaces,
  netSelectVlans,
  netVlan,
  netAttr,
  routeTableIds,
  type KayobeHost,
  type KayobeQosMapEntry,
  type KayobeRoute,
  type KayobeRule,
} from './attributes';
import { KayobeConfigError } from './errors';
import { getOvsVeths, type OvsVeth } from './ovs';

export type NetworkdValue = string | number;
export type NetworkdOption = Readonly<Record<string, NetworkdValue>>;
export type NetworkdSection = Readonly<Record<string, readonly NetworkdOption[]>>;
export type NetworkdUnit = readonly NetworkdSection[];
/** `<networkd_prefix><device>` → unit, in the order Kayobe adds them. */
export type NetworkdConfig = Readonly<Record<string, NetworkdUnit>>;

type RawOption = Record<string, NetworkdValue | undefined>;
type RawSection = Record<string, RawOption[]>;

/** `_filter_options`: drop None options, then empty sections. */
function filterOptions(config: readonly RawSection[]): NetworkdUnit {
  const out: NetworkdSection[] = [];
  for (const sectionDict of config) {
    const section: Record<string, NetworkdOption[]> = {};
    for (const [name, options] of Object.entries(sectionDict)) {
      const kept: NetworkdOption[] = [];
      for (const o of options) {
        const entries = Object.entries(o).filter((e): e is [string, NetworkdValue] => e[1] !== undefined);
        if (entries.length > 0) kept.push(Object.fromEntries(entries));
      }
      if (kept.length > 0) section[name] = kept;
    }
    if (Object.keys(section).length > 0) out.push(section);
  }
  return out;
}

const msToS = (n: number | string | undefined) => (n === undefined ? undefined : Number(n) / 1000);
const qosMap = (m: readonly KayobeQosMapEntry[] | undefined) => (m ? m.map((e) => `${e.from}-${e.to}`).join(' ') : undefined);

function vlanNetdev(host: KayobeHost, name: string): NetworkdUnit {
  return filterOptions([
    { NetDev: [{ Name: netInterface(host, name) }, { Kind: 'vlan' }, { MTUBytes: netMtu(host, name) }] },
    {
      VLAN: [
        { Id: netVlan(host, name) },
        { IngressQOSMaps: qosMap(netAttr(host, name, 'ingress_qos_map')) },
        { EgressQOSMaps: qosMap(netAttr(host, name, 'egress_qos_map')) },
      ],
    },
  ]);
}

function bridgeNetdev(host: KayobeHost, name: string): NetworkdUnit {
  return filterOptions([
    { NetDev: [{ Name: netInterface(host, name) }, { Kind: 'bridge' }, { MTUBytes: netMtu(host, name) }] },
    { Bridge: [{ STP: netBridgeStp(host, name) }] },
  ]);
}

function bondNetdev(host: KayobeHost, name: string): NetworkdUnit {
  const a = <K extends 'bond_mode' | 'bond_ad_select' | 'bond_xmit_hash_policy' | 'bond_lacp_rate' | 'bond_miimon' | 'bond_updelay' | 'bond_downdelay'>(k: K) =>
    netAttr(host, name, k);
  return filterOptions([
    { NetDev: [{ Name: netInterface(host, name) }, { Kind: 'bond' }, { MTUBytes: netMtu(host, name) }] },
    {
      Bond: [
        { Mode: a('bond_mode') },
        { AdSelect: a('bond_ad_select') },
        { TransmitHashPolicy: a('bond_xmit_hash_policy') },
        { LACPTransmitRate: a('bond_lacp_rate') },
        { MIIMonitorSec: msToS(a('bond_miimon')) },
        { UpDelaySec: msToS(a('bond_updelay')) },
        { DownDelaySec: msToS(a('bond_downdelay')) },
      ],
    },
  ]);
}

function vethNetdev(veth: OvsVeth): NetworkdUnit {
  return filterOptions([{ NetDev: [{ Name: veth.name }, { Kind: 'veth' }] }, { Peer: [{ Name: veth.peer }] }]);
}

function addToResult(result: Record<string, NetworkdUnit>, prefix: string, device: string, unit: NetworkdUnit, field: string): void {
  const key = `${prefix}${device}`;
  if (key in result) {
    throw new KayobeConfigError(field, `Programming error: duplicate interface configuration for ${device}: have ${Object.keys(result).join(', ')}`);
  }
  result[key] = unit;
}

/** `networkd_netdevs(names)`: VLAN devices, bridges, bonds, then OVS veth pairs. */
export function networkdNetdevs(host: KayobeHost, names: readonly string[]): NetworkdConfig {
  const prefix = host.vars.networkd_prefix;
  const result: Record<string, NetworkdUnit> = {};
  for (const name of netSelectVlanInterfaces(host, names)) {
    addToResult(result, prefix, getAndValidateInterface(host, name), vlanNetdev(host, name), `${name}_interface`);
  }
  for (const name of netSelectBridges(host, names)) {
    addToResult(result, prefix, getAndValidateInterface(host, name), bridgeNetdev(host, name), `${name}_interface`);
  }
  for (const name of netSelectBonds(host, names)) {
    addToResult(result, prefix, getAndValidateInterface(host, name), bondNetdev(host, name), `${name}_interface`);
  }
  for (const veth of getOvsVeths(host, names)) addToResult(result, prefix, veth.name, vethNetdev(veth), 'external_net_names');
  return result;
}

/** `networkd_links(names)`: a rename-by-MAC `.link` for each ethernet network with a `macaddress`. */
export function networkdLinks(host: KayobeHost, names: readonly string[]): NetworkdConfig {
  const prefix = host.vars.networkd_prefix;
  const result: Record<string, NetworkdUnit> = {};
  for (const name of netSelectEthers(host, names)) {
    const mac = netMacaddress(host, name);
    if (!mac) continue;
    const device = getAndValidateInterface(host, name);
    addToResult(result, prefix, device, filterOptions([{ Match: [{ PermanentMACAddress: mac }] }, { Link: [{ Name: device }] }]), `${name}_interface`);
  }
  return result;
}

function networkRoutes(routes: readonly (KayobeRoute | string)[] | undefined, tables: Map<string | number, string | number>, name: string): RawSection[] {
  return (routes ?? []).map((r) => {
    if (typeof r === 'string') throw new KayobeConfigError(`${name}_routes`, `Routes must be defined in dictionary format for systemd-networkd`);
    const table = r.table ?? undefined;
    return { Route: [{ Destination: r.cidr }, { Gateway: r.gateway ?? undefined }, { Table: table === undefined ? undefined : (tables.get(table) ?? table) }] };
  });
}

function networkRules(rules: readonly (KayobeRule | string)[] | undefined, tables: Map<string | number, string | number>, name: string): RawSection[] {
  for (const r of rules ?? []) {
    if (typeof r !== 'object' || r === null) {
      throw new KayobeConfigError(`${name}_rules`, 'Routing policy rules must be defined in dictionary format for systemd-networkd');
    }
  }
  return (rules as readonly KayobeRule[] | undefined ?? []).map((r) => {
    const table = r.table ?? undefined;
    return {
      RoutingPolicyRule: [
        { From: r.from ?? undefined },
        { To: r.to ?? undefined },
        { Priority: r.priority ?? undefined },
        { Table: table === undefined ? undefined : (tables.get(table) ?? table) },
      ],
    };
  });
}

/** `_network`: the `.network` of a configured network. */
function network(host: KayobeHost, name: string, bridge: string | undefined, bond: string | undefined, vlanInterfaces: readonly string[]): NetworkdUnit {
  const device = netInterface(host, name);
  let ip: string | undefined = netIp(host, name);
  let gateway = netGateway(host, name);
  if (ip === undefined) {
    gateway = undefined;
  } else {
    const cidr = netCidr(host, name);
    if (!cidr) throw new KayobeConfigError(`${name}_cidr`, `No CIDR attribute configured for '${name}' network but it has an IP address`);
    const c = parseCidrLoose(cidr);
    if (!c) throw new KayobeConfigError(`${name}_cidr`, `"${cidr}" is not an IPv4 network in CIDR notation`);
    ip = `${ip}/${c.prefix}`;
  }
  const bootproto = netBootproto(host, name);
  const defroute = netDefroute(host, name);
  const tables = routeTableIds(host);
  return filterOptions([
    { Match: [{ Name: device }] },
    {
      Network: [
        { Address: ip },
        { Gateway: gateway },
        { DHCP: bootproto && bootproto.toLowerCase() === 'dhcp' ? 'yes' : undefined },
        { UseGateway: defroute !== undefined && !ansibleBool(defroute) ? 'false' : undefined },
        { Bridge: bridge },
        { Bond: bond },
        ...vlanInterfaces.map((v) => ({ VLAN: v })),
      ],
    },
    { Link: [{ MTUBytes: netMtu(host, name) }, { RequiredForOnline: ip === undefined ? 'false' : undefined }] },
    ...networkRoutes(netRoutes(host, name), tables, name),
    ...networkRules(netRules(host, name), tables, name),
  ]);
}

function portNetwork(device: string, key: 'Bridge' | 'Bond' | undefined, master: string | undefined, mtu: number | undefined, vlanInterfaces: readonly string[]): NetworkdUnit {
  return filterOptions([
    { Match: [{ Name: device }] },
    { Network: [...(key ? [{ [key]: master }] : []), ...vlanInterfaces.map((v) => ({ VLAN: v }))] },
    { Link: [{ MTUBytes: mtu }] },
  ]);
}

/**
 * `networkd_networks(names)`: one `.network` per configured network, then implied VLAN parents,
 * unconfigured bridge ports and bond members, then both ends of each OVS veth pair.
 */
export function networkdNetworks(host: KayobeHost, names: readonly string[]): NetworkdConfig {
  const bridgePortToBridge = new Map<string, string>();
  const bondMemberToBond = new Map<string, string>();
  const interfaceToVlans = new Map<string, { device: string; mtu: number | undefined }[]>();
  const interfaces = names.map((n) => netInterface(host, n));

  for (const name of netSelectBridges(host, names)) {
    const device = getAndValidateInterface(host, name);
    for (const port of netBridgePorts(host, name) ?? []) bridgePortToBridge.set(port, device);
  }
  for (const name of netSelectBonds(host, names)) {
    const device = getAndValidateInterface(host, name);
    for (const member of netBondSlaves(host, name) ?? []) bondMemberToBond.set(member, device);
  }
  // Every network with a `vlan` attribute, even on an untagged device name (Kayobe's quirk, §3.3).
  for (const name of netSelectVlans(host, names)) {
    const device = getAndValidateInterface(host, name);
    const parent = getVlanParent(host, name, device, netVlan(host, name)!);
    const list = interfaceToVlans.get(parent) ?? [];
    list.push({ device, mtu: netMtu(host, name) });
    interfaceToVlans.set(parent, list);
  }
  const vlansOf = (device: string) => (interfaceToVlans.get(device) ?? []).map((v) => v.device);

  const prefix = host.vars.networkd_prefix;
  const result: Record<string, NetworkdUnit> = {};
  for (const name of names) {
    const device = getAndValidateInterface(host, name);
    addToResult(result, prefix, device, network(host, name, bridgePortToBridge.get(device), bondMemberToBond.get(device), vlansOf(device)), `${name}_interface`);
  }
  for (const [device, vlans] of interfaceToVlans) {
    if (interfaces.includes(device) || bridgePortToBridge.has(device) || bondMemberToBond.has(device)) continue;
    // Kayobe takes max() over the children's MTUs; unset MTUs are ignored here (Python would fail to compare None with an int).
    const mtus = vlans.map((v) => v.mtu).filter((m): m is number => m !== undefined);
    const mtu = mtus.length > 0 ? Math.max(...mtus) : undefined;
    addToResult(result, prefix, device, portNetwork(device, undefined, undefined, mtu, vlans.map((v) => v.device)), `${device}_interface`);
  }
  for (const name of netSelectBridges(host, names)) {
    const bridge = getAndValidateInterface(host, name);
    for (const port of unique(netBridgePorts(host, name) ?? [])) {
      if (interfaces.includes(port)) continue;
      addToResult(result, prefix, port, portNetwork(port, 'Bridge', bridge, netMtu(host, name), vlansOf(port)), `${name}_bridge_ports`);
    }
  }
  for (const name of netSelectBonds(host, names)) {
    const bond = getAndValidateInterface(host, name);
    for (const member of unique(netBondSlaves(host, name) ?? [])) {
      if (interfaces.includes(member)) continue;
      addToResult(result, prefix, member, portNetwork(member, 'Bond', bond, netMtu(host, name), vlansOf(member)), `${name}_bond_slaves`);
    }
  }
  for (const veth of getOvsVeths(host, names)) {
    addToResult(result, prefix, veth.name, portNetwork(veth.name, 'Bridge', veth.bridge, veth.mtu, []), 'external_net_names');
    const peer = filterOptions([{ Match: [{ Name: veth.peer }] }, { Network: [{ ConfigureWithoutCarrier: 'true' }] }, { Link: [{ MTUBytes: veth.mtu }] }]);
    addToResult(result, prefix, veth.peer, peer, 'external_net_names');
  }
  return result;
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** INI text of a unit: `[Section]` then `Option=value` lines, a blank line between sections. */
export function renderNetworkdUnit(unit: NetworkdUnit): string {
  const blocks = unit.flatMap((section) =>
    Object.entries(section).map(([name, options]) => [`[${name}]`, ...options.flatMap((o) => Object.entries(o).map(([k, v]) => `${k}=${v}`))].join('\n')),
  );
  return blocks.length === 0 ? '' : `${blocks.join('\n\n')}\n`;
}

export interface NetworkdFile {
  readonly path: string;
  readonly content: string;
}

/**
 * Every file for the host's networks under `dir`: `<key>.link`, `<key>.netdev`, `<key>.network`, where
 * `key` is `<networkd_prefix><device>`. Ordered by device name, then link, netdev, network.
 */
export function networkdFiles(host: KayobeHost, names: readonly string[], dir = '/etc/systemd/network'): NetworkdFile[] {
  const prefix = host.vars.networkd_prefix;
  const kinds: [string, NetworkdConfig][] = [
    ['link', networkdLinks(host, names)],
    ['netdev', networkdNetdevs(host, names)],
    ['network', networkdNetworks(host, names)],
  ];
  const files: { device: string; rank: number; path: string; content: string }[] = [];
  kinds.forEach(([ext, config], rank) => {
    for (const [key, unit] of Object.entries(config)) {
      files.push({ device: key.slice(prefix.length), rank, path: `${dir}/${key}.${ext}`, content: renderNetworkdUnit(unit) });
    }
  });
  files.sort((a, b) => (a.device === b.device ? a.rank - b.rank : a.device < b.device ? -1 : 1));
  return files.map(({ path, content }) => ({ path, content }));
}
