/**
 * Golden tests from reference/kayobe.md §3.1-3.5 and §4.2 (Kayobe's test_networks.py): every expected
 * value is written out literally.
 */
import { describe, expect, it } from 'vitest';
import {
  getVlanParent,
  kayobeHost,
  netBridgePorts,
  netBridgeStp,
  netInterfaceType,
  netIp,
  netIsVlan,
  netIsVlanInterface,
  netLibvirtNetwork,
  netMask,
  netMtu,
  netPhysicalInterface,
  netPrefix,
  netSelectBonds,
  netSelectBridges,
  netSelectEthers,
  netSelectVlans,
  type KayobeNetworkAttrs,
  type KayobeNetworkVars,
} from './attributes';
import { KayobeConfigError } from './errors';
import { getOvsVeths, netOvsVeths, patchName } from './ovs';

// §4.2 fixture.
const FIXTURE: Record<string, KayobeNetworkAttrs> = {
  net1: { interface: 'eth0' },
  net2: { interface: 'eth0.2', vlan: 2 },
  net3: { interface: 'br0', bridge_ports: ['eth0', 'eth1'] },
  net4: { interface: 'br0.4', vlan: 4 },
  net5: { interface: 'br0.5', vlan: 5 },
  net6: { interface: 'bond0', bond_slaves: ['eth3', 'eth4'] },
};

