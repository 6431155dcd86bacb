/**
 * Golden tests from reference/kayobe.md §4.5 (Kayobe's test_kolla_ansible_host_vars.py) and §3.8.
 * Where Kayobe's test fakes "interfaces starting with br are bridges", the fixture declares those
 * networks as bridges (bridge_ports []), which is what the fake stands for.
 */
import { describe, expect, it } from 'vitest';
import { kayobeHost, type KayobeNetworkAttrs } from './attributes';
import { KayobeConfigError } from './errors';
import { kollaAnsibleHostVars, kollaNetworkHostVars, type KollaNetworkRoles } from './kolla';

const BASE: Record<string, KayobeNetworkAttrs> = { foo: { interface: 'eth0', vlan: 1 }, bar: { interface: 'eth1', vlan: 2 } };
const host = (patch: Record<string, KayobeNetworkAttrs> = {}, extra: Record<string, KayobeNetworkAttrs> = {}) => {
  const networks: Record<string, KayobeNetworkAttrs> = { ...BASE, ...extra };
  for (const [n, a] of Object.entries(patch)) networks[n] = { ...networks[n], ...a };
  return kayobeHost('test-host', networks);
};
const NAMES = ['foo', 'bar'];
const iface = (network: string, required = false) => ({ var_name: `kolla_${network}_interface`, description: `${network[0]!.toUpperCase()}${network.slice(1)} network`, network, required });
const ext = (network: string, required = false) => ({ network, required });

