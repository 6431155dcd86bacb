/**
 * Kayobe's nmstate engine (`network_engine: nmstate`, the `nmstate_config` filter; reference/kayobe.md
 * §3.7 "nmstate generation", tests §4.4): the desired state of one host's networks, in nmstate's
 * schema, as a pure function of the host's Kayobe attributes. Kayobe hands the document to libnmstate;
 * `renderNmstateYaml` writes it as the YAML `nmstatectl apply` (or nmstate.service from /etc/nmstate)
 * takes. Errors are KayobeConfigError with Kayobe's ValueError texts.
 *
 * Engine rules, as Kayobe implements them:
 * - one interface entry per device; several networks on one device add addresses to it;
 * - networks without an interface are skipped silently (the other engines fail);
 * - a bridge's or bond's members that are not networks are created as `dummy` (name starting with
 *   `dummy`) or `ethernet`, unless `<net>_port_type_<port>` / `<net>_slave_type_<slave>` say otherwise,
 *   and take the bridge's or bond's MTU;
 * - a VLAN on a bridge with the same MTU carries no MTU (NetworkManager bug LP#2039947);
 * - interfaces are ordered ethernet/dummy, bond, veth, vlan, linux-bridge, others, so that members
 *   come before what uses them.
 */
import {
  ansibleBool,
  getVlanParent,
  netAttr,
  netBondSlaves,
  netBootproto,
  netBridgePorts,
  netBridgeStp,
  netDefroute,
  netGateway,
  netInterface,
  netInterfaceType,
  netIp,
  netIsVlanInterface,
  netMacaddress,
  netMtu,
  netPrefix,
  netRoutes,
  netRules,
  netSelectBridges,
  netVlan,
  routeTableIds,
  VLAN_INTERFACE_NAME,
  type KayobeHost,
  type KayobeRule,
} from './attributes';
import { KayobeConfigError } from './errors';
import { getOvsVeths } from './ovs';

export interface NmstateAddress {
  readonly ip: string;
  readonly 'prefix-length'?: number;
}

export interface NmstateIpConfig {
  enabled: boolean;
  dhcp?: boolean;
  'auto-routes'?: boolean;
  address?: NmstateAddress[];
}

export interface NmstateQosEntry {
  readonly from: number;
  readonly to: number;
}

export interface NmstateInterface {
  name: string;
  state: 'up';
  /** Absent for a VLAN's parent that no network configures (nmstate then uses the existing device). */
  type?: string;
  mtu?: number;
  ipv4?: NmstateIpConfig;
  ipv6?: { enabled: false };
  bridge?: { port: { name: string }[]; options?: { stp: { enabled: boolean } } };
  'link-aggregation'?: { port: string[]; mode: string; options?: Record<string, string | number> };
  vlan?: { 'base-iface': string; id: number; 'ingress-qos-map'?: NmstateQosEntry[]; 'egress-qos-map'?: NmstateQosEntry[] };
  veth?: { peer: string };
  ethtool?: { ring?: Record<string, number>; feature?: Record<string, boolean> };
}

export interface NmstateRoute {
  destination: string;
  'next-hop-address'?: string;
  'next-hop-interface'?: string;
  metric?: number;
  source?: string;
  'on-link'?: boolean;
  'table-id'?: number;
}

export interface NmstateRouteRule {
  'ip-from'?: string;
  'ip-to'?: string;
  priority?: number;
  'route-table'?: number;
}

/** `nmstate_config(names)`: what Kayobe passes to `libnmstate.apply`. */
export interface NmstateState {
  readonly interfaces: NmstateInterface[];
  readonly routes: { readonly config: NmstateRoute[] };
  readonly 'route-rules': { readonly config: NmstateRouteRule[] };
}

