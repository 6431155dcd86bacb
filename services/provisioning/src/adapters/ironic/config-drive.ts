import type { ConfigDriveNetwork } from '../../application/ports';

/**
 * OpenStack network_data.json (the config drive format cloud-init and Glean read), built from the
 * NIC and admin address the deploy request carries, as Bifrost does from Kayobe's host_vars
 * (reference/kayobe.md §6.5): one physical link by MAC, a VLAN link on it when the network is
 * tagged, a static IPv4/IPv6 network with its default route (or DHCP without an address), and the
 * DNS servers.
 */
export interface NetworkData {
  links: Record<string, unknown>[];
  networks: Record<string, unknown>[];
  services: { type: 'dns'; address: string }[];
}

export function prefixToNetmask(prefix: number, ipv6: boolean): string {
  const bits = ipv6 ? 128 : 32;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) throw new RangeError(`prefix length ${prefix} is out of range 0-${bits}`);
  const mask: number[] = [];
  for (let i = 0; i < bits; i += ipv6 ? 16 : 8) {
    const width = ipv6 ? 16 : 8;
    const on = Math.max(0, Math.min(width, prefix - i));
    mask.push(on === 0 ? 0 : ((0xffff << (width - on)) & (ipv6 ? 0xffff : 0xff)));
  }
  return ipv6 ? mask.map((m) => m.toString(16)).join(':') : mask.join('.');
}

export function networkData(net: ConfigDriveNetwork): NetworkData {
  const mac = net.macAddress.toLowerCase();
  const mtu = net.mtu ?? 1500;
  const links: Record<string, unknown>[] = [{ id: 'port0', type: 'phy', ethernet_mac_address: mac, mtu }];
  let link = 'port0';
  if (net.vlan !== undefined && net.vlan > 0) {
    link = `vlan${net.vlan}`;
    links.push({ id: link, type: 'vlan', vlan_link: 'port0', vlan_id: net.vlan, vlan_mac_address: mac, mtu });
  }
  const networks: Record<string, unknown>[] = [];
  if (net.address) {
    const ipv6 = net.address.includes(':');
    const prefix = net.prefixLength ?? (ipv6 ? 64 : 24);
    const any = ipv6 ? '::' : '0.0.0.0';
    networks.push({
      id: 'network0',
      type: ipv6 ? 'ipv6' : 'ipv4',
      link,
      ip_address: net.address,
      netmask: prefixToNetmask(prefix, ipv6),
      routes: net.gateway ? [{ network: any, netmask: any, gateway: net.gateway }] : [],
      network_id: 'network0',
    });
  } else {
    networks.push({ id: 'network0', type: 'ipv4_dhcp', link, network_id: 'network0' });
  }
  return { links, networks, services: net.nameservers.map((address) => ({ type: 'dns' as const, address })) };
}
