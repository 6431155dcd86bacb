import type { Nic } from '@stackyard/proto/inventory/v1/inventory';
import type { RenderedFile } from '@stackyard/proto/network/v1/network';
import { ValidationError } from '@stackyard/errors';
import { kayobeHost, VLAN_INTERFACE_NAME, type KayobeHost, type KayobeNetworkAttrs } from './kayobe/attributes';
import { networkdFiles } from './kayobe/networkd';
import { nmKeyfiles } from './kayobe/nm-keyfile';
import { nmstateFiles } from './kayobe/nmstate';
import { IFNAME_MAX } from './kayobe/ovs';
import { kayobeAttrsOf, type NetworkData, type RouteTable } from './network';
import type { SiteRoles } from './roles';

export interface Attachment {
  readonly network: NetworkData;
  /** The host's address; undefined for a network that allocates none (`no_ip`, DHCP, no cidr). */
  readonly address: string | undefined;
}

/** Resolves "{nicN}" against inspected NICs; an empty interface means the first NIC. */
export function resolveInterface(spec: string, nics: readonly Nic[], field = 'network.interface'): string {
  const m = /^\{nic(\d)\}$/.exec(spec || '{nic0}');
  if (!m) return spec;
  const nic = nics[Number(m[1])];
  if (!nic) throw new ValidationError(field, `${spec || '{nic0}'} refers to a NIC the host does not have (${nics.length} inspected)`);
  return nic.name;
}

export interface KayobeHostOptions {
  readonly networkdPrefix?: string;
  /** The site's roles: `external_net_names`, `provision_wl_net_name` and `cleaning_net_name` drive the OVS veths. */
  readonly roles?: SiteRoles;
  /** Kayobe's `ansible_facts.os_family`; it decides `bridge_stp` when unset. Default Debian. */
  readonly osFamily?: 'Debian' | 'RedHat';
}

/**
 * The Kayobe view of one host's attachments: each Stackyard network becomes a Kayobe network with its
 * interface-valued attributes (`interface`, `parent`, bridge ports, bond slaves) resolved against the
 * inspected NICs, its Kayobe attributes as they are, and `<net>_ips` holding the host's address.
 *
 * Stackyard's one convenience over Kayobe: a network with a VLAN on a plain device (`{nic1}`, vlan 101;
 * no parent, not a bridge or bond) is given the interface `<device>.<vlan>` (Kayobe's portable VLAN
 * style, §3.3), so a VLAN device is created; in Kayobe the `vlan` attribute alone does not create one.
 * The host's `network_route_tables` is the union of its networks' tables.
 */
export function toKayobeHost(hostname: string, attachments: readonly Attachment[], nics: readonly Nic[], opts: KayobeHostOptions | string = {}): { host: KayobeHost; names: string[] } {
  const o: KayobeHostOptions = typeof opts === 'string' ? { networkdPrefix: opts } : opts;
  const networks: Record<string, KayobeNetworkAttrs> = {};
  const byDevice = new Map<string, string>();
  const tables = new Map<string, RouteTable>();
  for (const a of attachments) {
    const n = a.network;
    const k = n.kayobe ?? {};
    const base = resolveInterface(n.interface, nics);
    const plain = !k.parent && k.bridge_ports === undefined && k.bond_slaves === undefined;
    const device = n.vlan && plain && !VLAN_INTERFACE_NAME.test(base) ? `${base}.${n.vlan}` : base;
    if (device.length > IFNAME_MAX) throw new ValidationError('network.interface', `interface name "${device}" is longer than ${IFNAME_MAX} characters`);
    const other = byDevice.get(device);
    if (other !== undefined) {
      throw new ValidationError('network.interface', `networks ${other} and ${n.name} both use interface ${device}; systemd-networkd (like Kayobe) configures one network per device`);
    }
    byDevice.set(device, n.name);
    const dotted = VLAN_INTERFACE_NAME.test(device) ? Number(device.slice(device.lastIndexOf('.') + 1)) : undefined;
    for (const t of k.route_tables ?? []) tables.set(t.name, t);
    const attrs: KayobeNetworkAttrs = kayobeAttrsOf(n);
    networks[n.name] = clean({
      ...attrs,
      interface: device,
      vlan: n.vlan || dotted,
      parent: k.parent ? resolveInterface(k.parent, nics, 'network.kayobe.parent') : undefined,
      bridge_ports: k.bridge_ports?.map((p, i) => resolveInterface(p, nics, `network.kayobe.bridge.ports[${i}]`)),
      bond_slaves: k.bond_slaves?.map((p, i) => resolveInterface(p, nics, `network.kayobe.bond.slaves[${i}]`)),
      ips: a.address === undefined ? undefined : { [hostname]: a.address },
    });
  }
  const r = o.roles;
  const host = kayobeHost(hostname, networks, {
    osFamily: o.osFamily,
    vars: {
      external_net_names: r?.external_net_names ?? [],
      provision_wl_net_name: r?.provision_wl_net_name ?? null,
      cleaning_net_name: r?.cleaning_net_name ?? null,
      networkd_prefix: o.networkdPrefix ?? '50-kayobe-',
      network_route_tables: [...tables.values()].sort((x, y) => x.id - y.id),
    },
  });
  return { host, names: attachments.map((a) => a.network.name) };
}

/** Drops unset attributes, so a host's attribute map shows only what is set. */
function clean(a: KayobeNetworkAttrs): KayobeNetworkAttrs {
  return Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined && v !== null && v !== '')) as KayobeNetworkAttrs;
}

/**
 * systemd-networkd files for one host's attachments, exactly as Kayobe's networkd filters compute
 * them (§3.7, §4.3): `/etc/systemd/network/<prefix><device>.{link,netdev,network}`.
 */
export function renderNetworkd(hostname: string, attachments: readonly Attachment[], nics: readonly Nic[], opts: KayobeHostOptions | string = {}): RenderedFile[] {
  const { host, names } = toKayobeHost(hostname, attachments, nics, opts);
  return networkdFiles(host, names);
}

/**
 * The renderers a host's network can be written with:
 * - `networkd`: Kayobe's systemd-networkd engine (Debian/Ubuntu default), `.link`/`.netdev`/`.network` files;
 * - `nmstate`: Kayobe's nmstate engine (`network_engine: nmstate`, RedHat family), one state file for
 *   nmstate.service under /etc/nmstate;
 * - `nm-keyfile`: Stackyard's NetworkManager keyfiles with the nmstate engine's semantics, one
 *   `.nmconnection` per device.
 */
export const NETWORK_ENGINES = ['networkd', 'nmstate', 'nm-keyfile'] as const;
export type NetworkEngine = (typeof NETWORK_ENGINES)[number];
export const DEFAULT_NETWORK_ENGINE: NetworkEngine = 'networkd';

/**
 * The files of one host's attachments for `engine`. The OS family defaults to what the engine runs on
 * (Debian for networkd, RedHat for nmstate and keyfiles, where an unset `bridge_stp` means STP off).
 */
export function renderHostNetwork(engine: NetworkEngine, hostname: string, attachments: readonly Attachment[], nics: readonly Nic[], opts: KayobeHostOptions = {}): RenderedFile[] {
  const osFamily = opts.osFamily ?? (engine === 'networkd' ? 'Debian' : 'RedHat');
  const { host, names } = toKayobeHost(hostname, attachments, nics, { ...opts, osFamily });
  switch (engine) {
    case 'networkd':
      return networkdFiles(host, names);
    case 'nmstate':
      return nmstateFiles(host, names);
    case 'nm-keyfile':
      return nmKeyfiles(host, names);
  }
}