/** Kayobe's aliases for ethtool features (documented ones only). */
export const ETHTOOL_FEATURE_ALIASES: Readonly<Record<string, string>> = { rx: 'rx-checksum', gro: 'rx-gro', gso: 'tx-generic-segmentation', lro: 'rx-lro' };
/** The ethtool features Kayobe accepts ("Tier 1"), canonical names. */
export const ETHTOOL_FEATURES = ['rx-checksum', 'tx-checksum-ip-generic', 'rx-gro', 'tx-generic-segmentation', 'rx-lro', 'hw-tc-offload'] as const;
/** The ethtool ring parameters Kayobe accepts. */
export const ETHTOOL_RING_PARAMS = ['rx', 'tx', 'rx-max', 'tx-max', 'rx-jumbo', 'rx-mini'] as const;

const MAX_U32 = 2 ** 32 - 1;
const MAX_VLAN_PRIORITY = 7;

/** Python's `type(v).__name__`, for messages that quote it. */
function pyType(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

/** Python's `str(v)` for the scalars Kayobe's messages format in. */
function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

/** Python truthiness of a YAML value. */
const pyTruthy = (v: unknown): boolean =>
  Array.isArray(v) ? v.length > 0 : isDict(v) ? Object.keys(v).length > 0 : Boolean(v);
const isDict = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Python `isinstance(v, int)` without bool (Kayobe excludes it where it matters). */
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const sorted = (xs: Iterable<string>) => [...xs].sort();

/** Python's `int(v)` for an int or a decimal string. */
function pyInt(v: unknown, field: string): number {
  if (isInt(v)) return v;
  if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return Number(v);
  throw new KayobeConfigError(field, `invalid literal for int() with base 10: '${pyStr(v)}'`);
}

function ethtoolRing(ring: unknown): Record<string, number> {
  if (!isDict(ring)) throw new Error('Ethtool ring configuration must be a dictionary');
  const unsupported = Object.keys(ring).filter((k) => !(ETHTOOL_RING_PARAMS as readonly string[]).includes(k));
  if (unsupported.length > 0) {
    throw new Error(`Unsupported ring parameters: ${sorted(unsupported).join(', ')}. Supported parameters: ${sorted(ETHTOOL_RING_PARAMS).join(', ')}`);
  }
  // Kayobe uses isinstance(value, int), which also lets booleans through; Stackyard rejects them.
  for (const [param, value] of Object.entries(ring)) {
    if (!isInt(value) || value < 0) throw new Error(`Ring parameter '${param}' must be a non-negative integer, got ${pyStr(value)}`);
  }
  return { ...(ring as Record<string, number>) };
}

function ethtoolFeatures(features: unknown): Record<string, boolean> {
  if (!isDict(features)) throw new Error('Ethtool features must be a dictionary');
  const resolved: Record<string, boolean> = {};
  for (const [key, value] of Object.entries(features)) {
    if (typeof value !== 'boolean') throw new Error(`Ethtool feature '${key}' must be boolean, got ${pyType(value)}`);
    resolved[ETHTOOL_FEATURE_ALIASES[key] ?? key] = value;
  }
  const unsupported = Object.keys(resolved).filter((k) => !(ETHTOOL_FEATURES as readonly string[]).includes(k));
  if (unsupported.length > 0) {
    const aliases = Object.entries(ETHTOOL_FEATURE_ALIASES)
      .map(([a, c]) => `${a} -> ${c}`)
      .join(', ');
    throw new Error(`Unsupported ethtool features: ${sorted(unsupported).join(', ')}. Tier 1 supported features: ${sorted(ETHTOOL_FEATURES).join(', ')}. Supported aliases: ${aliases}`);
  }
  return resolved;
}

/**
 * `_process_ethtool_config`: `ring` validated as is, `feature` with aliases resolved. Errors carry
 * Kayobe's text, prefixed `Invalid ethtool configuration for network '<n>': `.
 */
export function nmstateEthtool(name: string, config: unknown): NmstateInterface['ethtool'] {
  try {
    if (!isDict(config)) throw new Error('Ethtool configuration must be a dictionary');
    const out: NonNullable<NmstateInterface['ethtool']> = {};
    if ('ring' in config) out.ring = ethtoolRing(config['ring']);
    if ('feature' in config) out.feature = ethtoolFeatures(config['feature']);
    return out;
  } catch (e) {
    if (e instanceof KayobeConfigError) throw e;
    throw new KayobeConfigError(`${name}_ethtool_config`, `Invalid ethtool configuration for network '${name}': ${(e as Error).message}`);
  }
}

/** `_validate_and_sort_vlan_qos_map`: a list of `{from, to}`, sorted by (from, to). */
export function nmstateQosMap(name: string, direction: 'ingress' | 'egress', raw: unknown): NmstateQosEntry[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const field = `${name}_${direction}_qos_map`;
  const fail = (msg: string): never => {
    throw new KayobeConfigError(field, msg);
  };
  const what = `Network '${name}' has invalid ${direction} QoS map`;
  if (!Array.isArray(raw)) fail(`${what} format '${pyType(raw)}'. Expected a list of dicts with keys 'from' and 'to'.`);
  const value = (v: unknown, key: 'from' | 'to'): number => {
    if (!isInt(v)) return fail(`${what} '${key}' value '${pyStr(v)}'. Expected an integer.`);
    if (v < 0 || v > MAX_U32) fail(`${what} '${key}' value '${v}'. Expected a value in range 0..${MAX_U32}.`);
    if (direction === 'ingress' && key === 'from' && v > MAX_VLAN_PRIORITY) fail(`${what} 'from' value '${v}'. Maximum VLAN priority is ${MAX_VLAN_PRIORITY}.`);
    if (direction === 'egress' && key === 'to' && v > MAX_VLAN_PRIORITY) fail(`${what} 'to' value '${v}'. Maximum VLAN priority is ${MAX_VLAN_PRIORITY}.`);
    return v;
  };
  const out = (raw as unknown[]).map((entry) => {
    if (!isDict(entry)) return fail(`${what} entry format. Expected a dict with keys 'from' and 'to'.`);
    if (!('from' in entry) || !('to' in entry)) return fail(`${what} entry. Required keys are 'from' and 'to'.`);
    return { from: value(entry['from'], 'from'), to: value(entry['to'], 'to') };
  });
  return out.sort((a, b) => a.from - b.from || a.to - b.to);
}

const ROUTE_KEYS = ['cidr', 'gateway', 'metric', 'onlink', 'options', 'src', 'table'];

/** `_parse_route_options`: metric, src and onlink from keys and from `options` strings, which must agree. */
function routeOptions(name: string, index: number, route: Record<string, unknown>): Pick<NmstateRoute, 'metric' | 'source' | 'on-link'> {
  const field = `${name}_routes`;
  const where = `at index ${index} for the nmstate engine`;
  const unsupported = sorted(Object.keys(route).filter((k) => !ROUTE_KEYS.includes(k)));
  if (unsupported.length > 0) throw new KayobeConfigError(field, `Network '${name}' has unsupported routing route keys ${where}: ${unsupported.join(', ')}`);
  const out: { metric?: number; source?: string; 'on-link'?: boolean } = {};
  if (route['metric'] !== undefined && route['metric'] !== null) out.metric = pyInt(route['metric'], field);
  if (route['src'] !== undefined && route['src'] !== null) out.source = String(route['src']);
  if (route['onlink'] !== undefined && route['onlink'] !== null) out['on-link'] = ansibleBool(route['onlink']);
  const options = route['options'];
  if (options === undefined || options === null) return out;
  if (!Array.isArray(options)) throw new KayobeConfigError(field, `Network '${name}' has invalid routing route options format ${where}. Route options must be a list.`);
  for (const option of options as unknown[]) {
    if (typeof option !== 'string') throw new KayobeConfigError(field, `Network '${name}' has invalid routing route option ${where}. Route options must be strings.`);
    let key: 'on-link' | 'metric' | 'source';
    let value: boolean | number | string;
    if (option === 'onlink') {
      key = 'on-link';
      value = true;
    } else if (option.startsWith('metric ')) {
      key = 'metric';
      value = pyInt(option.slice('metric '.length).trim(), field);
    } else if (option.startsWith('src ')) {
      key = 'source';
      value = option.slice('src '.length).trim();
    } else {
      throw new KayobeConfigError(field, `Network '${name}' has unsupported routing route option ${where}: '${option}'`);
    }
    const existing = out[key];
    if (existing !== undefined && existing !== value) throw new KayobeConfigError(field, `Network '${name}' has conflicting routing route option ${where}: '${option}'`);
    (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** A route or rule table: a `network_route_tables` name or a number, as an integer id. */
function tableId(tables: Map<string | number, string | number>, table: string | number, field: string): number {
  const id = tables.get(table) ?? table;
  if (typeof id === 'string') {
    if (/^\d+$/.test(id)) return Number(id);
    throw new KayobeConfigError(field, `Routing table '${table}' is not defined in network_route_tables and is not a valid numeric table ID`);
  }
  return pyInt(id, field);
}

/** `_default_iface_type`: Kayobe's dummy-interface regex `dummy.*`, else ethernet. */
export function defaultIfaceType(name: string): 'dummy' | 'ethernet' {
  return name.startsWith('dummy') ? 'dummy' : 'ethernet';
}

const TYPE_ORDER: Readonly<Record<string, number>> = { dummy: 0, ethernet: 0, bond: 1, veth: 2, vlan: 3, 'linux-bridge': 4 };

/** What the NetworkManager keyfile renderer needs beyond the nmstate document, per device. */
export interface NmstateExtras {
  /** Index-aligned with `state['route-rules'].config`: the device whose network defines the rule. */
  readonly ruleDevices: readonly string[];
  /** Devices with a network whose `defroute` is false. */
  readonly noDefaultRoute: ReadonlySet<string>;
  /** `macaddress` of ethernet networks, by device. */
  readonly macaddress: ReadonlyMap<string, string>;
  /** `zone` (firewalld) by device. */
  readonly zone: ReadonlyMap<string, string>;
}

/** `nmstate_config` plus the per-device facts it drops; see {@link nmstateConfig}. */
export function nmstateConfigWithExtras(host: KayobeHost, names: readonly string[]): { state: NmstateState; extras: NmstateExtras } {
  const interfaces = new Map<string, NmstateInterface>();
  const routes: NmstateRoute[] = [];
  const rules: NmstateRouteRule[] = [];
  const ruleDevices: string[] = [];
  const noDefaultRoute = new Set<string>();
  const macaddress = new Map<string, string>();
  const zone = new Map<string, string>();
  const tables = routeTableIds(host);
  const getIface = (n: string): NmstateInterface => {
    let i = interfaces.get(n);
    if (!i) {
      i = { name: n, state: 'up' };
      interfaces.set(n, i);
    }
    return i;
  };
  // Bridge devices and their MTUs, for the VLAN-on-bridge MTU rule (computed when a VLAN needs it, as Kayobe does).
  let bridgeMtus: Map<string | undefined, number | undefined> | undefined;
  const bridgeMtu = (device: string) => {
    bridgeMtus ??= new Map(netSelectBridges(host, names).map((b) => [netInterface(host, b), netMtu(host, b)]));
    return { isBridge: bridgeMtus.has(device), mtu: bridgeMtus.get(device) };
  };

  for (const name of names) {
    const device = netInterface(host, name);
    if (!device) continue;
    const iface = getIface(device);
    const mtu = netMtu(host, name);
    if (mtu) iface.mtu = mtu;

    const rawDefroute = netDefroute(host, name);
    const defroute = rawDefroute === undefined ? undefined : ansibleBool(rawDefroute);
    if (defroute === false) noDefaultRoute.add(device);
    const ipv4 = ipConfig(host, name, defroute);
    if (ipv4.enabled) {
      if (!iface.ipv4 || !iface.ipv4.enabled) iface.ipv4 = ipv4;
      else if (!ipv4.dhcp) (iface.ipv4.address ??= []).push(...(ipv4.address ?? []));
    }
    const z = netAttr(host, name, 'zone');
    if (z) zone.set(device, z);

    const gateway = netGateway(host, name);
    if (gateway && defroute !== false) routes.push({ destination: '0.0.0.0/0', 'next-hop-address': gateway, 'next-hop-interface': device });

    (netRoutes(host, name) ?? []).forEach((route, i) => {
      if (!isDict(route)) {
        throw new KayobeConfigError(
          `${name}_routes`,
          `Network '${name}' has invalid routing route format at index ${i} for the nmstate engine. Routes must use dict format. String format routes are only supported by the default network engine.`,
        );
      }
      const r = route as unknown as Record<string, unknown>;
      if (r['cidr'] === undefined || r['cidr'] === null) throw new KayobeConfigError(`${name}_routes`, `Network '${name}' has a route without a cidr at index ${i}`);
      const config: NmstateRoute = { destination: String(r['cidr']), 'next-hop-interface': device };
      if (r['gateway'] !== undefined && r['gateway'] !== null) config['next-hop-address'] = String(r['gateway']);
      Object.assign(config, routeOptions(name, i, r));
      if (r['table'] !== undefined && r['table'] !== null) config['table-id'] = tableId(tables, r['table'] as string | number, `${name}_routes`);
      routes.push(config);
    });

    for (const r of netRules(host, name) ?? []) {
      if (!isDict(r)) {
        throw new KayobeConfigError(
          `${name}_rules`,
          `Network '${name}' has invalid routing rule format for the nmstate engine. Rules must use dict format (keys: from, to, priority, table). String format rules are only supported by the default network engine.`,
        );
      }
      const rule = r as KayobeRule;
      const config: NmstateRouteRule = {};
      if (rule.from !== undefined && rule.from !== null) config['ip-from'] = rule.from;
      if (rule.to !== undefined && rule.to !== null) config['ip-to'] = rule.to;
      if (rule.priority !== undefined && rule.priority !== null) config.priority = pyInt(rule.priority, `${name}_rules`);
      if (rule.table !== undefined && rule.table !== null) config['route-table'] = tableId(tables, rule.table, `${name}_rules`);
      rules.push(config);
      ruleDevices.push(device);
    }

    const kind = netInterfaceType(host, name);
    if (kind === 'bridge') {
      iface.type = 'linux-bridge';
      const ports = netBridgePorts(host, name) ?? [];
      const stp = netBridgeStp(host, name);
      iface.bridge = { port: ports.map((p) => ({ name: p })), ...(stp !== undefined ? { options: { stp: { enabled: stp === 'true' } } } : {}) };
      for (const port of ports) member(getIface(port), netAttr(host, name, `port_type_${port}`), port, mtu);
    } else if (kind === 'bond') {
      iface.type = 'bond';
      const slaves = netBondSlaves(host, name) ?? [];
      // nmstate requires a mode; Kayobe defaults to balance-rr, which needs no switch configuration.
      iface['link-aggregation'] = { port: [...slaves], mode: netAttr(host, name, 'bond_mode') ?? 'balance-rr' };
      const options = bondOptions(host, name);
      if (Object.keys(options).length > 0) iface['link-aggregation'].options = options;
      for (const slave of slaves) member(getIface(slave), netAttr(host, name, `slave_type_${slave}`), slave, mtu);
    } else if (netIsVlanInterface(host, name)) {
      iface.type = 'vlan';
      // Unset, the id comes from the `<parent>.<id>` name (a VLAN interface without `vlan` has such a name).
      const vlan = netVlan(host, name) ?? (VLAN_INTERFACE_NAME.test(device) ? device.slice(device.lastIndexOf('.') + 1) : undefined);
      if (vlan === undefined) continue;
      const parent = getVlanParent(host, name, device, vlan);
      const parentBridge = bridgeMtu(parent);
      if (parentBridge.isBridge && mtu && mtu === parentBridge.mtu) delete iface.mtu;
      iface.vlan = { 'base-iface': parent, id: pyInt(vlan, `${name}_vlan`) };
      const ingress = nmstateQosMap(name, 'ingress', netAttr(host, name, 'ingress_qos_map'));
      if (ingress) iface.vlan['ingress-qos-map'] = ingress;
      const egress = nmstateQosMap(name, 'egress', netAttr(host, name, 'egress_qos_map'));
      if (egress) iface.vlan['egress-qos-map'] = egress;
      getIface(parent);
    } else {
      iface.type ??= netAttr(host, name, 'type') || defaultIfaceType(device);
      const mac = netMacaddress(host, name);
      if (mac) macaddress.set(device, mac);
      const ethtool = netAttr(host, name, 'ethtool_config');
      if (pyTruthy(ethtool)) {
        const processed = nmstateEthtool(name, ethtool);
        if (processed && Object.keys(processed).length > 0) iface.ethtool = processed;
      }
    }
  }

  // Veth pairs from Linux bridges into OVS (§3.5): the -phy end joins the bridge.
  for (const veth of getOvsVeths(host, names)) {
    const bridge = getIface(veth.bridge);
    bridge.type = 'linux-bridge';
    bridge.bridge ??= { port: [] };
    if (!bridge.bridge.port.some((p) => p.name === veth.name)) bridge.bridge.port.push({ name: veth.name });
    for (const [end, peer] of [
      [veth.name, veth.peer],
      [veth.peer, veth.name],
    ] as const) {
      const i = getIface(end);
      i.type = 'veth';
      i.veth = { peer };
      if (veth.mtu) i.mtu = veth.mtu;
      i.ipv4 = { enabled: false };
      i.ipv6 = { enabled: false };
    }
  }

  const ordered = [...interfaces.values()].sort((a, b) => (TYPE_ORDER[a.type ?? 'ethernet'] ?? 5) - (TYPE_ORDER[b.type ?? 'ethernet'] ?? 5));
  return {
    state: {
      interfaces: ordered,
      // Kayobe keeps only routes with a next hop (address or interface); every route here has its interface.
      routes: { config: routes.filter((r) => r['next-hop-address'] !== undefined || r['next-hop-interface'] !== undefined) },
      'route-rules': { config: rules },
    },
    extras: { ruleDevices, noDefaultRoute, macaddress, zone },
  };
}

/** A bridge port or bond slave: typed once (explicit type or dummy/ethernet), the master's MTU unless it has one. */
function member(port: NmstateInterface, explicitType: string | undefined, name: string, mtu: number | undefined): void {
  if (port.type === undefined) port.type = explicitType || defaultIfaceType(name);
  if (mtu && port.mtu === undefined) port.mtu = mtu;
}

/** `_get_ip_config`: DHCP, a static address with its prefix, or nothing. */
function ipConfig(host: KayobeHost, name: string, defroute: boolean | undefined): NmstateIpConfig {
  if (netBootproto(host, name) === 'dhcp') return { enabled: true, dhcp: true, ...(defroute === false ? { 'auto-routes': false } : {}) };
  const ip = netIp(host, name);
  if (!ip) return { enabled: false };
  const prefix = netPrefix(host, name);
  return { enabled: true, dhcp: false, address: [{ ip, ...(prefix ? { 'prefix-length': Number(prefix) } : {}) }] };
}

/** `_get_bond_options`: the bond attributes that are set, under nmstate's option names, values as given. */
function bondOptions(host: KayobeHost, name: string): Record<string, string | number> {
  const map = [
    ['bond_ad_select', 'ad_select'],
    ['bond_downdelay', 'downdelay'],
    ['bond_lacp_rate', 'lacp_rate'],
    ['bond_miimon', 'miimon'],
    ['bond_updelay', 'updelay'],
    ['bond_xmit_hash_policy', 'xmit_hash_policy'],
  ] as const;
  const out: Record<string, string | number> = {};
  for (const [attr, option] of map) {
    const v = netAttr(host, name, attr);
    if (v !== undefined) out[option] = v;
  }
  return out;
}

/**
 * `nmstate_config(names)`: `{interfaces, routes: {config}, "route-rules": {config}}` for the host's
 * networks `names`, exactly as Kayobe computes it (reference/kayobe.md §3.7, §4.4).
 */
export function nmstateConfig(host: KayobeHost, names: readonly string[]): NmstateState {
  return nmstateConfigWithExtras(host, names).state;
}

/** A plain scalar YAML reads back as the same string (no number, boolean, null, `:` or indicator). */
const PLAIN = /^[A-Za-z0-9_/][A-Za-z0-9_./+-]*$/;
const NOT_A_STRING = /^([-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+|\.(inf|nan)|true|false|yes|no|on|off|y|n|null|~)$/i;

function yamlScalar(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  const s = String(v);
  return PLAIN.test(s) && !NOT_A_STRING.test(s) ? s : JSON.stringify(s);
}

/** Block-style YAML of plain data (maps, lists, scalars; undefined entries left out), two-space indents. */
function yamlLines(v: unknown, pad: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v as unknown[]) {
      if (item !== null && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length > 0) {
        const inner: string[] = [];
        yamlLines(item, `${pad}  `, inner);
        out.push(`${pad}- ${inner[0]!.slice(pad.length + 2)}`, ...inner.slice(1));
      } else if (Array.isArray(item) || (item !== null && typeof item === 'object')) {
        out.push(`${pad}- ${Array.isArray(item) ? '[]' : '{}'}`);
      } else out.push(`${pad}- ${yamlScalar(item)}`);
    }
    return;
  }
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    const key = `${pad}${yamlScalar(k)}:`;
    if (Array.isArray(x)) {
      if (x.length === 0) out.push(`${key} []`);
      else {
        out.push(key);
        yamlLines(x, `${pad}  `, out);
      }
    } else if (x !== null && typeof x === 'object') {
      if (Object.values(x).every((y) => y === undefined)) out.push(`${key} {}`);
      else {
        out.push(key);
        yamlLines(x, `${pad}  `, out);
      }
    } else out.push(`${key} ${yamlScalar(x)}`);
  }
}

/**
 * The document as YAML, in Kayobe's key order, for `nmstatectl apply` or /etc/nmstate. A small
 * emitter for this schema (maps, lists, strings, numbers, booleans): strings that YAML would read as
 * anything else are double-quoted. About 20 times faster than a general YAML library.
 */
export function renderNmstateYaml(state: NmstateState): string {
  const out: string[] = [];
  yamlLines(state, '', out);
  return `${out.join('\n')}\n`;
}

/** Where nmstate.service picks up state files (it applies every `*.yml` there at boot). */
export const NMSTATE_DIR = '/etc/nmstate';

/** The host's state as one file, `<dir>/<networkd_prefix>network.yml` (e.g. `/etc/nmstate/50-kayobe-network.yml`). */
export function nmstateFiles(host: KayobeHost, names: readonly string[], dir = NMSTATE_DIR): { path: string; content: string }[] {
  return [{ path: `${dir}/${host.vars.networkd_prefix}network.yml`, content: renderNmstateYaml(nmstateConfig(host, names)) }];
}
