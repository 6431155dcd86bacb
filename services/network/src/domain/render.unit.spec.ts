import { describe, expect, it } from 'vitest';
import { ValidationError } from '@stackyard/errors';
import type { Nic } from '@stackyard/proto/inventory/v1/inventory';
import type { NetworkData } from './network';
import { DEFAULT_NETWORK_ENGINE, NETWORK_ENGINES, renderHostNetwork, renderNetworkd, resolveInterface, toKayobeHost, type Attachment } from './render';

const nic = (name: string): Nic => ({ name, macAddress: '52:54:00:00:00:01', speedMbps: 25_000, lldpSwitch: '', lldpPort: '' });
const NICS = [nic('eno1'), nic('eno2')];

function net(name: string, patch: Partial<NetworkData>): NetworkData {
  return { siteId: 'dc1', name, cidr: '10.0.0.0/24', gateway: '', allocationPoolStart: '', allocationPoolEnd: '', vlan: 0, mtu: 0, groups: ['compute'], interface: '', ...patch };
}

const provision = net('provision_oc', { cidr: '10.0.0.0/24', gateway: '10.0.0.1', mtu: 1500, interface: '{nic0}' });
const internal = net('internal', { cidr: '10.1.0.0/24', vlan: 101, mtu: 9000, interface: '{nic1}' });
const storage = net('storage', { cidr: '10.2.0.0/24', vlan: 102, mtu: 1500, interface: '{nic1}' });

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

describe('resolveInterface', () => {
  it('resolves {nicN} to the Nth inspected NIC and an empty interface to the first', () => {
    expect(resolveInterface('{nic0}', NICS)).toBe('eno1');
    expect(resolveInterface('{nic1}', NICS)).toBe('eno2');
    expect(resolveInterface('', NICS)).toBe('eno1');
  });

  it('keeps a literal device name as it is', () => {
    expect(resolveInterface('bond0', NICS)).toBe('bond0');
    expect(resolveInterface('eth1.200', [])).toBe('eth1.200');
  });

  it('Given {nic2} on a host with two NICs, then the error names network.interface and the count', () => {
    const e = validationError(() => resolveInterface('{nic2}', NICS));
    expect(e.message).toBe('network.interface: {nic2} refers to a NIC the host does not have (2 inspected)');
    expect(validationError(() => resolveInterface('', [])).message).toBe('network.interface: {nic0} refers to a NIC the host does not have (0 inspected)');
  });
});

describe('toKayobeHost', () => {
  it('maps each network to Kayobe attributes: a VLAN on a plain device gets the interface <device>.<vlan>', () => {
    const { host, names } = toKayobeHost('ctl-01', [{ network: provision, address: '10.0.0.10' }, { network: internal, address: '10.1.0.10' }], NICS);
    expect(names).toEqual(['provision_oc', 'internal']);
    expect(host.networks).toEqual({
      provision_oc: { interface: 'eno1', cidr: '10.0.0.0/24', gateway: '10.0.0.1', vlan: undefined, mtu: 1500, ips: { 'ctl-01': '10.0.0.10' } },
      internal: { interface: 'eno2.101', cidr: '10.1.0.0/24', gateway: undefined, vlan: 101, mtu: 9000, ips: { 'ctl-01': '10.1.0.10' } },
    });
  });

  it('takes the VLAN id from an interface already named <dev>.<vlan>', () => {
    const { host } = toKayobeHost('h', [{ network: net('ext', { interface: 'eth1.200' }), address: '10.0.0.5' }], []);
    expect(host.networks['ext']).toMatchObject({ interface: 'eth1.200', vlan: 200 });
  });

  it('Given two networks on one device, then the error names network.interface and both networks', () => {
    const e = validationError(() => toKayobeHost('h', [{ network: net('a', { interface: 'eth0' }), address: '10.0.0.5' }, { network: net('b', { interface: 'eth0' }), address: '10.0.0.6' }], []));
    expect(e.message).toBe('network.interface: networks a and b both use interface eth0; systemd-networkd (like Kayobe) configures one network per device');
  });

  it('Given a VLAN sub-interface name longer than 15 characters, then the error names network.interface and the device', () => {
    const e = validationError(() => toKayobeHost('h', [{ network: internal, address: '10.1.0.10' }], [nic('eno1'), nic('enp129s0f1np1')]));
    expect(e.message).toBe('network.interface: interface name "enp129s0f1np1.101" is longer than 15 characters');
  });

  it('accepts a sub-interface name of exactly 15 characters', () => {
    expect(toKayobeHost('h', [{ network: internal, address: '10.1.0.10' }], [nic('eno1'), nic('enp129s0f1n')]).host.networks['internal']?.interface).toBe('enp129s0f1n.101');
  });
});