describe('kolla_ansible_host_vars (§4.5)', () => {
  it('no arguments -> changed false and no host vars', () => {
    expect(kollaAnsibleHostVars(host(), NAMES, [])).toEqual({ changed: false, kolla_ansible_host_vars: {} });
  });

  it('an interface variable for foo, then for foo and bar', () => {
    expect(kollaAnsibleHostVars(host(), NAMES, [iface('foo', true)])).toEqual({ changed: false, kolla_ansible_host_vars: { kolla_foo_interface: 'eth0' } });
    expect(kollaAnsibleHostVars(host(), NAMES, [iface('foo', true), iface('bar', true)])).toEqual({
      changed: false,
      kolla_ansible_host_vars: { kolla_foo_interface: 'eth0', kolla_bar_interface: 'eth1' },
    });
  });

  it('a required network not mapped to the host fails; not required gives {}', () => {
    expect(kollaAnsibleHostVars(host(), NAMES, [iface('baz', true)])).toEqual({ changed: false, failed: true, msg: "Required network 'baz' (Baz network) is not mapped to this host" });
    expect(kollaAnsibleHostVars(host(), NAMES, [iface('baz')])).toEqual({ changed: false, kolla_ansible_host_vars: {} });
  });

  it('a required network without an interface fails; not required gives {}; two failures are joined with "; "', () => {
    const h = host({ bar: { interface: null } });
    expect(kollaAnsibleHostVars(h, NAMES, [iface('bar', true)])).toEqual({
      changed: false,
      failed: true,
      msg: "Required network 'bar' (Bar network) does not have an interface configured for this host",
    });
    expect(kollaAnsibleHostVars(h, NAMES, [iface('bar')])).toEqual({ changed: false, kolla_ansible_host_vars: {} });
    expect(kollaAnsibleHostVars(h, NAMES, [iface('baz', true), iface('bar', true)])).toEqual({
      changed: false,
      failed: true,
      msg: "Required network 'baz' (Baz network) is not mapped to this host; Required network 'bar' (Bar network) does not have an interface configured for this host",
    });
  });

  it('external [foo] -> eth0-ovs / eth0; with physnet custom1 -> also kolla_neutron_physical_networks', () => {
    expect(kollaAnsibleHostVars(host(), NAMES, [], [ext('foo', true)])).toEqual({
      changed: false,
      kolla_ansible_host_vars: { kolla_neutron_bridge_names: 'eth0-ovs', kolla_neutron_external_interfaces: 'eth0' },
    });
    expect(kollaAnsibleHostVars(host({ foo: { physical_network: 'custom1' } }), NAMES, [], [ext('foo', true)])).toEqual({
      changed: false,
      kolla_ansible_host_vars: { kolla_neutron_bridge_names: 'eth0-ovs', kolla_neutron_external_interfaces: 'eth0', kolla_neutron_physical_networks: 'custom1' },
    });
  });

  it('external [foo, bar] -> two bridges; physnets custom1/custom2; a physnet on foo only fails', () => {
    const exts = [ext('foo', true), ext('bar', true)];
    expect(kollaAnsibleHostVars(host(), NAMES, [], exts)).toEqual({
      changed: false,
      kolla_ansible_host_vars: { kolla_neutron_bridge_names: 'eth0-ovs,eth1-ovs', kolla_neutron_external_interfaces: 'eth0,eth1' },
    });
    expect(kollaAnsibleHostVars(host({ foo: { physical_network: 'custom1' }, bar: { physical_network: 'custom2' } }), NAMES, [], exts)).toEqual({
      changed: false,
      kolla_ansible_host_vars: { kolla_neutron_bridge_names: 'eth0-ovs,eth1-ovs', kolla_neutron_external_interfaces: 'eth0,eth1', kolla_neutron_physical_networks: 'custom1,custom2' },
    });
    expect(kollaAnsibleHostVars(host({ foo: { physical_network: 'custom1' } }), NAMES, [], exts)).toEqual({
      changed: false,
      failed: true,
      msg: "Some external networks have a 'physical_network' attribute defined but the following do not: bar",
    });
  });

  it('bar on eth0 too -> one bridge eth0-ovs; physnet on foo only -> custom1; conflicting physnets fail', () => {
    const exts = [ext('foo', true), ext('bar', true)];
    expect(kollaAnsibleHostVars(host({ bar: { interface: 'eth0' } }), NAMES, [], exts)).toEqual({
      changed: false,
      kolla_ansible_host_vars: { kolla_neutron_bridge_names: 'eth0-ovs', kolla_neutron_external_interfaces: 'eth0' },
    });
    expect(kollaAnsibleHostVars(host({ bar: { interface: 'eth0' }, foo: { physical_network: 'custom1' } }), NAMES, [], exts)).toEqual({
      changed: false,
      kolla_ansible_host_vars: { kolla_neutron_bridge_names: 'eth0-ovs', kolla_neutron_external_interfaces: 'eth0', kolla_neutron_physical_networks: 'custom1' },
    });
    expect(kollaAnsibleHostVars(host({ bar: { interface: 'eth0', physical_network: 'custom2' }, foo: { physical_network: 'custom1' } }), NAMES, [], exts)).toEqual({
      changed: false,
      failed: true,
      msg: "Inconsistent 'physical_network' attributes for external networks foo, bar using interface eth0: custom1, custom2",
    });
  });

  it('VLAN names eth0.1 and eth0.2 -> a single eth0-ovs / eth0', () => {
    expect(kollaAnsibleHostVars(host({ foo: { interface: 'eth0.1' }, bar: { interface: 'eth0.2' } }), NAMES, [], [ext('foo', true), ext('bar', true)])).toEqual({
      changed: false,
      kolla_ansible_host_vars: { kolla_neutron_bridge_names: 'eth0-ovs', kolla_neutron_external_interfaces: 'eth0' },
    });
  });

  it('a bridge breth0 -> breth0-ovs / p-breth0-ovs; foo breth0.1 with bar the bridge breth0 -> the same', () => {
    expect(kollaAnsibleHostVars(host({ foo: { interface: 'breth0', bridge_ports: [] } }), NAMES, [], [ext('foo', true)])).toEqual({
      changed: false,
      kolla_ansible_host_vars: { kolla_neutron_bridge_names: 'breth0-ovs', kolla_neutron_external_interfaces: 'p-breth0-ovs' },
    });
    expect(kollaAnsibleHostVars(host({ foo: { interface: 'breth0.1' }, bar: { interface: 'breth0', vlan: null, bridge_ports: [] } }), NAMES, [], [ext('foo', true)])).toEqual({
      changed: false,
      kolla_ansible_host_vars: { kolla_neutron_bridge_names: 'breth0-ovs', kolla_neutron_external_interfaces: 'p-breth0-ovs' },
    });
  });

  it('a required external network unmapped, or without an interface, fails; not required gives {}', () => {
    expect(kollaAnsibleHostVars(host(), NAMES, [], [ext('baz', true)])).toEqual({ changed: false, failed: true, msg: "Required external network 'baz' is not mapped to this host" });
    expect(kollaAnsibleHostVars(host({ foo: { interface: null } }), NAMES, [], [ext('foo', true)])).toEqual({
      changed: false,
      failed: true,
      msg: "Required external network 'foo' does not have an interface configured for this host",
    });
    expect(kollaAnsibleHostVars(host({ foo: { interface: null } }), NAMES, [], [ext('baz'), ext('foo')])).toEqual({ changed: false, kolla_ansible_host_vars: {} });
  });
});

