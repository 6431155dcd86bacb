import { describe, expect, it } from 'vitest';
import type { Nic } from '@stackyard/proto/inventory/v1/inventory';
import type { NetworkData } from './network';
import { renderNetworkd, toKayobeHost } from './render';
import { kollaHostVarsFor, siteRoles } from './roles';

const nic = (name: string): Nic => ({ name, macAddress: '52:54:00:00:00:01', speedMbps: 25_000, lldpSwitch: '', lldpPort: '' });
const NICS = [nic('eno1'), nic('eno2'), nic('eno3'), nic('eno4')];
const net = (name: string, patch: Partial<NetworkData>): NetworkData => ({
  siteId: 'dc1',
  name,
  cidr: '10.0.0.0/24',
  gateway: '',
  allocationPoolStart: '',
  allocationPoolEnd: '',
  vlan: 0,
  mtu: 0,
  groups: ['controllers'],
  interface: '',
  ...patch,
});

const FLAGS = { kollaEnableIronic: false, kollaEnableNeutron: true, kollaEnableNeutronProviderNetworks: false };

describe('siteRoles', () => {
  it("takes roles by name (<role> or <role>_net) and Kayobe's fallbacks: tunnel = internal, public = first external", () => {
    const r = siteRoles([net('provision_oc', {}), net('internal_net', {}), net('external', {}), net('storage', {})]);
    expect(r).toMatchObject({
      admin_oc_net_name: 'provision_oc',
      internal_net_name: 'internal_net',
      tunnel_net_name: 'internal_net',
      public_net_name: 'external',
      external_net_names: ['external'],
      storage_net_name: 'storage',
      swift_storage_net_name: 'storage',
      storage_mgmt_net_name: null,
      provision_wl_net_name: null,
    });
  });

  it('prefers explicit roles; several networks may be external', () => {
    const r = siteRoles([net('internal', {}), net('api', { kayobe: { roles: ['internal'] } }), net('ext1', { kayobe: { roles: ['external', 'public'] } }), net('ext2', { kayobe: { roles: ['external'] } })]);
    expect(r.internal_net_name).toBe('api');
    expect(r.external_net_names).toEqual(['ext1', 'ext2']);
    expect(r.public_net_name).toBe('ext1');
  });
});