function host(patch: Record<string, KayobeNetworkAttrs> = {}, vars: Partial<KayobeNetworkVars> = {}) {
  const networks: Record<string, KayobeNetworkAttrs> = { ...FIXTURE };
  for (const [n, a] of Object.entries(patch)) networks[n] = { ...networks[n], ...a };
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

describe('get_ovs_veths (§4.2, §3.5)', () => {
  it('Given no network names, then there are no veths', () => {
    expect(getOvsVeths(host({}, { external_net_names: ['net3'] }), [])).toEqual([]);
  });

  it('Given an ethernet external network, then there are no veths', () => {
    expect(getOvsVeths(host({}, { external_net_names: ['net1'] }), ['net1'])).toEqual([]);
  });

  it('Given a VLAN on ethernet as external network, then there are no veths', () => {
    expect(getOvsVeths(host({}, { external_net_names: ['net2'] }), ['net2'])).toEqual([]);
  });

  it('Given a bridge external network, then one pair p-br0-phy / p-br0-ovs with no MTU', () => {
    expect(getOvsVeths(host({}, { external_net_names: ['net3'] }), ['net3'])).toEqual([{ name: 'p-br0-phy', peer: 'p-br0-ovs', bridge: 'br0', mtu: undefined }]);
  });

  it.each(['provision_wl_net_name', 'cleaning_net_name'] as const)('gives the same pair when the bridge network is %s', (role) => {
    expect(getOvsVeths(host({}, { [role]: 'net3' }), ['net3'])).toEqual([{ name: 'p-br0-phy', peer: 'p-br0-ovs', bridge: 'br0', mtu: undefined }]);
  });

  it('Given the bridge network has MTU 1400, then the pair has MTU 1400', () => {
    expect(getOvsVeths(host({ net3: { mtu: 1400 } }, { external_net_names: ['net3'] }), ['net3'])).toEqual([
      { name: 'p-br0-phy', peer: 'p-br0-ovs', bridge: 'br0', mtu: 1400 },
    ]);
  });

  it('Given a VLAN on the bridge as external network, then one pair for br0 (MTU None, then the VLAN MTU 1400)', () => {
    expect(getOvsVeths(host({}, { external_net_names: ['net4'] }), ['net3', 'net4'])).toEqual([{ name: 'p-br0-phy', peer: 'p-br0-ovs', bridge: 'br0', mtu: undefined }]);
    expect(getOvsVeths(host({ net4: { mtu: 1400 } }, { external_net_names: ['net4'] }), ['net3', 'net4'])).toEqual([
      { name: 'p-br0-phy', peer: 'p-br0-ovs', bridge: 'br0', mtu: 1400 },
    ]);
  });

  it('Given two VLANs on one bridge, then a single pair whose MTU is the maximum (1400, 1500 -> 1500)', () => {
    const vars = { external_net_names: ['net4', 'net5'] };
    expect(getOvsVeths(host({}, vars), ['net3', 'net4', 'net5'])).toEqual([{ name: 'p-br0-phy', peer: 'p-br0-ovs', bridge: 'br0', mtu: undefined }]);
    expect(getOvsVeths(host({ net4: { mtu: 1400 }, net5: { mtu: 1500 } }, vars), ['net3', 'net4', 'net5'])).toEqual([
      { name: 'p-br0-phy', peer: 'p-br0-ovs', bridge: 'br0', mtu: 1500 },
    ]);
  });

  it('truncates the bridge name to fit 15 characters: brexternal-long -> p-brexterna-phy / p-brexterna-ovs (probe)', () => {
    const h = kayobeHost('h', { ext: { interface: 'brexternal-long', bridge_ports: ['eth9'] } }, { vars: { external_net_names: ['ext'] } });
    expect(getOvsVeths(h, ['ext'])).toEqual([{ name: 'p-brexterna-phy', peer: 'p-brexterna-ovs', bridge: 'brexternal-long', mtu: undefined }]);
    expect(patchName('brexternal-long', 'p-', '-phy')).toHaveLength(15);
  });

  it('ignores veth networks that are not in the names list', () => {
    expect(getOvsVeths(host({}, { external_net_names: ['net3'] }), ['net1'])).toEqual([]);
  });

  it('net_ovs_veths reshapes the pairs for the veth role', () => {
    expect(netOvsVeths(host({ net3: { mtu: 1400 } }, { external_net_names: ['net3'] }), ['net3'])).toEqual([
      { device: 'p-br0-phy', bootproto: 'static', bridge: 'br0', mtu: 1400, peer_device: 'p-br0-ovs', peer_bootproto: 'static', peer_mtu: 1400, onboot: 'yes' },
    ]);
  });
});

describe('net_bridge_ports and net_physical_interface (§4.2)', () => {
  it('Given net3_bridge_ports is the string "ens3", then net_bridge_ports raises, naming net3_bridge_ports', () => {
    const e = kayobeError(() => netBridgePorts(host({ net3: { bridge_ports: 'ens3' } }), 'net3'));
    expect(e.field).toBe('net3_bridge_ports');
    expect(e.kayobeMessage).toBe("Bridge ports for network 'net3' should be a list");
    expect(e.message).toBe("net3_bridge_ports: Bridge ports for network 'net3' should be a list");
  });

  it('gives bond slaves for a bond, bridge ports for a bridge and [interface] otherwise', () => {
    const h = host();
    expect(netPhysicalInterface(h, 'net6')).toEqual(['eth3', 'eth4']);
    expect(netPhysicalInterface(h, 'net3')).toEqual(['eth0', 'eth1']);
    expect(netPhysicalInterface(h, 'net1')).toEqual(['eth0']);
  });
});

describe('interface type classification (§3.2)', () => {
  it('classifies ether, bridge and bond; an empty bridge_ports list is still a bridge', () => {
    const h = kayobeHost('h', { e: { interface: 'eth0' }, br: { interface: 'br0', bridge_ports: ['eth1'] }, empty: { interface: 'braio', bridge_ports: [] }, b: { interface: 'bond0', bond_slaves: ['eth2'] } });
    expect(['e', 'br', 'empty', 'b'].map((n) => netInterfaceType(h, n))).toEqual(['ether', 'bridge', 'bridge', 'bond']);
    expect(netSelectEthers(h, ['e', 'br', 'empty', 'b'])).toEqual(['e']);
    expect(netSelectBridges(h, ['e', 'br', 'empty', 'b'])).toEqual(['br', 'empty']);
    expect(netSelectBonds(h, ['e', 'br', 'empty', 'b'])).toEqual(['b']);
  });

  it('Given both bridge ports and bond slaves, then Kayobe\'s error names the network and the host', () => {
    const h = kayobeHost('ctl0', { net7: { interface: 'x0', bridge_ports: ['eth0'], bond_slaves: ['eth1'] } });
    const e = kayobeError(() => netInterfaceType(h, 'net7'));
    expect(e.kayobeMessage).toBe('Network net7 on host ctl0 has both bridge ports and bond slaves defined');
    expect(e.field).toBe('net7_bond_slaves');
  });
});

describe('VLAN detection and parents (§3.2, §3.3)', () => {
  it.each(['eth0.2', 'bond0.101', 'br-ex.5', 'eth0.4095'])('%s is a VLAN interface name (probe)', (iface) => {
    expect(netIsVlanInterface(kayobeHost('h', { n: { interface: iface } }), 'n')).toBe(true);
  });

  it.each(['eth0.0', 'eth0.10000', 'vlan101', 'eth0.abc'])('%s is not a VLAN interface name (probe)', (iface) => {
    expect(netIsVlanInterface(kayobeHost('h', { n: { interface: iface } }), 'n')).toBe(false);
  });

  it('Given parent and vlan, then any name is a VLAN interface (vlan101 + parent eth0 + vlan 101)', () => {
    expect(netIsVlanInterface(kayobeHost('h', { n: { interface: 'vlan101', parent: 'eth0', vlan: 101 } }), 'n')).toBe(true);
  });

  it('Given no interface, then net_is_vlan_interface raises Kayobe\'s "not found"', () => {
    const e = kayobeError(() => netIsVlanInterface(kayobeHost('h', { n: { vlan: 3 } }), 'n'));
    expect(e.kayobeMessage).toBe("Network interface for network 'n' on host 'h' not found");
    expect(e.field).toBe('n_interface');
  });

  it('net_is_vlan only looks at the vlan attribute', () => {
    const h = kayobeHost('h', { a: { interface: 'eth0', vlan: 42 }, b: { interface: 'eth0.2' } });
    expect(netIsVlan(h, 'a')).toBe(true);
    expect(netIsVlan(h, 'b')).toBe(false);
    expect(netSelectVlans(h, ['a', 'b'])).toEqual(['a']);
  });

  it('get_vlan_parent: parent if set, else the name without .<vlan>', () => {
    const h = kayobeHost('h', { a: { interface: 'eth2.123', vlan: 123 }, b: { interface: 'myvlan123', parent: 'eth2', vlan: 123 }, c: { interface: 'eth0', vlan: 42 } });
    expect(getVlanParent(h, 'a', 'eth2.123', 123)).toBe('eth2');
    expect(getVlanParent(h, 'b', 'myvlan123', 123)).toBe('eth2');
    expect(getVlanParent(h, 'c', 'eth0', 42)).toBe('eth0');
  });
});

describe('derived getters (§3.1)', () => {
  const h = kayobeHost('test-host', { n: { cidr: '10.1.0.0/24', ips: { 'test-host': '10.1.0.7', other: '10.1.0.8' }, mtu: '9000', interface: 'br1', bridge_ports: [] } });

  it('net_ip reads <net>_ips[host], the current host by default', () => {
    expect(netIp(h, 'n')).toBe('10.1.0.7');
    expect(netIp(h, 'n', 'other')).toBe('10.1.0.8');
    expect(netIp(h, 'n', 'nobody')).toBeUndefined();
    expect(netIp(h, 'missing')).toBeUndefined();
  });

  it('net_mask, net_prefix (a string) and net_mtu (an int)', () => {
    expect(netMask(h, 'n')).toBe('255.255.255.0');
    expect(netPrefix(h, 'n')).toBe('24');
    expect(netMtu(h, 'n')).toBe(9000);
    expect(netMask(h, 'missing')).toBeUndefined();
  });

  it('net_bridge_stp: unset is "false" on RedHat and None on Debian; set values become "true"/"false"', () => {
    expect(netBridgeStp(h, 'n')).toBeUndefined();
    expect(netBridgeStp({ ...h, osFamily: 'RedHat' }, 'n')).toBe('false');
    expect(netBridgeStp(kayobeHost('h', { n: { bridge_stp: true } }), 'n')).toBe('true');
    expect(netBridgeStp(kayobeHost('h', { n: { bridge_stp: 'no' } }), 'n')).toBe('false');
  });

  it('net_libvirt_network', () => {
    expect(netLibvirtNetwork(h, 'n')).toEqual({ name: 'n', mode: 'bridge', bridge: 'br1' });
  });
});
