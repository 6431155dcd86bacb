/**
 * NetworkManager connection profiles in keyfile format
 * (`/etc/NetworkManager/system-connections/<device>.nmconnection`, see nm-settings-keyfile(5)).
 *
 * Kayobe has no keyfile engine of its own: on RHEL 9 its default engine writes keyfiles through the
 * MichaelRigart.interfaces role, and its nmstate engine has libnmstate create the profiles. This is
 * Stackyard's own renderer. It follows NetworkManager's keyfile format and takes every decision from
 * Kayobe's nmstate semantics (nmstate.ts: interface types, ports, MTU rules, VLAN ids and parents,
 * QoS maps, ethtool, OVS veths, routes and rules with their validation and error messages), so the
 * same host attributes give the same devices under either engine. Choices of its own:
 *
 * - `uuid` is a name-based (version 5, SHA-1) UUID of `<inventory host>/<device>` in a Stackyard
 *   namespace, so renders are stable and a re-render replaces the profile NetworkManager knows.
 * - Ports (bridge ports, bond slaves, the veth's `-phy` end) name their controller with
 *   `master`/`slave-type`, which every NetworkManager reads (`controller`/`port-type` are the names
 *   since 1.46; `controllerKeys: true` writes those), and carry no IP settings.
 * - A default route goes to `gateway=` when the profile has static addresses, else to a route entry.
 *   `defroute: false` writes `never-default=true` (and DHCP also gets `ignore-auto-routes=true`).
 * - A routing rule without `priority` gets `32765 - <its index in the profile>` (NetworkManager needs
 *   a priority; the value follows the interfaces role Kayobe uses on RHEL) and one without `table`
 *   gets the main table, 254.
 * - `macaddress` binds an ethernet profile to the device with that permanent MAC (`mac-address`);
 *   `cloned-mac-address` would change the device's MAC instead, which is not what Kayobe's
 *   attribute means.
 * - ethtool `rx-max`/`tx-max` have no NetworkManager setting and are not written.
 * - A VLAN's parent that no network configures gets a profile with IP disabled, so it is brought up.
 */
import { createHash } from 'node:crypto';
import type { KayobeHost } from './attributes';
import { defaultIfaceType, nmstateConfigWithExtras, type NmstateInterface, type NmstateRoute, type NmstateRouteRule } from './nmstate';

export type NmKeyfileSection = readonly [name: string, entries: readonly (readonly [key: string, value: string])[]];

/** One connection profile: its device and the keyfile sections in order. */
export interface NmConnection {
  readonly device: string;
  readonly sections: readonly NmKeyfileSection[];
}

export interface NmKeyfileOptions {
  /** Default `/etc/NetworkManager/system-connections`. */
  readonly dir?: string;
  /** Write `controller`/`port-type` (NetworkManager 1.46+) instead of `master`/`slave-type`. */
  readonly controllerKeys?: boolean;
}

export const NM_CONNECTIONS_DIR = '/etc/NetworkManager/system-connections';

/** Stackyard's namespace for keyfile connection UUIDs (a fixed random UUID). */
const UUID_NAMESPACE = '6b1f3c2e-9a4d-4e7b-8c5a-1d2e3f4a5b6c';