describe('kollaNetworkHostVars: the overcloud play with Kolla names (§3.8)', () => {
  const roles: KollaNetworkRoles = {
    internal_net_name: 'internal_net',
    storage_net_name: 'storage_net',
    storage_mgmt_net_name: 'storage_mgmt_net',
    swift_storage_net_name: 'storage_net',
    swift_storage_replication_net_name: 'storage_mgmt_net',
    provision_wl_net_name: null,
    cleaning_net_name: null,
    inspection_net_name: null,
    public_net_name: 'external_net',
    tunnel_net_name: 'internal_net',
    external_net_names: ['external_net'],
  };
  const flags = { kollaEnableIronic: false, kollaEnableNeutron: true, kollaEnableNeutronProviderNetworks: false, groups: ['controllers', 'network'] };
  const nets: Record<string, KayobeNetworkAttrs> = {
    internal_net: { interface: 'eth1' },
    storage_net: { interface: 'eth2' },
    storage_mgmt_net: { interface: 'eth3' },
    external_net: { interface: 'breth6', bridge_ports: ['eth6'] },
  };

  it('Given a network controller, then every interface and the Neutron variables use Kolla\'s names', () => {
    const h = kayobeHost('ctl0', nets);
    expect(kollaNetworkHostVars(h, ['internal_net', 'storage_net', 'storage_mgmt_net', 'external_net'], roles, flags)).toEqual({
      network_interface: 'eth1',
      api_interface: 'eth1',
      storage_interface: 'eth2',
      cluster_interface: 'eth3',
      swift_storage_interface: 'eth2',
      swift_replication_interface: 'eth3',
      dns_interface: 'breth6',
      tunnel_interface: 'eth1',
      kolla_external_vip_interface: 'breth6',
      neutron_bridge_name: 'breth6-ovs',
      neutron_external_interface: 'p-breth6-ovs',
    });
  });

  it('Given a network host without the public network, then it fails with Kayobe\'s joined messages, naming network_interfaces', () => {
    let err: unknown;
    try {
      kollaNetworkHostVars(kayobeHost('ctl0', nets), ['internal_net'], roles, flags);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KayobeConfigError);
    expect((err as KayobeConfigError).field).toBe('network_interfaces');
    expect((err as KayobeConfigError).kayobeMessage).toBe(
      "Required network 'external_net' (External network) is not mapped to this host; Required external network 'external_net' is not mapped to this host",
    );
  });

  it('Given a compute host without provider networks, then the external network is not required', () => {
    expect(kollaNetworkHostVars(kayobeHost('cmp0', nets), ['internal_net', 'storage_net'], roles, { ...flags, groups: ['compute'] })).toEqual({
      network_interface: 'eth1',
      api_interface: 'eth1',
      storage_interface: 'eth2',
      swift_storage_interface: 'eth2',
      tunnel_interface: 'eth1',
    });
  });
});
