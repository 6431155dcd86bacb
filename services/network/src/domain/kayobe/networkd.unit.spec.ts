/**
 * Golden tests from reference/kayobe.md §4.3 (Kayobe's test_networkd.py, os_family Debian) and §3.4/§3.6:
 * every expected unit is written out literally in Kayobe's data format.
 */
import { describe, expect, it } from 'vitest';
import { kayobeHost, type KayobeNetworkAttrs, type KayobeNetworkVars } from './attributes';
import { KayobeConfigError } from './errors';
import { networkdFiles, networkdLinks, networkdNetdevs, networkdNetworks, renderNetworkdUnit } from './networkd';

const FIXTURE: Record<string, KayobeNetworkAttrs> = {
  net1: { interface: 'eth0', cidr: '1.2.3.0/24', ips: { 'test-host': '1.2.3.4' }, macaddress: 'aa:bb:cc:dd:ee:ff' },
  net2: { interface: 'eth0.2', vlan: 2 },
  net3: { interface: 'br0', bridge_ports: ['eth0', 'eth1'] },
  net4: { interface: 'bond0', bond_slaves: ['eth0', 'eth1'] },
  net5: { interface: 'vlan.5', parent: 'eth0', vlan: 5 },
  net6: { interface: 'vlan6', parent: 'eth0', vlan: 6 },
};

function host(patch: Record<string, KayobeNetworkAttrs | null> = {}, vars: Partial<KayobeNetworkVars> = {}) {
  const networks: Record<string, KayobeNetworkAttrs> = { ...FIXTURE };
  for (const [n, a] of Object.entries(patch)) {
    if (a === null) delete networks[n];
    else networks[n] = { ...networks[n], ...a };
  }
  return kayobeHost('test-host', networks, { vars: { external_net_names: [], ...vars } });
}

function kayobeError(fn: () => unknown): KayobeConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KayobeConfigError);
    return e as KayobeConfigError;
  }
  throw new Error('expected a KayobeConfigError');
}

