import type { Nic } from '@stackyard/proto/inventory/v1/inventory';
import type { RenderedFile } from '@stackyard/proto/network/v1/network';
import { ValidationError } from '@stackyard/errors';
import { kayobeHost, VLAN_INTERFACE_NAME, type KayobeHost, type KayobeNetworkAttrs } from './kayobe/attributes';
import { networkdFiles } from './kayobe/networkd';
import { IFNAME_MAX } from './kayobe/ovs';
import type { NetworkData } from './network';

export interface Attachment {
  readonly network: NetworkData;
  readonly address: string;
}

/** Resolves "{nicN}" against inspected NICs; an empty interface means the first NIC. */
export function resolveInterface(spec: string, nics: readonly Nic[]): string {
  const m = /^\{nic(\d)\}$/.exec(spec || '{nic0}');
  if (!m) return spec;
  const nic = nics[Number(m[1])];
  if (!nic) throw new ValidationError('network.interface', `${spec || '{nic0}'} refers to a NIC the host does not have (${nics.length} inspected)`);
  return nic.name;
}

/**
 * The Kayobe view of one host's attachments: each Stackyard network becomes a Kayobe network with its
 * `interface` resolved against the inspected NICs, and `<net>_ips` holding the host's address.
 *
 * Stackyard's one convenience over Kayobe: a network with a VLAN on a plain device (`{nic1}`, vlan 101)
 * is given the interface `<device>.<vlan>` (Kayobe's portable VLAN style, §3.3), so a VLAN device is
 * created; in Kayobe the `vlan` attribute alone does not create one.
 */
export function toKayobeHost(hostname: string, attachments: readonly Attachment[], nics: readonly Nic[], networkdPrefix = '50-kayobe-'): { host: KayobeHost; names: string[] } {
  const networks: Record<string, KayobeNetworkAttrs> = {};
  const byDevice = new Map<string, string>();
  for (const a of attachments) {
    const n = a.network;
    const base = resolveInterface(n.interface, nics);
    const device = n.vlan && !VLAN_INTERFACE_NAME.test(base) ? `${base}.${n.vlan}` : base;
    if (device.length > IFNAME_MAX) throw new ValidationError('network.interface', `interface name "${device}" is longer than ${IFNAME_MAX} characters`);
    const other = byDevice.get(device);
    if (other !== undefined) {
      throw new ValidationError('network.interface', `networks ${other} and ${n.name} both use interface ${device}; systemd-networkd (like Kayobe) configures one network per device`);
    }
    byDevice.set(device, n.name);
    const dotted = VLAN_INTERFACE_NAME.test(device) ? Number(device.slice(device.lastIndexOf('.') + 1)) : undefined;
    networks[n.name] = {
      interface: device,
      cidr: n.cidr,
      gateway: n.gateway || undefined,
      vlan: n.vlan || dotted,
      mtu: n.mtu || undefined,
      ips: { [hostname]: a.address },
    };
  }
  return { host: kayobeHost(hostname, networks, { vars: { external_net_names: [], networkd_prefix: networkdPrefix } }), names: attachments.map((a) => a.network.name) };
}

/**
 * systemd-networkd files for one host's attachments, exactly as Kayobe's networkd filters compute
 * them (§3.7, §4.3): `/etc/systemd/network/<prefix><device>.{link,netdev,network}`.
 */
export function renderNetworkd(hostname: string, attachments: readonly Attachment[], nics: readonly Nic[], prefix = '50-kayobe-'): RenderedFile[] {
  const { host, names } = toKayobeHost(hostname, attachments, nics, prefix);
  return networkdFiles(host, names);
}