/** RFC 4122 name-based UUID, version 5 (SHA-1), of `name` in `namespace`. */
export function uuidV5(name: string, namespace = UUID_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const b = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The stable UUID of a host's connection for a device. */
export const nmConnectionUuid = (inventoryHostname: string, device: string) => uuidV5(`${inventoryHostname}/${device}`);

const NM_TYPES: Readonly<Record<string, string>> = { ethernet: 'ethernet', dummy: 'dummy', vlan: 'vlan', 'linux-bridge': 'bridge', bond: 'bond', veth: 'veth' };
/** nmstate (kernel) feature names to NetworkManager's ethtool keys. */
const NM_FEATURES: Readonly<Record<string, string>> = {
  'rx-checksum': 'feature-rx',
  'rx-gro': 'feature-gro',
  'tx-generic-segmentation': 'feature-gso',
  'rx-lro': 'feature-lro',
  'tx-checksum-ip-generic': 'feature-tx-checksum-ip-generic',
  'hw-tc-offload': 'feature-hw-tc-offload',
};
const NM_RINGS: Readonly<Record<string, string>> = { rx: 'ring-rx', tx: 'ring-tx', 'rx-jumbo': 'ring-rx-jumbo', 'rx-mini': 'ring-rx-mini' };
const MAIN_TABLE = 254;

type Entries = [string, string][];

/**
 * The NetworkManager connection profiles of the host's networks `names`: one per device of Kayobe's
 * nmstate document, in its order (members before what uses them).
 */
export function nmConnections(host: KayobeHost, names: readonly string[], opts: NmKeyfileOptions = {}): NmConnection[] {
  const { state, extras } = nmstateConfigWithExtras(host, names);
  const controllers = new Map<string, { controller: string; kind: 'bridge' | 'bond' }>();
  for (const i of state.interfaces) {
    for (const p of i.bridge?.port ?? []) controllers.set(p.name, { controller: i.name, kind: 'bridge' });
    for (const p of i['link-aggregation']?.port ?? []) controllers.set(p, { controller: i.name, kind: 'bond' });
  }
  const routesOf = new Map<string, NmstateRoute[]>();
  for (const r of state.routes.config) {
    const dev = r['next-hop-interface'] ?? '';
    routesOf.set(dev, [...(routesOf.get(dev) ?? []), r]);
  }
  const rulesOf = new Map<string, NmstateRouteRule[]>();
  state['route-rules'].config.forEach((r, i) => {
    const dev = extras.ruleDevices[i]!;
    rulesOf.set(dev, [...(rulesOf.get(dev) ?? []), r]);
  });

  return state.interfaces.map((iface) => {
    const type = NM_TYPES[iface.type ?? defaultIfaceType(iface.name)] ?? iface.type!;
    const port = controllers.get(iface.name);
    const connection: Entries = [
      ['id', iface.name],
      ['uuid', nmConnectionUuid(host.inventoryHostname, iface.name)],
      ['type', type],
      ['interface-name', iface.name],
      ['autoconnect', 'true'],
    ];
    const zone = extras.zone.get(iface.name);
    if (zone) connection.push(['zone', zone]);
    if (port) {
      connection.push(opts.controllerKeys ? ['controller', port.controller] : ['master', port.controller]);
      connection.push(opts.controllerKeys ? ['port-type', port.kind] : ['slave-type', port.kind]);
    }
    const sections: [string, Entries][] = [['connection', connection]];
    const ethernet: Entries = [];
    if (iface.mtu) ethernet.push(['mtu', String(iface.mtu)]);
    const mac = extras.macaddress.get(iface.name);
    if (mac && type === 'ethernet') ethernet.push(['mac-address', mac.toUpperCase()]);
    sections.push(['ethernet', ethernet]);
    sections.push(...typeSections(iface));
    if (!port) {
      sections.push(['ipv4', ipv4Entries(iface, routesOf.get(iface.name) ?? [], rulesOf.get(iface.name) ?? [], extras.noDefaultRoute.has(iface.name))]);
      sections.push(['ipv6', [['method', 'disabled']]]);
    }
    return { device: iface.name, sections: sections.filter(([, e]) => e.length > 0) };
  });
}

function typeSections(iface: NmstateInterface): [string, Entries][] {
  const out: [string, Entries][] = [];
  if (iface.vlan) {
    const v = iface.vlan;
    const map = (m: readonly { from: number; to: number }[] | undefined) => (m ? m.map((e) => `${e.from}:${e.to};`).join('') : undefined);
    const entries: Entries = [
      ['parent', v['base-iface']],
      ['id', String(v.id)],
    ];
    const ingress = map(v['ingress-qos-map']);
    const egress = map(v['egress-qos-map']);
    if (ingress) entries.push(['ingress-priority-map', ingress]);
    if (egress) entries.push(['egress-priority-map', egress]);
    out.push(['vlan', entries]);
  }
  if (iface.bridge) out.push(['bridge', iface.bridge.options ? [['stp', String(iface.bridge.options.stp.enabled)]] : []]);
  const bond = iface['link-aggregation'];
  if (bond) out.push(['bond', [['mode', bond.mode], ...Object.entries(bond.options ?? {}).map(([k, v]): [string, string] => [k, String(v)])]]);
  if (iface.veth) out.push(['veth', [['peer', iface.veth.peer]]]);
  if (iface.ethtool) {
    const entries: Entries = [];
    for (const [f, on] of Object.entries(iface.ethtool.feature ?? {})) entries.push([NM_FEATURES[f] ?? `feature-${f}`, String(on)]);
    for (const [r, n] of Object.entries(iface.ethtool.ring ?? {})) {
      const key = NM_RINGS[r];
      if (key) entries.push([key, String(n)]);
    }
    out.push(['ethtool', entries]);
  }
  return out;
}

function ipv4Entries(iface: NmstateInterface, routes: readonly NmstateRoute[], rules: readonly NmstateRouteRule[], neverDefault: boolean): Entries {
  const ip = iface.ipv4;
  const entries: Entries = [];
  const addresses = ip?.enabled && !ip.dhcp ? (ip.address ?? []) : [];
  if (!ip?.enabled) entries.push(['method', 'disabled']);
  else if (ip.dhcp) {
    entries.push(['method', 'auto']);
    if (ip['auto-routes'] === false) entries.push(['ignore-auto-routes', 'true']);
  } else {
    entries.push(['method', 'manual']);
    addresses.forEach((a, i) => entries.push([`address${i + 1}`, `${a.ip}/${a['prefix-length'] ?? 32}`]));
  }
  let rest = routes;
  const dflt = routes.find((r) => r.destination === '0.0.0.0/0' && r['next-hop-address'] && r.metric === undefined && r['table-id'] === undefined && !r.source && !r['on-link']);
  if (dflt && addresses.length > 0) {
    entries.push(['gateway', dflt['next-hop-address']!]);
    rest = routes.filter((r) => r !== dflt);
  }
  if (neverDefault) entries.push(['never-default', 'true']);
  rest.forEach((r, i) => {
    const gw = r['next-hop-address'] ?? (r.metric !== undefined ? '0.0.0.0' : undefined);
    entries.push([`route${i + 1}`, [r.destination, ...(gw !== undefined ? [gw] : []), ...(r.metric !== undefined ? [String(r.metric)] : [])].join(',')]);
    const options = [
      ...(r['table-id'] !== undefined ? [`table=${r['table-id']}`] : []),
      ...(r['on-link'] !== undefined ? [`onlink=${r['on-link']}`] : []),
      ...(r.source !== undefined ? [`src=${r.source}`] : []),
    ];
    if (options.length > 0) entries.push([`route${i + 1}_options`, options.join(',')]);
  });
  rules.forEach((r, i) => {
    const parts = [`priority ${r.priority ?? 32765 - i}`];
    if (r['ip-from'] !== undefined) parts.push(`from ${r['ip-from']}`);
    if (r['ip-to'] !== undefined) parts.push(`to ${r['ip-to']}`);
    parts.push(`table ${r['route-table'] ?? MAIN_TABLE}`);
    entries.push([`routing-rule${i + 1}`, parts.join(' ')]);
  });
  return entries;
}

/** A profile as keyfile text: `[section]` then `key=value` lines, a blank line between sections. */
export function renderNmKeyfile(c: NmConnection): string {
  return `${c.sections.map(([name, entries]) => [`[${name}]`, ...entries.map(([k, v]) => `${k}=${v}`)].join('\n')).join('\n\n')}\n`;
}

/** Every profile of the host's networks as `<dir>/<device>.nmconnection` (NetworkManager wants them mode 0600). */
export function nmKeyfiles(host: KayobeHost, names: readonly string[], opts: NmKeyfileOptions = {}): { path: string; content: string }[] {
  const dir = opts.dir ?? NM_CONNECTIONS_DIR;
  return nmConnections(host, names, opts).map((c) => ({ path: `${dir}/${c.device}.nmconnection`, content: renderNmKeyfile(c) }));
}