describe('renderNetworkd', () => {
  const attachments: Attachment[] = [
    { network: provision, address: '10.0.0.10' },
    { network: internal, address: '10.1.0.10' },
  ];

  it('Given an untagged network on eno1 and a VLAN on eno2, then it renders exactly these systemd-networkd files', () => {
    expect(renderNetworkd('ctl-01', attachments, NICS)).toEqual([
      { path: '/etc/systemd/network/50-kayobe-eno1.network', content: '[Match]\nName=eno1\n\n[Network]\nAddress=10.0.0.10/24\nGateway=10.0.0.1\n\n[Link]\nMTUBytes=1500\n' },
      { path: '/etc/systemd/network/50-kayobe-eno2.network', content: '[Match]\nName=eno2\n\n[Network]\nVLAN=eno2.101\n\n[Link]\nMTUBytes=9000\n' },
      { path: '/etc/systemd/network/50-kayobe-eno2.101.netdev', content: '[NetDev]\nName=eno2.101\nKind=vlan\nMTUBytes=9000\n\n[VLAN]\nId=101\n' },
      { path: '/etc/systemd/network/50-kayobe-eno2.101.network', content: '[Match]\nName=eno2.101\n\n[Network]\nAddress=10.1.0.10/24\n\n[Link]\nMTUBytes=9000\n' },
    ]);
  });

  it('uses the given file prefix', () => {
    expect(renderNetworkd('ctl-01', attachments, NICS, '10-stackyard-').map((f) => f.path)).toEqual([
      '/etc/systemd/network/10-stackyard-eno1.network',
      '/etc/systemd/network/10-stackyard-eno2.network',
      '/etc/systemd/network/10-stackyard-eno2.101.netdev',
      '/etc/systemd/network/10-stackyard-eno2.101.network',
    ]);
  });

  it('Given two VLANs on one NIC (MTU 9000 and 1500), then the implied parent gets the larger MTU and lists both VLANs', () => {
    const files = renderNetworkd('h', [{ network: internal, address: '10.1.0.10' }, { network: storage, address: '10.2.0.10' }], NICS);
    expect(files.map((f) => f.path)).toEqual([
      '/etc/systemd/network/50-kayobe-eno2.network',
      '/etc/systemd/network/50-kayobe-eno2.101.netdev',
      '/etc/systemd/network/50-kayobe-eno2.101.network',
      '/etc/systemd/network/50-kayobe-eno2.102.netdev',
      '/etc/systemd/network/50-kayobe-eno2.102.network',
    ]);
    expect(files[0]?.content).toBe('[Match]\nName=eno2\n\n[Network]\nVLAN=eno2.101\nVLAN=eno2.102\n\n[Link]\nMTUBytes=9000\n');
  });

  it('Given an untagged network (MTU 1500) and a VLAN (MTU 9000) on one NIC, then, as in Kayobe, the parent keeps its own MTU', () => {
    const files = renderNetworkd('h', [{ network: net('a', { interface: '{nic0}', mtu: 1500 }), address: '10.0.0.5' }, { network: net('b', { cidr: '10.1.0.0/24', interface: '{nic0}', vlan: 101, mtu: 9000 }), address: '10.1.0.5' }], NICS);
    expect(files[0]).toEqual({ path: '/etc/systemd/network/50-kayobe-eno1.network', content: '[Match]\nName=eno1\n\n[Network]\nAddress=10.0.0.5/24\nVLAN=eno1.101\n\n[Link]\nMTUBytes=1500\n' });
  });

  it('Given no MTU, then it writes no [Link] section, and each address uses its own prefix length', () => {
    expect(renderNetworkd('h', [{ network: net('a', { cidr: '192.168.0.0/16', interface: 'eth0' }), address: '192.168.3.4' }, { network: net('b', { cidr: '10.9.9.8/30', vlan: 7, interface: 'eth0' }), address: '10.9.9.9' }], [])).toEqual([
      { path: '/etc/systemd/network/50-kayobe-eth0.network', content: '[Match]\nName=eth0\n\n[Network]\nAddress=192.168.3.4/16\nVLAN=eth0.7\n' },
      { path: '/etc/systemd/network/50-kayobe-eth0.7.netdev', content: '[NetDev]\nName=eth0.7\nKind=vlan\n\n[VLAN]\nId=7\n' },
      { path: '/etc/systemd/network/50-kayobe-eth0.7.network', content: '[Match]\nName=eth0.7\n\n[Network]\nAddress=10.9.9.9/30\n' },
    ]);
  });

  it('is a pure function: same input, same files', () => {
    expect(renderNetworkd('h', attachments, NICS)).toEqual(renderNetworkd('h', attachments, NICS));
  });
});