describe('networkd_netdevs (§4.3)', () => {
  it('[] -> {}; [net1] -> {}; net1 with vlan 42 on an untagged name -> {}', () => {
    expect(networkdNetdevs(host(), [])).toEqual({});
    expect(networkdNetdevs(host(), ['net1'])).toEqual({});
    expect(networkdNetdevs(host({ net1: { vlan: 42 } }), ['net1'])).toEqual({});
  });

  it('[net2] -> a VLAN netdev eth0.2 with Id 2', () => {
    expect(networkdNetdevs(host(), ['net2'])).toEqual({
      '50-kayobe-eth0.2': [{ NetDev: [{ Name: 'eth0.2' }, { Kind: 'vlan' }] }, { VLAN: [{ Id: 2 }] }],
    });
  });

  it('[net2] with MTU 1400 and QoS maps -> MTUBytes, IngressQOSMaps "3-12 7-254", EgressQOSMaps "129-7 130-6"', () => {
    const h = host({
      net2: {
        mtu: 1400,
        egress_qos_map: [
          { from: 129, to: 7 },
          { from: 130, to: 6 },
        ],
        ingress_qos_map: [
          { from: 3, to: 12 },
          { from: 7, to: 254 },
        ],
      },
    });
    expect(networkdNetdevs(h, ['net2'])).toEqual({
      '50-kayobe-eth0.2': [
        { NetDev: [{ Name: 'eth0.2' }, { Kind: 'vlan' }, { MTUBytes: 1400 }] },
        { VLAN: [{ Id: 2 }, { IngressQOSMaps: '3-12 7-254' }, { EgressQOSMaps: '129-7 130-6' }] },
      ],
    });
  });

  it('[net2] without an interface raises', () => {
    expect(kayobeError(() => networkdNetdevs(host({ net2: { interface: null } }), ['net2'])).kayobeMessage).toBe(
      "Network interface for network 'net2' on host 'test-host' not found",
    );
  });

  it('[net1, net2, net5, net6] -> netdevs for eth0.2 (Id 2), vlan.5 (Id 5) and vlan6 (Id 6)', () => {
    expect(networkdNetdevs(host(), ['net1', 'net2', 'net5', 'net6'])).toEqual({
      '50-kayobe-eth0.2': [{ NetDev: [{ Name: 'eth0.2' }, { Kind: 'vlan' }] }, { VLAN: [{ Id: 2 }] }],
      '50-kayobe-vlan.5': [{ NetDev: [{ Name: 'vlan.5' }, { Kind: 'vlan' }] }, { VLAN: [{ Id: 5 }] }],
      '50-kayobe-vlan6': [{ NetDev: [{ Name: 'vlan6' }, { Kind: 'vlan' }] }, { VLAN: [{ Id: 6 }] }],
    });
  });

  it('[net3] -> a bridge netdev; with MTU 1400 and STP true -> MTUBytes and [Bridge] STP "true"', () => {
    expect(networkdNetdevs(host(), ['net3'])).toEqual({ '50-kayobe-br0': [{ NetDev: [{ Name: 'br0' }, { Kind: 'bridge' }] }] });
    expect(networkdNetdevs(host({ net3: { mtu: 1400, bridge_stp: true } }), ['net3'])).toEqual({
      '50-kayobe-br0': [{ NetDev: [{ Name: 'br0' }, { Kind: 'bridge' }, { MTUBytes: 1400 }] }, { Bridge: [{ STP: 'true' }] }],
    });
  });

  it('a bridge without an interface raises; vlan 42 on a bridge makes no VLAN netdev', () => {
    expect(() => networkdNetdevs(host({ net3: { interface: null } }), ['net3'])).toThrow(KayobeConfigError);
    expect(networkdNetdevs(host({ net3: { vlan: 42 } }), ['net3'])).toEqual({ '50-kayobe-br0': [{ NetDev: [{ Name: 'br0' }, { Kind: 'bridge' }] }] });
  });

  it('[net4] -> a bond netdev; with every option -> Bond Mode/TransmitHashPolicy/LACPTransmitRate/MIIMonitorSec 0.1/UpDelaySec 0.2/DownDelaySec 0.3', () => {
    expect(networkdNetdevs(host(), ['net4'])).toEqual({ '50-kayobe-bond0': [{ NetDev: [{ Name: 'bond0' }, { Kind: 'bond' }] }] });
    const h = host({ net4: { mtu: 1400, bond_mode: '802.3ad', bond_miimon: 100, bond_updelay: 200, bond_downdelay: 300, bond_xmit_hash_policy: 'layer3+4', bond_lacp_rate: 60 } });
    expect(networkdNetdevs(h, ['net4'])).toEqual({
      '50-kayobe-bond0': [
        { NetDev: [{ Name: 'bond0' }, { Kind: 'bond' }, { MTUBytes: 1400 }] },
        { Bond: [{ Mode: '802.3ad' }, { TransmitHashPolicy: 'layer3+4' }, { LACPTransmitRate: 60 }, { MIIMonitorSec: 0.1 }, { UpDelaySec: 0.2 }, { DownDelaySec: 0.3 }] },
      ],
    });
  });

  it('a bond without an interface raises; vlan 42 on a bond makes no VLAN netdev', () => {
    expect(() => networkdNetdevs(host({ net4: { interface: null } }), ['net4'])).toThrow(KayobeConfigError);
    expect(networkdNetdevs(host({ net4: { vlan: 42 } }), ['net4'])).toEqual({ '50-kayobe-bond0': [{ NetDev: [{ Name: 'bond0' }, { Kind: 'bond' }] }] });
  });

  it('external [net3] -> the bridge netdev plus a veth netdev p-br0-phy with peer p-br0-ovs; no interface raises', () => {
    expect(networkdNetdevs(host({}, { external_net_names: ['net3'] }), ['net3'])).toEqual({
      '50-kayobe-br0': [{ NetDev: [{ Name: 'br0' }, { Kind: 'bridge' }] }],
      '50-kayobe-p-br0-phy': [{ NetDev: [{ Name: 'p-br0-phy' }, { Kind: 'veth' }] }, { Peer: [{ Name: 'p-br0-ovs' }] }],
    });
    expect(() => networkdNetdevs(host({ net3: { interface: null } }, { external_net_names: ['net3'] }), ['net3'])).toThrow(KayobeConfigError);
  });
});

describe('networkd_links (§4.3)', () => {
  it('[net2] -> {}; [net1] -> rename by permanent MAC', () => {
    expect(networkdLinks(host(), ['net2'])).toEqual({});
    expect(networkdLinks(host(), ['net1'])).toEqual({
      '50-kayobe-eth0': [{ Match: [{ PermanentMACAddress: 'aa:bb:cc:dd:ee:ff' }] }, { Link: [{ Name: 'eth0' }] }],
    });
  });
});

