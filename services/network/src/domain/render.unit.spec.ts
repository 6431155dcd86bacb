import { describe, expect, it } from 'vitest';
import { ValidationError } from '@stackyard/errors';
import type { Nic } from '@stackyard/proto/inventory/v1/inventory';
import type { NetworkData } from './network';
import { planInterfaces, renderNetworkd, resolveInterface, type Attachment } from './render';

const nic = (name: string): Nic => ({ name, macAddress: '52:54:00:00:00:01', speedMbps: 25_000, lldpSwitch: '', lldpPort: '' });
const NICS = [nic('eno1'), nic('eno2')];

function net(name: string, patch: Partial<NetworkData>): NetworkData {
  return {
    siteId: 'dc1',
    name,
    cidr: '10.0.0.0/24',
    gateway: '',
    allocationPoolStart: '',
    allocationPoolEnd: '',
    vlan: 0,
    mtu: 0,
    groups: ['compute'],
    interface: '',
    ...patch,
  };
}

const provision = net('provision_oc', { cidr: '10.0.0.0/24', gateway: '10.0.0.1', mtu: 1500, interface: '{nic0}' });
const internal = net('internal', { cidr: '10.1.0.0/24', vlan: 101, mtu: 9000, interface: '{nic1}' });
const storage = net('storage', { cidr: '10.2.0.0/24', vlan: 102, mtu: 9000, interface: '{nic1}' });

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
  it('resolves {nicN} to the Nth inspected NIC', () => {
    expect(resolveInterface('{nic0}', NICS)).toBe('eno1');
    expect(resolveInterface('{nic1}', NICS)).toBe('eno2');
  });

  it('uses the first NIC when the interface is empty', () => {
    expect(resolveInterface('', NICS)).toBe('eno1');
  });

  it('keeps a literal device name as it is', () => {
    expect(resolveInterface('bond0', NICS)).toBe('bond0');
    expect(resolveInterface('eth1.200', [])).toBe('eth1.200');
  });

  it('Given {nic2} on a host with two NICs, then the error names network.interface and the count', () => {
    const e = validationError(() => resolveInterface('{nic2}', NICS));
    expect(e.field).toBe('network.interface');
    expect(e.message).toBe('network.interface: {nic2} refers to a NIC the host does not have (2 inspected)');
  });

  it('Given an empty interface on a host without NICs, then the error names {nic0}', () => {
    const e = validationError(() => resolveInterface('', []));
    expect(e.message).toBe('network.interface: {nic0} refers to a NIC the host does not have (0 inspected)');
  });
});

describe('planInterfaces', () => {
  it('Given a network with a VLAN on a plain device, then it gets a <dev>.<vlan> sub-interface whose parent is the device', () => {
    const plans = planInterfaces([{ network: internal, address: '10.1.0.10' }], NICS);
    expect(plans.map((p) => ({ device: p.device, parent: p.parent, vlan: p.vlan, mtu: p.mtu, n: p.attachments.length }))).toEqual([
      { device: 'eno2', parent: undefined, vlan: 0, mtu: 9000, n: 0 },
      { device: 'eno2.101', parent: 'eno2', vlan: 101, mtu: 9000, n: 1 },
    ]);
  });

  it('Given an interface already named <dev>.<vlan>, then the VLAN id comes from the name', () => {
    const plans = planInterfaces([{ network: net('ext', { interface: 'eth1.200', mtu: 1500 }), address: '10.0.0.5' }], []);
    expect(plans.map((p) => [p.device, p.parent, p.vlan])).toEqual([
      ['eth1', undefined, 0],
      ['eth1.200', 'eth1', 200],
    ]);
  });

  it('does not split a device name whose dotted suffix is not a number', () => {
    const plans = planInterfaces([{ network: net('x', { interface: 'br.ex' }), address: '10.0.0.5' }], []);
    expect(plans.map((p) => [p.device, p.parent, p.vlan])).toEqual([['br.ex', undefined, 0]]);
  });

  it('Given an untagged network (MTU 1500) and a VLAN (MTU 9000) on one NIC, then the parent MTU is raised to the VLAN MTU', () => {
    const plans = planInterfaces(
      [
        { network: net('a', { interface: '{nic0}', mtu: 1500 }), address: '10.0.0.5' },
        { network: net('b', { cidr: '10.1.0.0/24', interface: '{nic0}', vlan: 101, mtu: 9000 }), address: '10.1.0.5' },
      ],
      NICS,
    );
    const byDevice = Object.fromEntries(plans.map((p) => [p.device, p]));
    expect(byDevice['eno1']?.mtu).toBe(9000);
    expect(byDevice['eno1']?.attachments.map((a) => a.network.name)).toEqual(['a']);
    expect(byDevice['eno1.101']?.mtu).toBe(9000);
  });

  it('keeps a parent MTU that is already larger than its VLANs', () => {
    const plans = planInterfaces(
      [
        { network: net('a', { interface: '{nic0}', mtu: 9000 }), address: '10.0.0.5' },
        { network: net('b', { cidr: '10.1.0.0/24', interface: '{nic0}', vlan: 101, mtu: 1500 }), address: '10.1.0.5' },
      ],
      NICS,
    );
    expect(plans.map((p) => [p.device, p.mtu])).toEqual([
      ['eno1', 9000],
      ['eno1.101', 1500],
    ]);
  });

  it('puts two VLANs on one parent and two networks on one device, sorted by device name', () => {
    const other = net('other', { cidr: '10.3.0.0/24', vlan: 101, mtu: 1500, interface: '{nic1}' });
    const plans = planInterfaces(
      [
        { network: storage, address: '10.2.0.10' },
        { network: internal, address: '10.1.0.10' },
        { network: other, address: '10.3.0.10' },
      ],
      NICS,
    );
    expect(plans.map((p) => [p.device, p.attachments.map((a) => a.address)])).toEqual([
      ['eno2', []],
      ['eno2.101', ['10.1.0.10', '10.3.0.10']],
      ['eno2.102', ['10.2.0.10']],
    ]);
    expect(plans.find((p) => p.device === 'eno2.101')?.mtu).toBe(9000);
  });

  it('Given {nicN} the host lacks, then the error names network.interface', () => {
    const e = validationError(() => planInterfaces([{ network: internal, address: '10.1.0.10' }], [nic('eno1')]));
    expect(e.field).toBe('network.interface');
  });

  it('Given a VLAN sub-interface name longer than 15 characters, then the error names network.interface and the device', () => {
    const e = validationError(() => planInterfaces([{ network: internal, address: '10.1.0.10' }], [nic('eno1'), nic('enp129s0f1np1')]));
    expect(e.field).toBe('network.interface');
    expect(e.message).toBe('network.interface: interface name "enp129s0f1np1.101" is longer than 15 characters');
  });

  it('accepts a sub-interface name of exactly 15 characters', () => {
    const plans = planInterfaces([{ network: internal, address: '10.1.0.10' }], [nic('eno1'), nic('enp129s0f1n')]);
    expect(plans.map((p) => p.device)).toEqual(['enp129s0f1n', 'enp129s0f1n.101']);
  });

  it('returns no plans for no attachments', () => {
    expect(planInterfaces([], NICS)).toEqual([]);
  });
});