describe('renderHostNetwork (engine selection)', () => {
  const attachments: Attachment[] = [
    { network: provision, address: '10.0.0.10' },
    { network: internal, address: '10.1.0.10' },
  ];

  it('offers networkd (the default), nmstate and nm-keyfile', () => {
    expect(NETWORK_ENGINES).toEqual(['networkd', 'nmstate', 'nm-keyfile']);
    expect(DEFAULT_NETWORK_ENGINE).toBe('networkd');
  });

  it('networkd renders what renderNetworkd renders', () => {
    expect(renderHostNetwork('networkd', 'ctl-01', attachments, NICS)).toEqual(renderNetworkd('ctl-01', attachments, NICS));
  });

  it('nmstate renders one state file for nmstate.service', () => {
    const files = renderHostNetwork('nmstate', 'ctl-01', attachments, NICS);
    expect(files.map((f) => f.path)).toEqual(['/etc/nmstate/50-kayobe-network.yml']);
    expect(files[0]?.content).toContain('  - name: eno2.101\n    state: up\n    mtu: 9000\n');
    expect(files[0]?.content).toContain('    - destination: 0.0.0.0/0\n      next-hop-address: 10.0.0.1\n      next-hop-interface: eno1\n');
  });

  it('nm-keyfile renders one profile per device, the VLAN parent included', () => {
    expect(renderHostNetwork('nm-keyfile', 'ctl-01', attachments, NICS).map((f) => f.path)).toEqual([
      '/etc/NetworkManager/system-connections/eno1.nmconnection',
      '/etc/NetworkManager/system-connections/eno2.nmconnection',
      '/etc/NetworkManager/system-connections/eno2.101.nmconnection',
    ]);
  });

  it('nmstate and keyfiles default to RedHat, where an unset bridge_stp turns STP off; networkd to Debian (unset)', () => {
    const bridge = net('ext', { interface: 'br-ex', kayobe: { bridge_ports: ['{nic1}'] } });
    const at = [{ network: bridge, address: '10.0.0.20' }];
    expect(renderHostNetwork('nm-keyfile', 'h', at, NICS).find((f) => f.path.endsWith('/br-ex.nmconnection'))?.content).toContain('[bridge]\nstp=false\n');
    expect(renderHostNetwork('nmstate', 'h', at, NICS)[0]?.content).toContain('stp:\n          enabled: false');
    expect(renderHostNetwork('networkd', 'h', at, NICS).find((f) => f.path.endsWith('br-ex.netdev'))?.content).toBe('[NetDev]\nName=br-ex\nKind=bridge\n');
    expect(renderHostNetwork('nmstate', 'h', at, NICS, { osFamily: 'Debian' })[0]?.content).not.toContain('stp');
  });
});