describe('Kolla host variables of a network host (reference §3.8)', () => {
  const internal = net('internal', { cidr: '10.1.0.0/24', vlan: 101, interface: '{nic1}' });
  const external = net('external', { cidr: '10.3.0.0/24', vlan: 200, interface: '{nic1}', kayobe: { physical_network: 'physnet1' } });
  const bridged = net('public', { cidr: '10.4.0.0/24', interface: 'brext', kayobe: { roles: ['external', 'public'], bridge_ports: ['{nic2}'], physical_network: 'physnet2' } });

  it('Given external on a VLAN of eno2, then Neutron gets the parent eno2, bridge eno2-ovs and physnet1', () => {
    const atts = [
      { network: internal, address: '10.1.0.10' },
      { network: external, address: '10.3.0.10' },
    ];
    const roles = siteRoles([internal, external]);
    const { host, names } = toKayobeHost('ctl-01', atts, NICS, { roles });
    expect(kollaHostVarsFor(host, names, roles, { ...FLAGS, groups: ['controllers', 'network'] })).toEqual({
      vars: {
        network_interface: 'eno2.101',
        api_interface: 'eno2.101',
        tunnel_interface: 'eno2.101',
        dns_interface: 'eno2.200',
        kolla_external_vip_interface: 'eno2.200',
        neutron_bridge_name: 'eno2-ovs',
        neutron_external_interface: 'eno2',
        neutron_physical_networks: 'physnet1',
      },
      problems: [],
    });
  });

  it('Given an external bridge with a {nicN} port, then the veth p-brext-ovs is the external interface and networkd gets the pair', () => {
    const atts = [
      { network: internal, address: '10.1.0.10' },
      { network: bridged, address: '10.4.0.10' },
    ];
    const roles = siteRoles([internal, bridged]);
    const { host, names } = toKayobeHost('ctl-01', atts, NICS, { roles });
    expect(host.networks['public']).toMatchObject({ interface: 'brext', bridge_ports: ['eno3'] });
    const v = kollaHostVarsFor(host, names, roles, { ...FLAGS, groups: ['controllers', 'network'] });
    expect(v.vars).toMatchObject({ neutron_bridge_name: 'brext-ovs', neutron_external_interface: 'p-brext-ovs', neutron_physical_networks: 'physnet2', kolla_external_vip_interface: 'brext' });
    const paths = renderNetworkd('ctl-01', atts, NICS, { roles }).map((f) => f.path.replace('/etc/systemd/network/50-kayobe-', ''));
    expect(paths).toEqual(['brext.netdev', 'brext.network', 'eno2.network', 'eno2.101.netdev', 'eno2.101.network', 'eno3.network', 'p-brext-ovs.network', 'p-brext-phy.netdev', 'p-brext-phy.network']);
  });

  it("Given a network host without internal network, then Kayobe's messages are the problems and the rest is still derived", () => {
    const roles = siteRoles([external]);
    const { host, names } = toKayobeHost('n-01', [{ network: external, address: '10.3.0.10' }], NICS, { roles });
    expect(kollaHostVarsFor(host, names, roles, { ...FLAGS, groups: ['network'] })).toEqual({
      vars: { dns_interface: 'eno2.200', kolla_external_vip_interface: 'eno2.200', neutron_bridge_name: 'eno2-ovs', neutron_external_interface: 'eno2', neutron_physical_networks: 'physnet1' },
      problems: ["Required network 'None' (Default network) is not mapped to this host", "Required network 'None' (API network) is not mapped to this host"],
    });
  });
});

describe('rendering the full model', () => {
  it('renders a bond of {nicN} slaves with a VLAN by parent, routes by table name, rules and no_ip', () => {
    const bond = net('bond', {
      interface: 'bond0',
      cidr: '',
      kayobe: { no_ip: true, bond_slaves: ['{nic2}', '{nic3}'], bond_mode: '802.3ad', bond_miimon: 100, route_tables: [{ id: 100, name: 'storage' }] },
    });
    const storage = net('storage', {
      cidr: '10.2.0.0/24',
      vlan: 102,
      interface: 'vlan102',
      kayobe: {
        parent: 'bond0',
        routes: [{ cidr: '10.20.0.0/16', gateway: '10.2.0.1', table: 'storage' }],
        rules: [{ from: '10.2.0.0/24', table: 'storage' }],
        defroute: false,
      },
    });
    const files = renderNetworkd('st-01', [{ network: bond, address: undefined }, { network: storage, address: '10.2.0.10' }], NICS);
    expect(Object.fromEntries(files.map((f) => [f.path.replace('/etc/systemd/network/50-kayobe-', ''), f.content]))).toEqual({
      'bond0.netdev': '[NetDev]\nName=bond0\nKind=bond\n\n[Bond]\nMode=802.3ad\nMIIMonitorSec=0.1\n',
      'bond0.network': '[Match]\nName=bond0\n\n[Network]\nVLAN=vlan102\n\n[Link]\nRequiredForOnline=false\n',
      'eno3.network': '[Match]\nName=eno3\n\n[Network]\nBond=bond0\n',
      'eno4.network': '[Match]\nName=eno4\n\n[Network]\nBond=bond0\n',
      'vlan102.netdev': '[NetDev]\nName=vlan102\nKind=vlan\n\n[VLAN]\nId=102\n',
      'vlan102.network':
        '[Match]\nName=vlan102\n\n[Network]\nAddress=10.2.0.10/24\nUseGateway=false\n\n[Route]\nDestination=10.20.0.0/16\nGateway=10.2.0.1\nTable=100\n\n[RoutingPolicyRule]\nFrom=10.2.0.0/24\nTable=100\n',
    });
  });
});
