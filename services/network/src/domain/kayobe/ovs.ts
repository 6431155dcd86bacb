/**
 * Veth pairs that connect Linux bridges to Open vSwitch (reference/kayobe.md §3.5, `get_ovs_veths`).
 */
import { getAndValidateInterface, getVlanParent, netInterface, netMtu, netSelectBridges, netVlan, type KayobeHost } from './attributes';

/** Linux IFNAMSIZ - 1: the longest interface name. */
export const IFNAME_MAX = 15;

export interface OvsVeth {
  /** The end enslaved to the Linux bridge (`p-<bridge>-phy`). */
  readonly name: string;
  /** The end given to OVS (`p-<bridge>-ovs`), Kolla's `neutron_external_interface`. */
  readonly peer: string;
  readonly bridge: string;
  /** Maximum explicit MTU of the networks using this bridge; undefined if none sets one. */
  readonly mtu: number | undefined;
}

/** `prefix + device[:15 - len(prefix) - len(suffix)] + suffix`. */
export function patchName(device: string, prefix: string, suffix: string): string {
  return prefix + device.slice(0, Math.max(0, IFNAME_MAX - prefix.length - suffix.length)) + suffix;
}

/**
 * The networks that must reach OVS (provision_wl, cleaning and every external network) and are in
 * `names`; each whose device (or VLAN parent) is the interface of a bridge network gets one pair per bridge.
 */
export function getOvsVeths(host: KayobeHost, names: readonly string[]): OvsVeth[] {
  const v = host.vars;
  const vethNetworks = [v.provision_wl_net_name, v.cleaning_net_name, ...v.external_net_names];
  const bridgeInterfaces = netSelectBridges(host, names).map((n) => netInterface(host, n));
  const mtus = new Map<string, number | undefined>();
  for (const name of vethNetworks) {
    if (name === null || !names.includes(name)) continue;
    const device = getAndValidateInterface(host, name);
    const vlan = netVlan(host, name);
    const parentOrDevice = vlan ? getVlanParent(host, name, device, vlan) : device;
    if (!bridgeInterfaces.includes(parentOrDevice)) continue;
    const mtu = netMtu(host, name);
    if (!mtus.has(parentOrDevice)) mtus.set(parentOrDevice, mtu);
    if ((mtus.get(parentOrDevice) ?? 0) < (mtu ?? 0)) mtus.set(parentOrDevice, mtu);
  }
  return [...mtus].map(([bridge, mtu]) => ({
    name: patchName(bridge, v.network_patch_prefix, v.network_patch_suffix_phy),
    peer: patchName(bridge, v.network_patch_prefix, v.network_patch_suffix_ovs),
    bridge,
    mtu,
  }));
}

/** `net_ovs_veths`: the pairs in the shape of Kayobe's `veth` role (RedHat default engine). */
export function netOvsVeths(host: KayobeHost, names: readonly string[]) {
  return getOvsVeths(host, names).map((veth) => ({
    device: veth.name,
    bootproto: 'static',
    bridge: veth.bridge,
    mtu: veth.mtu,
    peer_device: veth.peer,
    peer_bootproto: 'static',
    peer_mtu: veth.mtu,
    onboot: 'yes',
  }));
}