describe('networkd_networks (§4.3)', () => {
  it('[] -> {}; [net1] -> Match Name eth0 and Network Address 1.2.3.4/24', () => {
    expect(networkdNetworks(host(), [])).toEqual({});
    expect(networkdNetworks(host(), ['net1'])).toEqual({ '50-kayobe-eth0': [{ Match: [{ Name: 'eth0' }] }, { Network: [{ Address: '1.2.3.4/24' }] }] });
  });

  it('net1 with every option -> gateway, DHCP, UseGateway false, MTU, routes (table names translated) and rules', () => {
    const h = host(
      {
        net1: {
          gateway: '1.2.3.1',
          mtu: 1400,
          routes: [{ cidr: '1.2.4.0/24' }, { cidr: '1.2.5.0/24', gateway: '1.2.5.1' }, { cidr: '1.2.6.0/24', table: 42 }],
          rules: [
            { from: '1.2.7.0/24', table: 43 },
            { to: '1.2.8.0/24', table: 44, priority: 1 },
          ],
          bootproto: 'dhcp',
          defroute: 'no',
        },
      },
    );
    expect(networkdNetworks(h, ['net1'])).toEqual({
      '50-kayobe-eth0': [
        { Match: [{ Name: 'eth0' }] },
        { Network: [{ Address: '1.2.3.4/24' }, { Gateway: '1.2.3.1' }, { DHCP: 'yes' }, { UseGateway: 'false' }] },
        { Link: [{ MTUBytes: 1400 }] },
        { Route: [{ Destination: '1.2.4.0/24' }] },
        { Route: [{ Destination: '1.2.5.0/24' }, { Gateway: '1.2.5.1' }] },
        { Route: [{ Destination: '1.2.6.0/24' }, { Table: 42 }] },
        { RoutingPolicyRule: [{ From: '1.2.7.0/24' }, { Table: 43 }] },
        { RoutingPolicyRule: [{ To: '1.2.8.0/24' }, { Priority: 1 }, { Table: 44 }] },
      ],
    });
  });

  it('translates route table names through network_route_tables and passes unknown names through (§3.6)', () => {
    const h = host(
      { net1: { routes: [{ cidr: '1.2.4.0/24', table: 'mgmt' }, { cidr: '1.2.5.0/24', table: 'other' }], rules: [{ from: '1.2.7.0/24', table: 'mgmt' }] } },
      { network_route_tables: [{ id: 100, name: 'mgmt' }] },
    );
    expect(networkdNetworks(h, ['net1'])['50-kayobe-eth0']?.slice(2)).toEqual([
      { Route: [{ Destination: '1.2.4.0/24' }, { Table: 100 }] },
      { Route: [{ Destination: '1.2.5.0/24' }, { Table: 'other' }] },
      { RoutingPolicyRule: [{ From: '1.2.7.0/24' }, { Table: 100 }] },
    ]);
  });

  it('a string rule raises Kayobe\'s systemd-networkd message (§3.6)', () => {
    const e = kayobeError(() => networkdNetworks(host({ net1: { rules: ['from 1.2.7.0/24 table 43'] } }), ['net1']));
    expect(e.kayobeMessage).toBe('Routing policy rules must be defined in dictionary format for systemd-networkd');
    expect(e.field).toBe('net1_rules');
  });

  it('an IP without a cidr raises "No CIDR attribute configured"', () => {
    const e = kayobeError(() => networkdNetworks(host({ net1: { cidr: null } }), ['net1']));
    expect(e.kayobeMessage).toBe("No CIDR attribute configured for 'net1' network but it has an IP address");
  });

  it('[net2] -> implied parent eth0 with VLAN eth0.2, and eth0.2 RequiredForOnline false', () => {
    expect(networkdNetworks(host(), ['net2'])).toEqual({
      '50-kayobe-eth0.2': [{ Match: [{ Name: 'eth0.2' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
      '50-kayobe-eth0': [{ Match: [{ Name: 'eth0' }] }, { Network: [{ VLAN: 'eth0.2' }] }],
    });
  });

  it('[net2, net5 as eth0.3/vlan 3] -> eth0 carries both VLANs; both RequiredForOnline false (story 2009013)', () => {
    const h = host({ net5: { interface: 'eth0.3', vlan: 3, parent: null } });
    expect(networkdNetworks(h, ['net2', 'net5'])).toEqual({
      '50-kayobe-eth0.2': [{ Match: [{ Name: 'eth0.2' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
      '50-kayobe-eth0.3': [{ Match: [{ Name: 'eth0.3' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
      '50-kayobe-eth0': [{ Match: [{ Name: 'eth0' }] }, { Network: [{ VLAN: 'eth0.2' }, { VLAN: 'eth0.3' }] }],
    });
  });

  it('[net1, net2, net5, net6] -> eth0 with its address and three VLANs, each VLAN RequiredForOnline false', () => {
    expect(networkdNetworks(host(), ['net1', 'net2', 'net5', 'net6'])).toEqual({
      '50-kayobe-eth0': [{ Match: [{ Name: 'eth0' }] }, { Network: [{ Address: '1.2.3.4/24' }, { VLAN: 'eth0.2' }, { VLAN: 'vlan.5' }, { VLAN: 'vlan6' }] }],
      '50-kayobe-eth0.2': [{ Match: [{ Name: 'eth0.2' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
      '50-kayobe-vlan.5': [{ Match: [{ Name: 'vlan.5' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
      '50-kayobe-vlan6': [{ Match: [{ Name: 'vlan6' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
    });
  });

  it('[net3] -> br0 RequiredForOnline false; eth0 and eth1 Bridge br0', () => {
    expect(networkdNetworks(host(), ['net3'])).toEqual({
      '50-kayobe-br0': [{ Match: [{ Name: 'br0' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
      '50-kayobe-eth0': [{ Match: [{ Name: 'eth0' }] }, { Network: [{ Bridge: 'br0' }] }],
      '50-kayobe-eth1': [{ Match: [{ Name: 'eth1' }] }, { Network: [{ Bridge: 'br0' }] }],
    });
  });

  it('[net1 (MTU 1400, no ips), net3] -> eth0 Bridge br0 with MTUBytes 1400 and RequiredForOnline false; eth1 Bridge br0', () => {
    expect(networkdNetworks(host({ net1: { mtu: 1400, ips: null } }), ['net1', 'net3'])).toEqual({
      '50-kayobe-eth0': [{ Match: [{ Name: 'eth0' }] }, { Network: [{ Bridge: 'br0' }] }, { Link: [{ MTUBytes: 1400 }, { RequiredForOnline: 'false' }] }],
      '50-kayobe-br0': [{ Match: [{ Name: 'br0' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
      '50-kayobe-eth1': [{ Match: [{ Name: 'eth1' }] }, { Network: [{ Bridge: 'br0' }] }],
    });
  });

  it('[net2 as eth1.2, net3] -> eth1 Bridge br0 and VLAN eth1.2; eth1.2 RequiredForOnline false', () => {
    expect(networkdNetworks(host({ net2: { interface: 'eth1.2' } }), ['net2', 'net3'])).toEqual({
      '50-kayobe-eth1.2': [{ Match: [{ Name: 'eth1.2' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
      '50-kayobe-br0': [{ Match: [{ Name: 'br0' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
      '50-kayobe-eth0': [{ Match: [{ Name: 'eth0' }] }, { Network: [{ Bridge: 'br0' }] }],
      '50-kayobe-eth1': [{ Match: [{ Name: 'eth1' }] }, { Network: [{ Bridge: 'br0' }, { VLAN: 'eth1.2' }] }],
    });
  });

  it('[net1 (no ips), net2 (eth0.2), net3] -> eth0 Bridge br0 and VLAN eth0.2, RequiredForOnline false', () => {
    const r = networkdNetworks(host({ net1: { ips: null } }), ['net1', 'net2', 'net3']);
    expect(r['50-kayobe-eth0']).toEqual([{ Match: [{ Name: 'eth0' }] }, { Network: [{ Bridge: 'br0' }, { VLAN: 'eth0.2' }] }, { Link: [{ RequiredForOnline: 'false' }] }]);
  });

  it('[net4] -> bond0 RequiredForOnline false; eth0 and eth1 Bond bond0', () => {
    expect(networkdNetworks(host(), ['net4'])).toEqual({
      '50-kayobe-bond0': [{ Match: [{ Name: 'bond0' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
      '50-kayobe-eth0': [{ Match: [{ Name: 'eth0' }] }, { Network: [{ Bond: 'bond0' }] }],
      '50-kayobe-eth1': [{ Match: [{ Name: 'eth1' }] }, { Network: [{ Bond: 'bond0' }] }],
    });
  });

  it('[net1 (MTU 1400, no ips), net4] -> eth0 Bond bond0 with MTUBytes 1400 and RequiredForOnline false', () => {
    const r = networkdNetworks(host({ net1: { mtu: 1400, ips: null } }), ['net1', 'net4']);
    expect(r['50-kayobe-eth0']).toEqual([{ Match: [{ Name: 'eth0' }] }, { Network: [{ Bond: 'bond0' }] }, { Link: [{ MTUBytes: 1400 }, { RequiredForOnline: 'false' }] }]);
    expect(r['50-kayobe-eth1']).toEqual([{ Match: [{ Name: 'eth1' }] }, { Network: [{ Bond: 'bond0' }] }]);
  });

  it('a VLAN on bond member eth1.2 -> eth1 Bond bond0 and VLAN eth1.2', () => {
    const r = networkdNetworks(host({ net2: { interface: 'eth1.2' } }), ['net2', 'net4']);
    expect(r['50-kayobe-eth1']).toEqual([{ Match: [{ Name: 'eth1' }] }, { Network: [{ Bond: 'bond0' }, { VLAN: 'eth1.2' }] }]);
    expect(r['50-kayobe-eth1.2']).toEqual([{ Match: [{ Name: 'eth1.2' }] }, { Link: [{ RequiredForOnline: 'false' }] }]);
  });

  it('veth: external [net3] with ports [] -> br0 RequiredForOnline false, p-br0-phy Bridge br0, p-br0-ovs ConfigureWithoutCarrier true', () => {
    expect(networkdNetworks(host({ net3: { bridge_ports: [] } }, { external_net_names: ['net3'] }), ['net3'])).toEqual({
      '50-kayobe-br0': [{ Match: [{ Name: 'br0' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
      '50-kayobe-p-br0-phy': [{ Match: [{ Name: 'p-br0-phy' }] }, { Network: [{ Bridge: 'br0' }] }],
      '50-kayobe-p-br0-ovs': [{ Match: [{ Name: 'p-br0-ovs' }] }, { Network: [{ ConfigureWithoutCarrier: 'true' }] }],
    });
  });

  it('veth with MTU 1400 -> br0 MTUBytes 1400 and RequiredForOnline false; both veth ends MTUBytes 1400', () => {
    expect(networkdNetworks(host({ net3: { bridge_ports: [], mtu: 1400 } }, { external_net_names: ['net3'] }), ['net3'])).toEqual({
      '50-kayobe-br0': [{ Match: [{ Name: 'br0' }] }, { Link: [{ MTUBytes: 1400 }, { RequiredForOnline: 'false' }] }],
      '50-kayobe-p-br0-phy': [{ Match: [{ Name: 'p-br0-phy' }] }, { Network: [{ Bridge: 'br0' }] }, { Link: [{ MTUBytes: 1400 }] }],
      '50-kayobe-p-br0-ovs': [{ Match: [{ Name: 'p-br0-ovs' }] }, { Network: [{ ConfigureWithoutCarrier: 'true' }] }, { Link: [{ MTUBytes: 1400 }] }],
    });
  });

  it('veth on a VLAN: provision_wl = net7 (br0.42, vlan 42) -> br0 VLAN br0.42, br0.42 RequiredForOnline false, pair on br0', () => {
    const h = host({ net3: { bridge_ports: [] }, net7: { interface: 'br0.42', vlan: 42 } }, { provision_wl_net_name: 'net7' });
    expect(networkdNetworks(h, ['net3', 'net7'])).toEqual({
      '50-kayobe-br0': [{ Match: [{ Name: 'br0' }] }, { Network: [{ VLAN: 'br0.42' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
      '50-kayobe-br0.42': [{ Match: [{ Name: 'br0.42' }] }, { Link: [{ RequiredForOnline: 'false' }] }],
      '50-kayobe-p-br0-phy': [{ Match: [{ Name: 'p-br0-phy' }] }, { Network: [{ Bridge: 'br0' }] }],
      '50-kayobe-p-br0-ovs': [{ Match: [{ Name: 'p-br0-ovs' }] }, { Network: [{ ConfigureWithoutCarrier: 'true' }] }],
    });
  });

  it('external [net1] (ethernet) -> only eth0 with its address; a VLAN on ethernet -> no veth', () => {
    expect(networkdNetworks(host({}, { external_net_names: ['net1'] }), ['net1'])).toEqual({
      '50-kayobe-eth0': [{ Match: [{ Name: 'eth0' }] }, { Network: [{ Address: '1.2.3.4/24' }] }],
    });
    expect(Object.keys(networkdNetworks(host({}, { external_net_names: ['net2'] }), ['net2']))).toEqual(['50-kayobe-eth0.2', '50-kayobe-eth0']);
  });

  it.each(['net1', 'net2', 'net3', 'net4'])('%s without an interface raises', (n) => {
    expect(kayobeError(() => networkdNetworks(host({ [n]: { interface: null } }), [n])).kayobeMessage).toBe(`Network interface for network '${n}' on host 'test-host' not found`);
  });

  it('implied VLAN parents take the largest child MTU: eth5.10 MTU 1400 + eth5.20 MTU 9000 -> eth5 MTU 9000 (§3.4 probe)', () => {
    const h = kayobeHost('h', { a: { interface: 'eth5.10', vlan: 10, mtu: 1400 }, b: { interface: 'eth5.20', vlan: 20, mtu: 9000 } });
    expect(networkdNetworks(h, ['a', 'b'])['50-kayobe-eth5']).toEqual([
      { Match: [{ Name: 'eth5' }] },
      { Network: [{ VLAN: 'eth5.10' }, { VLAN: 'eth5.20' }] },
      { Link: [{ MTUBytes: 9000 }] },
    ]);
  });

  it('vlan on an untagged name maps the device onto itself: VLAN=eth0 inside eth0 (§3.3 probe quirk)', () => {
    const h = kayobeHost('h', { a: { interface: 'eth0', vlan: 42 } });
    expect(networkdNetworks(h, ['a'])).toEqual({ '50-kayobe-eth0': [{ Match: [{ Name: 'eth0' }] }, { Network: [{ VLAN: 'eth0' }] }, { Link: [{ RequiredForOnline: 'false' }] }] });
  });

  it('two networks on one device is Kayobe\'s duplicate-configuration error', () => {
    const h = kayobeHost('h', { a: { interface: 'eth0' }, b: { interface: 'eth0' } });
    expect(kayobeError(() => networkdNetworks(h, ['a', 'b'])).kayobeMessage).toMatch(/^Programming error: duplicate interface configuration for eth0/);
  });

  it('uses networkd_prefix for keys', () => {
    expect(Object.keys(networkdNetworks(host({}, { networkd_prefix: '10-sy-' }), ['net1']))).toEqual(['10-sy-eth0']);
  });
});

describe('rendered files', () => {
  it('renders INI sections separated by blank lines', () => {
    expect(renderNetworkdUnit([{ NetDev: [{ Name: 'eth0.2' }, { Kind: 'vlan' }, { MTUBytes: 1400 }] }, { VLAN: [{ Id: 2 }] }])).toBe(
      '[NetDev]\nName=eth0.2\nKind=vlan\nMTUBytes=1400\n\n[VLAN]\nId=2\n',
    );
  });

  it('Given the fixture [net1, net2, net3-with-veth], then the files are ordered by device, then .link, .netdev, .network', () => {
    const h = host({ net1: { interface: 'eth2' }, net3: { bridge_ports: ['eth1'] } }, { external_net_names: ['net3'] });
    const files = networkdFiles(h, ['net1', 'net2', 'net3']);
    expect(files.map((f) => f.path)).toEqual([
      '/etc/systemd/network/50-kayobe-br0.netdev',
      '/etc/systemd/network/50-kayobe-br0.network',
      '/etc/systemd/network/50-kayobe-eth0.network',
      '/etc/systemd/network/50-kayobe-eth0.2.netdev',
      '/etc/systemd/network/50-kayobe-eth0.2.network',
      '/etc/systemd/network/50-kayobe-eth1.network',
      '/etc/systemd/network/50-kayobe-eth2.link',
      '/etc/systemd/network/50-kayobe-eth2.network',
      '/etc/systemd/network/50-kayobe-p-br0-ovs.network',
      '/etc/systemd/network/50-kayobe-p-br0-phy.netdev',
      '/etc/systemd/network/50-kayobe-p-br0-phy.network',
    ]);
    expect(files.find((f) => f.path.endsWith('p-br0-phy.netdev'))?.content).toBe('[NetDev]\nName=p-br0-phy\nKind=veth\n\n[Peer]\nName=p-br0-ovs\n');
    expect(files.find((f) => f.path.endsWith('eth2.link'))?.content).toBe('[Match]\nPermanentMACAddress=aa:bb:cc:dd:ee:ff\n\n[Link]\nName=eth2\n');
  });
});