describe('renderNetworkd', () => {
  const attachments: Attachment[] = [
    { network: provision, address: '10.0.0.10' },
    { network: internal, address: '10.1.0.10' },
  ];

  it('Given an untagged network on eno1 and a VLAN on eno2, then it renders exactly these systemd-networkd files', () => {
    const files = renderNetworkd(planInterfaces(attachments, NICS));

    expect(files.map((f) => f.path)).toEqual([
      '/etc/systemd/network/50-kayobe-eno1.network',
      '/etc/systemd/network/50-kayobe-eno2.network',
      '/etc/systemd/network/50-kayobe-eno2.101.netdev',
      '/etc/systemd/network/50-kayobe-eno2.101.network',
    ]);
    expect(files[0]?.content).toBe(`[Match]
Name=eno1

[Network]
Address=10.0.0.10/24
Gateway=10.0.0.1

[Link]
MTUBytes=1500
`);
    expect(files[1]?.content).toBe(`[Match]
Name=eno2

[Network]
VLAN=eno2.101
LinkLocalAddressing=no

[Link]
MTUBytes=9000
`);
    expect(files[2]?.content).toBe(`[NetDev]
Name=eno2.101
Kind=vlan
MTUBytes=9000

[VLAN]
Id=101
`);
    expect(files[3]?.content).toBe(`[Match]
Name=eno2.101

[Network]
Address=10.1.0.10/24

[Link]
MTUBytes=9000
`);
  });

  it('uses the given file prefix', () => {
    const files = renderNetworkd(planInterfaces(attachments, NICS), '10-stackyard-');
    expect(files.map((f) => f.path)).toEqual([
      '/etc/systemd/network/10-stackyard-eno1.network',
      '/etc/systemd/network/10-stackyard-eno2.network',
      '/etc/systemd/network/10-stackyard-eno2.101.netdev',
      '/etc/systemd/network/10-stackyard-eno2.101.network',
    ]);
  });

  it('Given no MTU, then it writes no MTU lines, and each address uses its own prefix length', () => {
    const files = renderNetworkd(
      planInterfaces(
        [
          { network: net('a', { cidr: '192.168.0.0/16', interface: 'eth0' }), address: '192.168.3.4' },
          { network: net('b', { cidr: '10.9.9.8/30', vlan: 7, interface: 'eth0' }), address: '10.9.9.9' },
        ],
        [],
      ),
    );
    expect(files).toEqual([
      { path: '/etc/systemd/network/50-kayobe-eth0.network', content: `[Match]
Name=eth0

[Network]
Address=192.168.3.4/16
VLAN=eth0.7
` },
      { path: '/etc/systemd/network/50-kayobe-eth0.7.netdev', content: `[NetDev]
Name=eth0.7
Kind=vlan

[VLAN]
Id=7
` },
      { path: '/etc/systemd/network/50-kayobe-eth0.7.network', content: `[Match]
Name=eth0.7

[Network]
Address=10.9.9.9/30
` },
    ]);
  });

  it('is a pure function of the plan: same plan, same files', () => {
    const plans = planInterfaces(attachments, NICS);
    expect(renderNetworkd(plans)).toEqual(renderNetworkd(plans));
  });
});
